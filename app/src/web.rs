//! Browser plumbing, with JS errors turned into readable strings here and nowhere else.

use std::cell::RefCell;

use js_sys::{Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, HtmlAnchorElement, MessageChannel, RequestCache, RequestInit, Response,
    Url,
};

/// The message of a JS exception (or its string form).
pub fn js_message(value: &JsValue) -> String {
    if let Some(message) = Reflect::get(value, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
    {
        return message;
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

fn window() -> web_sys::Window {
    web_sys::window().expect("the page runs in a browser window")
}

/// Where relative URLs point from: the page's address, also inside the worker (whose own
/// address is its script's).
pub fn set_base(base: String) {
    BASE.with(|b| *b.borrow_mut() = Some(base));
}

/// The page's address (what [`set_base`] is given).
pub fn page_base() -> String {
    window()
        .document()
        .and_then(|d| d.base_uri().ok().flatten())
        .unwrap_or_default()
}

fn absolute(url: &str) -> String {
    BASE.with(|b| {
        b.borrow()
            .as_ref()
            .and_then(|base| Url::new_with_base(url, base).ok())
            .map_or_else(|| url.to_string(), |u| u.href())
    })
}

/// GETs `url` (relative to the page) and returns the body; a non-2xx status is an error.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let init = RequestInit::new();
    // Bundles change when models are retrained: revalidate instead of trusting a stale copy.
    init.set_cache(RequestCache::NoCache);
    let global = js_sys::global();
    let request = match global.dyn_ref::<web_sys::Window>() {
        Some(window) => window.fetch_with_str_and_init(&absolute(url), &init),
        None => global
            .unchecked_ref::<web_sys::WorkerGlobalScope>()
            .fetch_with_str_and_init(&absolute(url), &init),
    };
    let response = JsFuture::from(request)
        .await
        .map_err(|e| format!("{url}: {}", js_message(&e)))?;
    let response: Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!(
            "{url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let buffer = response.array_buffer().map_err(|e| js_message(&e))?;
    let buffer = JsFuture::from(buffer)
        .await
        .map_err(|e| format!("{url}: {}", js_message(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

pub async fn fetch_text(url: &str) -> Result<String, String> {
    let bytes = fetch_bytes(url).await?;
    String::from_utf8(bytes).map_err(|_| format!("{url}: not UTF-8 text"))
}

/// The bytes of a file the user picked or dropped; it never leaves the page.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("{}: {}", file.name(), js_message(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Offers `bytes` as a download named `name`.
pub fn download(bytes: &[u8], name: &str, mime: &str) -> Result<(), String> {
    let parts = Array::new();
    parts.push(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| js_message(&e))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| js_message(&e))?;
    let document = window().document().ok_or("no document")?;
    let anchor: HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_message(&e))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // The click has started the download; the object URL can go once the event loop turns.
    let revoke = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    let _ = window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000);
    Ok(())
}

/// `?name=value` from the page's address.
pub fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Milliseconds from a monotonic clock (the page's or the worker's). The generation loop reads
/// it every step: the `Performance` object is looked up once, since each lookup costs JS-handle churn
/// that showed up as a third of a generation step in the browser profiler.
pub fn now_ms() -> f64 {
    PERFORMANCE.with(|p| p.as_ref().map(|p| p.now()).unwrap_or(0.0))
}

thread_local! {
    static PERFORMANCE: Option<web_sys::Performance> =
        Reflect::get(&js_sys::global(), &"performance".into())
            .ok()
            .and_then(|p| p.dyn_into().ok());
    static BASE: RefCell<Option<String>> = const { RefCell::new(None) };
    static YIELD_CHANNEL: RefCell<Option<MessageChannel>> = const { RefCell::new(None) };
}

/// Lets the browser paint and handle input, then resumes. A message-channel task, unlike
/// `setTimeout(0)`, is not clamped to 4 ms, so yielding often costs little generation speed.
pub async fn yield_now() {
    let promise = Promise::new(&mut |resolve, _reject| {
        YIELD_CHANNEL.with(|cell| {
            let mut cell = cell.borrow_mut();
            let channel =
                cell.get_or_insert_with(|| MessageChannel::new().expect("MessageChannel"));
            channel.port1().set_onmessage(Some(resolve.unchecked_ref()));
            let _ = channel.port2().post_message(&JsValue::NULL);
        });
    });
    let _ = JsFuture::from(promise).await;
}

/// Resumes after `ms` milliseconds (a `setTimeout`).
pub async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}
