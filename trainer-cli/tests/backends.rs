//! The same weights give the same logits on the GPU path (wgpu; Mesa's lavapipe on a machine
//! without a GPU) and on the CPU path (flex), from int8-stored weights.

use burn::prelude::*;
use motif::bundle::{WeightStorage, dequantize, load_weights};
use motif::model::{CellKind, ModelConfig};

/// The wgpu device, initialised once for all tests of this file (a second `init` of the default
/// device is refused while the first is alive).
fn wgpu_device() -> Option<Device> {
    static DEVICE: std::sync::OnceLock<Option<Device>> = std::sync::OnceLock::new();
    let device = DEVICE.get_or_init(|| match Device::wgpu_options().init() {
        Ok(device) => Some(device),
        Err(err) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI installs a Vulkan driver (mesa-vulkan-drivers): {err}"
            );
            None
        }
    });
    if device.is_none() {
        eprintln!("no wgpu adapter here; skipping (install mesa-vulkan-drivers)");
    }
    device.clone()
}

#[test]
fn wgpu_and_cpu_logits_agree() {
    let Some(wgpu) = wgpu_device() else { return };
    let cpu = Device::flex();
    let ids: Vec<i64> = (0..16).map(|i| (i * 5 + 1) % 40).collect();
    for cell in [CellKind::Lstm, CellKind::Gru] {
        let config = ModelConfig::new(40)
            .with_cell(cell)
            .with_layers(2)
            .with_hidden(32)
            .with_embedding(16)
            .with_dense(24)
            .with_meter_steps_per_beat(Some(12));
        cpu.seed(9);
        // Int8 storage, positions included: the bundle format that loads differently from f16.
        let weights = WeightStorage::Int8.encode(config.init(&cpu)).unwrap();
        let weights = dequantize(&config, weights).unwrap();
        let logits = |device: &Device| {
            let model = load_weights(&config, weights.clone(), device).unwrap();
            let input =
                Tensor::<2, Int>::from_data(TensorData::new(ids.clone(), [1, ids.len()]), device);
            model
                .forward(input)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let (on_cpu, on_gpu) = (logits(&cpu), logits(&wgpu));
        let diff = on_cpu
            .iter()
            .zip(&on_gpu)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-4, "{cell}: wgpu and cpu differ by {diff}");
    }
}

/// Decoding on the device (sampling on the GPU, ids read back in chunks) draws the same ids
/// whether it reads them back every token or every 16, and the same as on the CPU.
#[test]
fn device_decoding_reads_the_same_ids_in_chunks_on_wgpu_and_cpu() {
    use motif::device_decode::decode_on_device;
    let Some(wgpu) = wgpu_device() else { return };
    let cpu = Device::flex();
    let config = ModelConfig::new(40)
        .with_cell(CellKind::Gru)
        .with_layers(2)
        .with_hidden(32)
        .with_embedding(16)
        .with_dense(24);
    cpu.seed(4);
    let weights = WeightStorage::F32.encode(config.init(&cpu)).unwrap();
    let ids = |device: &Device, chunk: usize| {
        let model = load_weights(&config, weights.clone(), device).unwrap();
        decode_on_device(&model, device, 3, 48, chunk, 1.0, 11).unwrap()
    };
    let per_token = ids(&wgpu, 1);
    assert_eq!(ids(&wgpu, 16), per_token);
    assert_eq!(ids(&cpu, 16), per_token);
}
