//! The page's wasm (`motif-app`): the interface only. The model runs in the engine worker
//! (`src/bin/engine.rs`), a second wasm, so this one stays small and starts fast.

fn main() {
    console_error_panic_hook::set_once();
    // Mounted in a task of its own: compiling and starting the wasm, then building the page
    // in the same task, came to one main-thread task over 50 ms.
    wasm_bindgen_futures::spawn_local(async {
        motif_app::web::yield_now().await;
        leptos::mount::mount_to_body(motif_app::App);
    });
}
