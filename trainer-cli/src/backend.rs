//! `--backend auto|wgpu|cpu`: where tensors live.

use anyhow::{Result, bail};
use burn::prelude::Device;
use burn::tensor::DeviceKind;
use burn::tensor::wgpu::wgpu::DeviceType;
use clap::ValueEnum;
use motif::generate::Generator;
use motif::model::{MusicModel, PackedModel};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// A real GPU through wgpu when one is present, else the CPU.
    Auto,
    /// wgpu (Vulkan, Metal or DX12), even on a software adapter.
    Wgpu,
    /// burn's `flex` CPU backend.
    Cpu,
}

pub struct Backend {
    pub device: Device,
    /// Generation then steps the packed CPU copy of the network, as the page's CPU path does.
    pub cpu: bool,
    /// What was picked, in words, for logs and manifests.
    pub description: String,
}

pub fn select(choice: BackendChoice) -> Result<Backend> {
    let mut backend = select_device(choice)?;
    if cfg!(feature = "fusion") && !backend.cpu {
        backend.description.push_str(", +fusion");
    }
    Ok(backend)
}

fn select_device(choice: BackendChoice) -> Result<Backend> {
    let cpu = |why: &str| Backend {
        device: Device::flex(),
        cpu: true,
        description: format!("cpu (flex){why}"),
    };
    match choice {
        BackendChoice::Cpu => Ok(cpu("")),
        BackendChoice::Wgpu => match Device::wgpu_options().init_with_setup() {
            Ok((device, setup)) => {
                let info = setup.adapter.get_info();
                Ok(Backend {
                    device,
                    cpu: false,
                    description: format!(
                        "wgpu: {} ({:?}, {:?})",
                        info.name, info.device_type, info.backend
                    ),
                })
            }
            Err(err) => bail!("no GPU for --backend wgpu ({err}); use --backend cpu"),
        },
        BackendChoice::Auto => match Device::wgpu_options().init_with_setup() {
            Ok((device, setup)) => {
                let info = setup.adapter.get_info();
                if matches!(
                    info.device_type,
                    DeviceType::DiscreteGpu | DeviceType::IntegratedGpu
                ) {
                    Ok(Backend {
                        device,
                        cpu: false,
                        description: format!("wgpu: {} ({:?})", info.name, info.device_type),
                    })
                } else {
                    Ok(cpu(&format!(
                        ", the only GPU adapter is {} ({:?})",
                        info.name, info.device_type
                    )))
                }
            }
            Err(_) => Ok(cpu(", no GPU adapter found")),
        },
    }
}

impl Backend {
    /// `count` devices of this backend, ready for training, for data parallelism (`train
    /// --devices N`): the CPU shares its cores among the shards' threads; wgpu takes the first
    /// `count` discrete GPUs when there are several, and says how many it found when there are
    /// too few. The first one holds the model.
    pub fn training_devices(&self, count: usize) -> Result<Vec<Device>> {
        let devices = if count <= 1 {
            vec![self.device.clone()]
        } else if self.cpu {
            vec![self.device.clone(); count]
        } else {
            (0..count)
                .map(|index| {
                    Device::wgpu_options()
                        .device_kind(DeviceKind::DiscreteGpu(index))
                        .init()
                        .map_err(|err| {
                            anyhow::anyhow!(
                                "--devices {count}: discrete GPU {index} is not there ({err}); found {index}"
                            )
                        })
                })
                .collect::<Result<_>>()?
        };
        Ok(devices
            .into_iter()
            .map(|device| device.autodiff())
            .collect())
    }

    /// What trains, in words: the backend, and the shard count when there are several.
    pub fn training_description(&self, devices: u16) -> String {
        match devices {
            1 => self.description.clone(),
            n => format!("{} ×{n} (data parallel)", self.description),
        }
    }
}

/// How generation steps the network: the packed CPU step (the page's CPU engine, the same
/// notes for the same seed) on the CPU, burn's tensors on a GPU.
pub enum Stepper<'a> {
    Packed(Box<PackedModel>),
    Tensors(&'a MusicModel, &'a Device),
}

impl<'a> Stepper<'a> {
    pub fn new(model: &'a MusicModel, backend: &'a Backend) -> Self {
        if backend.cpu {
            Stepper::Packed(Box::new(PackedModel::new(model)))
        } else {
            Stepper::Tensors(model, &backend.device)
        }
    }

    /// Generates until `notes` new notes or `max_tokens` tokens.
    pub fn run(&self, generator: &mut Generator, notes: usize, max_tokens: usize) -> Result<()> {
        match self {
            Stepper::Packed(packed) => generator.run_packed(packed, notes, max_tokens),
            Stepper::Tensors(model, device) => generator
                .run_sync(model, device, notes, max_tokens)
                .map_err(|e| anyhow::anyhow!("reading logits failed: {e}"))?,
        }
        Ok(())
    }
}
