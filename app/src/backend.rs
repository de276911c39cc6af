//! Which device runs the model. The CPU (a packed copy of the network, wasm SIMD) when WebGPU is
//! missing, fails, or is only a software fallback adapter — SwiftShader steps a small network
//! hundreds of times slower than wasm does. On a hardware adapter each style is loaded on both
//! and the faster, timed over a few steps, generates (see `loading::load_style`): at batch 1 a
//! small network can step faster on the CPU than a GPU answers one read-back.
//! `?backend=webgpu` or `?backend=cpu` forces one; `?backend=measure` measures even on a
//! fallback adapter.

use burn::prelude::Device;
use burn::tensor::wgpu::wgpu::DeviceType;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::protocol::{BackendKind, Preference};
use crate::web::js_message;

#[derive(Clone)]
pub struct Backend {
    pub kind: BackendKind,
    pub device: Device,
    /// Why this backend, and which adapter: shown next to the backend name.
    pub detail: String,
    /// WebGPU, but each style also times the CPU and runs on the faster.
    pub measure: bool,
}

/// What the browser's WebGPU adapter is, asked through JS before burn takes the device.
struct AdapterInfo {
    description: String,
    fallback: bool,
}

async fn probe_adapter() -> Result<AdapterInfo, String> {
    // The worker's navigator: WebGPU is offered to workers as to pages.
    let navigator =
        Reflect::get(&js_sys::global(), &"navigator".into()).map_err(|e| js_message(&e))?;
    let gpu = Reflect::get(&navigator, &"gpu".into()).map_err(|e| js_message(&e))?;
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU".into());
    }
    let request: Function = Reflect::get(&gpu, &"requestAdapter".into())
        .map_err(|e| js_message(&e))?
        .dyn_into()
        .map_err(|_| "navigator.gpu.requestAdapter is not a function")?;
    let promise: Promise = request
        .call0(&gpu)
        .map_err(|e| js_message(&e))?
        .dyn_into()
        .map_err(|_| "requestAdapter did not return a promise")?;
    let adapter = JsFuture::from(promise).await.map_err(|e| js_message(&e))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("WebGPU offers no adapter".into());
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let text = |key: &str| {
        Reflect::get(&info, &key.into())
            .ok()
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
    };
    // Newer browsers report the fallback flag on the adapter's info, older ones on the adapter.
    let fallback = [&info, &adapter].iter().any(|object| {
        Reflect::get(object, &"isFallbackAdapter".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    });
    let description = [text("vendor"), text("architecture"), text("description")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(AdapterInfo {
        description: if description.is_empty() {
            "unnamed adapter".into()
        } else {
            description
        },
        fallback,
    })
}

fn cpu(detail: String) -> Backend {
    Backend {
        kind: BackendKind::Cpu,
        device: Device::flex(),
        detail,
        measure: false,
    }
}

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

pub async fn choose(preference: Preference) -> Backend {
    if preference == Preference::Cpu {
        return cpu("CPU (wasm), chosen by ?backend=cpu".into());
    }
    let adapter = match probe_adapter().await {
        Ok(adapter) => adapter,
        Err(reason) => return cpu(format!("CPU (wasm): {reason}")),
    };
    if adapter.fallback && preference == Preference::Auto {
        return cpu(format!(
            "CPU (wasm): the only WebGPU adapter is a software fallback ({}); add ?backend=webgpu to use it anyway",
            adapter.description
        ));
    }
    match webgpu(&adapter.description, preference).await {
        Ok(backend) => backend,
        Err(reason) => cpu(format!("CPU (wasm): {reason}")),
    }
}
