// Starts the CPU-only engine worker (the `motif-engine-cpu` binary, built beside this file as
// motif-engine-cpu.js and motif-engine-cpu_bg.wasm): the page picks it where WebGPU would not
// be used. A failed start is reported the way the engine reports a failed job.
import init from './motif-engine-cpu.js';

init().catch((error) => self.postMessage(JSON.stringify({
  Failed: { job: 0, message: `the engine could not start: ${error}` },
})));
