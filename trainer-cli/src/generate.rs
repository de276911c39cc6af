//! `trainer-cli generate`: a bundle → a MIDI file, with the piece's statistics.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use motif::corpus::load_file;
use motif::generate::Generator;
use motif::midi::{ReadOptions, WriteOptions, write_midi};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::IndexedRandom;

use crate::backend;
use crate::bundle_io;
use crate::cli::GenerateArgs;
use crate::fsutil::write_atomic;
use motif::stats::PieceStats;

/// Longest prime taken from a user's MIDI file (its last tokens).
const MAX_PRIME_TOKENS: usize = 256;

pub fn run(args: &GenerateArgs) -> Result<()> {
    if !(args.tempo > 0.0 && args.tempo <= 1000.0) {
        bail!("--tempo must be between 0 and 1000 BPM");
    }
    let backend = backend::select(args.backend)?;
    let (manifest, model) = bundle_io::load(&args.model, &backend.device)?;
    let vocab = manifest.vocabulary.clone();
    let prime: Vec<u32> = match args.prime.as_str() {
        "none" => Vec::new(),
        "random" => {
            let mut rng = ChaCha8Rng::seed_from_u64(args.sampling.seed);
            manifest
                .primes
                .choose(&mut rng)
                .map(|p| vocab.encode(&p.tokens))
                .unwrap_or_default()
        }
        file => {
            let score = load_file(file.as_ref(), &ReadOptions::default())?;
            let ids = vocab.encode(&manifest.tokenizer.encode(&score.notes));
            ids[ids.len().saturating_sub(MAX_PRIME_TOKENS)..].to_vec()
        }
    };
    let sampling = args.sampling.config();
    let mut generator = Generator::new(
        &manifest.tokenizer,
        vocab,
        &prime,
        sampling,
        args.sampling.seed,
    );
    let started = Instant::now();
    // Every note costs at most a few tokens; the cap only stops a model that emits no notes.
    generator
        .run_sync(&model, &backend.device, args.length, args.length * 16 + 64)
        .map_err(|e| anyhow::anyhow!("reading logits failed: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let tokens = generator.generated.len();
    let prime_notes = generator.prime_notes;
    let notes = generator.finish();
    let options = WriteOptions {
        bpm: args.tempo,
        track_name: format!("{} seed {}", manifest.style.id, args.sampling.seed),
        ..WriteOptions::default()
    };
    let bytes = write_midi(&notes, &options);
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
