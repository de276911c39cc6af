//! `--backend auto|wgpu|cpu`: where tensors live.

use anyhow::{Result, bail};
use burn::prelude::Device;
use burn::tensor::wgpu::wgpu::DeviceType;
use clap::ValueEnum;

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
    /// What was picked, in words, for logs and manifests.
    pub description: String,
}

pub fn select(choice: BackendChoice) -> Result<Backend> {
    let cpu = |why: &str| Backend {
        device: Device::flex(),
        description: format!("cpu (flex){why}"),
    };
    match choice {
        BackendChoice::Cpu => Ok(cpu("")),
        BackendChoice::Wgpu => match Device::wgpu_options().init_with_setup() {
            Ok((device, setup)) => {
                let info = setup.adapter.get_info();
                Ok(Backend {
                    device,
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
