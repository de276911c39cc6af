//! `trainer-cli eval`: held-out loss and perplexity, and the statistics of generated pieces
//! next to the corpus's own.

use anyhow::{Result, bail};
use motif::corpus::{find_midi_files, load_file};
use motif::midi::ReadOptions;
use motif::piece::{PieceRequest, Start};
use motif::stats::PieceStats;

use crate::backend;
use crate::bundle_io;
use crate::cli::EvalArgs;
use crate::train::validation_loss;

pub fn run(args: &EvalArgs) -> Result<()> {
    let backend = backend::select(args.backend)?;
    let (manifest, model) = bundle_io::load(&args.model, &backend.device)?;
    let vocab = &manifest.vocabulary;
    let files = find_midi_files(std::slice::from_ref(&args.data))?;
    let mut pieces = Vec::new();
    for path in &files {
        match load_file(path, &ReadOptions::default()) {
            Ok(score) if !score.notes.is_empty() => {
                let name = path
                    .strip_prefix(&args.data)
                    .unwrap_or(path)
                    .display()
                    .to_string();
                pieces.push((name, score));
            }
            Ok(_) => eprintln!("{}: no notes (skipped)", path.display()),
            Err(err) => eprintln!("{err} (skipped)"),
        }
    }
    if pieces.is_empty() {
        bail!("no usable MIDI files in {}", args.data.display());
    }
    // Score only the files the model never trained on, when this is its own corpus.
    let held_out: Vec<&(String, motif::Score)> = pieces
        .iter()
        .filter(|(name, _)| manifest.training.validation_pieces.contains(name))
        .collect();
    let (scored, which) = if held_out.is_empty() {
        (
            pieces.iter().collect::<Vec<_>>(),
            "all files given (none is among the model's held-out files)",
        )
    } else {
        (held_out, "the model's held-out files")
    };
    let ids: Vec<Vec<u32>> = scored
        .iter()
        .map(|(_, s)| vocab.encode(&manifest.tokenizer.encode(&s.notes)))
        .collect();
    let seq_len = manifest.training.seq_len.max(2);
    let loss = validation_loss(&model, &ids, seq_len, 32, &backend.device);
    println!(
        "{}: {} pieces scored ({which}); per-token loss {:.4} nats, perplexity {:.2}",
        manifest.style.id,
        scored.len(),
        loss,
        loss.exp()
    );

    let mut generated = Vec::new();
    for i in 0..args.pieces {
        let seed = args.sampling.seed + i as u64;
        let request = PieceRequest {
            notes: args.length,
            sampling: args.sampling.config(),
            seed,
            start: Start::CorpusExcerpt,
            bpm: 120.0,
        };
        let mut generator = request.generator(&manifest);
        generator
            .run_sync(
                &model,
                &backend.device,
                request.notes,
                request.token_budget(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let skip = generator.prime_notes;
        let notes = generator.finish();
        generated.push(PieceStats::of(&notes[skip.min(notes.len())..]));
    }
    let corpus: Vec<PieceStats> = pieces
        .iter()
        .map(|(_, s)| PieceStats::of(&s.notes))
        .collect();
    print_comparison(&generated, &corpus, args.length);
    Ok(())
}

fn mean(stats: &[PieceStats], field: impl Fn(&PieceStats) -> f64) -> f64 {
    stats.iter().map(field).sum::<f64>() / stats.len().max(1) as f64
}

/// The note-weighted pitch-class histogram of several pieces.
fn pooled(stats: &[PieceStats]) -> PieceStats {
    let mut out = PieceStats::default();
    let total: f64 = stats.iter().map(|s| s.notes as f64).sum();
    for s in stats {
        for (pc, share) in s.pitch_classes.iter().enumerate() {
            out.pitch_classes[pc] += share * s.notes as f64 / total.max(1.0);
        }
    }
    out
}

fn print_comparison(generated: &[PieceStats], corpus: &[PieceStats], length: usize) {
    println!(
        "{} generated pieces of {length} notes vs {} corpus pieces (means):",
        generated.len(),
        corpus.len()
    );
    println!("{:<28} {:>12} {:>12}", "", "generated", "corpus");
    type Row = (&'static str, fn(&PieceStats) -> f64);
    let rows: [Row; 7] = [
        ("notes per beat", |s| s.notes_per_beat),
        ("polyphony (notes/onset)", |s| s.polyphony),
        ("mean note length (beats)", |s| s.mean_duration),
        ("mean onset gap (beats)", |s| s.mean_onset_gap),
        ("longest repeated onset", |s| s.longest_repeat as f64),
        ("distinct 4-grams", |s| s.distinct_4grams),
        ("pitch span (semitones)", |s| {
            f64::from(s.highest_pitch) - f64::from(s.lowest_pitch)
        }),
    ];
    for (label, field) in rows {
        println!(
            "{label:<28} {:>12.3} {:>12.3}",
            mean(generated, field),
            mean(corpus, field)
        );
    }
    let distance = pooled(generated).pitch_class_distance(&pooled(corpus));
    println!(
        "{:<28} {:>12.3}   (0 = same pitch-class histogram, 1 = disjoint)",
        "pitch-class distance", distance
    );
}
