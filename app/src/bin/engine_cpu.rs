//! The CPU-only engine worker's wasm (`motif-engine-cpu`): the same worker as `motif-engine`
//! without WebGPU, started by `app/engine-cpu-worker.js` where the browser has no hardware
//! WebGPU adapter (see `motif_app::engine`).

fn main() {
    console_error_panic_hook::set_once();
    motif_app::worker::run();
}
