//! The page's wasm (`motif-app`): the interface only. The model runs in the engine worker
//! (`src/bin/engine.rs`), a second wasm, so this one stays small and starts fast.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(motif_app::App);
}
