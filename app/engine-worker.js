// Starts the engine worker (app/src/worker.rs). Trunk builds the `motif-engine` binary as
// motif-engine.js and motif-engine_bg.wasm beside this file; the page creates this script as a
// module worker. A failed start is reported the way the engine reports a failed job.
import init from './motif-engine.js';

init().catch((error) => self.postMessage(JSON.stringify({
  Failed: { job: 0, message: `the engine could not start: ${error}` },
})));
