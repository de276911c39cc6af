//! `trainer-cli generate`: a bundle → a MIDI file, with the piece's statistics.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use motif::corpus::load_file;
use motif::midi::ReadOptions;
use motif::piece::{PieceRequest, Start};
use motif::stats::PieceStats;

use crate::backend;
use crate::bundle_io;
use crate::cli::GenerateArgs;
use crate::fsutil::write_atomic;

pub fn run(args: &GenerateArgs) -> Result<()> {
    if !(args.tempo > 0.0 && args.tempo <= 1000.0) {
        bail!("--tempo must be between 0 and 1000 BPM");
    }
    let start = match args.prime.as_str() {
        "none" => Start::Nothing,
        "random" => Start::CorpusExcerpt,
        file => {
            let options = ReadOptions {
                sustain_pedal: !args.no_pedal,
                ..ReadOptions::default()
            };
            let score = load_file(file.as_ref(), &options)?;
            Start::from_score(score).map_err(|e| anyhow::anyhow!("{file}: {e}"))?
        }
    };
    let backend = backend::select(args.backend)?;
    let (manifest, model) = bundle_io::load(&args.model, &backend.device)?;
    let request = PieceRequest {
        notes: args.length,
        sampling: args.sampling.config(&manifest)?,
        seed: args.sampling.seed,
        variation: args.variation,
        start,
        bpm: args.tempo,
    };
    let stepper = backend::Stepper::new(&model, &backend);
    let mut generator = request.generator(&manifest);
    let started = Instant::now();
    stepper.run(&mut generator, request.notes, request.token_budget())?;
    let seconds = started.elapsed().as_secs_f64();
    let tokens = generator.generated.len();
    let prime_notes = generator.prime_notes;
    let notes = generator.finish();
    let bytes = request.midi(&manifest.style.id, &notes);
    write_atomic(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let stats = PieceStats::of(&notes[prime_notes.min(notes.len())..]);
    println!(
        "wrote {}: {} notes ({} from the prime), {:.1} beats = {:.1} s at {} BPM",
        args.out.display(),
        notes.len(),
        prime_notes,
        stats.beats,
        stats.beats * 60.0 / args.tempo,
        args.tempo
    );
    println!(
        "generated {tokens} tokens in {:.3} s ({:.0} notes/s, {:.2} ms per token) on {}",
        seconds,
        (notes.len() - prime_notes) as f64 / seconds,
        seconds * 1e3 / tokens.max(1) as f64,
        backend.description
    );
    println!("{}", stats.summary());
    Ok(())
}
