//! What WebGPU the browser offers, asked through JS: by the page, to choose which engine build
//! to start, and by the engine, before burn takes the device (see [`crate::backend`]).

use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::web::js_message;

/// The adapter `navigator.gpu.requestAdapter()` gives. The page sends what it found to the
/// engine it starts, which then need not ask again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdapterInfo {
    pub description: String,
    /// A software adapter (SwiftShader and the like): slower than wasm on the CPU.
    pub fallback: bool,
}

/// An adapter, or why there is none.
pub type Probe = Result<AdapterInfo, String>;

pub async fn probe_adapter() -> Probe {
    // The global scope's navigator: WebGPU is offered to workers as to pages.
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
