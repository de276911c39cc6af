//! Which device runs the model. The CPU (a packed copy of the network, wasm SIMD) when WebGPU is
//! missing, fails, or is only a software fallback adapter — SwiftShader steps a small network
//! hundreds of times slower than wasm does. On a hardware adapter each style is loaded on both
//! and the faster, timed over a few steps, generates (see `loading::load_style`): at batch 1 a
//! small network can step faster on the CPU than a GPU answers one read-back.
//! `?backend=webgpu` or `?backend=cpu` forces one; `?backend=measure` measures even on a
//! fallback adapter. The CPU-only build of the engine (without the `webgpu` feature) says why
//! it runs on the CPU the same way.

use burn::prelude::Device;
#[cfg(feature = "webgpu")]
use burn::tensor::wgpu::wgpu::DeviceType;

use crate::gpu::{Probe, probe_adapter};
use crate::protocol::{BackendKind, Preference};

#[derive(Clone)]
pub struct Backend {
    pub kind: BackendKind,
    pub device: Device,
    /// Why this backend, and which adapter: shown next to the backend name.
    pub detail: String,
    /// WebGPU, but each style also times the CPU and runs on the faster.
    pub measure: bool,
}

fn cpu(detail: String) -> Backend {
    Backend {
        kind: BackendKind::Cpu,
        device: Device::flex(),
        detail,
        measure: false,
    }
}

#[cfg(feature = "webgpu")]
/// Takes WebGPU through burn and judges the adapter burn itself was given (on a machine with two
/// GPUs the one the page probed may not be it): a software one is left for the CPU unless asked
/// for. `probed` names it where the browser keeps the adapter's description to itself.
async fn webgpu(probed: &str, preference: Preference) -> Result<Backend, String> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| format!("WebGPU setup failed: {e}"))?;
    let info = setup.adapter.get_info();
    let name = if info.name.trim().is_empty() {
        probed.to_string()
    } else {
        info.name.clone()
    };
    if info.device_type == DeviceType::Cpu && preference == Preference::Auto {
        return Ok(cpu(format!(
            "CPU (wasm): the WebGPU adapter is a software fallback ({name}); add ?backend=webgpu to use it anyway"
        )));
    }
    Ok(Backend {
        kind: BackendKind::WebGpu,
        device,
        detail: format!("WebGPU on {name}"),
        measure: preference != Preference::WebGpu,
    })
}

/// `probed`: the page's probe of the adapter, where it made one (else the engine asks).
pub async fn choose(preference: Preference, probed: Option<Probe>) -> Backend {
    if preference == Preference::Cpu {
        return cpu("CPU (wasm), chosen by ?backend=cpu".into());
    }
    let probe = match probed {
        Some(probe) => probe,
        None => probe_adapter().await,
    };
    let adapter = match probe {
        Ok(adapter) => adapter,
        Err(reason) => return cpu(format!("CPU (wasm): {reason}")),
    };
    if adapter.fallback && preference == Preference::Auto {
        return cpu(format!(
            "CPU (wasm): the only WebGPU adapter is a software fallback ({}); add ?backend=webgpu to use it anyway",
            adapter.description
        ));
    }
    #[cfg(feature = "webgpu")]
    return match webgpu(&adapter.description, preference).await {
        Ok(backend) => backend,
        Err(reason) => cpu(format!("CPU (wasm): {reason}")),
    };
    // The page starts this build only where it will not use WebGPU (see `crate::engine`).
    #[cfg(not(feature = "webgpu"))]
    cpu(format!(
        "CPU (wasm): the CPU-only engine was started, WebGPU ({}) is not in it",
        adapter.description
    ))
}
