//! `trainer-cli bench-decode`: per-token generation latency of shipped bundles on a backend, as
//! a native stand-in for the page on the same GPU. Three figures per bundle: the page's engine
//! (tuned sampling, motif memory included, one logits readback per token), and
//! [`motif::device_decode`] with one id readback per token and per `--chunk` tokens, which
//! separates what the network's step costs from what the readback costs.

use std::time::Instant;

use anyhow::{Result, anyhow};
use motif::device_decode::decode_on_device;
use motif::piece::{PieceRequest, Start};

use crate::backend;
use crate::bundle_io;
use crate::cli::BenchDecodeArgs;

/// Tokens run before any timing, so shader compilation and allocation are not counted.
const WARM_UP: usize = 32;

pub fn run(args: &BenchDecodeArgs) -> Result<()> {
    let backend = backend::select(args.backend)?;
    println!("bench-decode on {}", backend.description);
    for dir in &args.model {
        let (manifest, model) = bundle_io::load(dir, &backend.device)?;
        let request = PieceRequest {
            notes: usize::MAX / 32,
            sampling: manifest.sampling.clone().unwrap_or_default(),
            seed: 1,
            variation: 0,
            start: Start::CorpusExcerpt,
            bpm: 120.0,
        };
        let stepper = backend::Stepper::new(&model, &backend);
        let mut warm = request.generator(&manifest);
        stepper.run(&mut warm, usize::MAX, WARM_UP)?;
        let mut generator = request.generator(&manifest);
        let started = Instant::now();
        stepper.run(&mut generator, usize::MAX, args.tokens)?;
        let engine = started.elapsed().as_secs_f64() * 1e3 / generator.generated.len() as f64;

        let c = &manifest.model;
        print!(
            "{}: {} {}×{}: engine {engine:.3} ms/token",
            manifest.style.id,
            c.cell.name(),
            c.layers,
            c.hidden
        );
        if backend.cpu {
            // The CPU engine has no readback to save.
            println!();
            continue;
        }
        let first = generator.generated[0];
        let temperature = request.sampling.temperature;
        let timed = |chunk: usize| -> Result<f64> {
            decode_on_device(
                &model,
                &backend.device,
                first,
                WARM_UP,
                chunk,
                temperature,
                1,
            )
            .map_err(|e| anyhow!("reading ids failed: {e}"))?;
            let started = Instant::now();
            decode_on_device(
                &model,
                &backend.device,
                first,
                args.tokens,
                chunk,
                temperature,
                1,
            )
            .map_err(|e| anyhow!("reading ids failed: {e}"))?;
            Ok(started.elapsed().as_secs_f64() * 1e3 / args.tokens as f64)
        };
        let per_token = timed(1)?;
        let chunked = timed(args.chunk)?;
        println!(
            ", on-device sampling {per_token:.3} ms/token reading every id, {chunked:.3} reading every {} ({:.1}× faster than the engine)",
            args.chunk,
            engine / chunked
        );
    }
    Ok(())
}
