//! The engine worker's wasm (`motif-engine`): the page starts it in a dedicated worker through
//! `app/engine-worker.js`, and it holds the model from then on (see `motif_app::worker`).

fn main() {
    console_error_panic_hook::set_once();
    motif_app::worker::run();
}
