//! `trainer-cli eval`: held-out loss and perplexity, and the statistics of generated pieces
//! next to the corpus's own.

use anyhow::{Result, bail};
use motif::corpus::{find_midi_files, load_file};
use motif::midi::ReadOptions;
use motif::piece::{PieceRequest, Start};
use motif::stats::PieceStats;
use motif::vocab::UNKNOWN_ID;
use motif::{TokenKind, Vocabulary};

use crate::backend;
use crate::bundle_io;
use crate::cli::EvalArgs;
use crate::train::held_out_nll;

pub fn run(args: &EvalArgs) -> Result<()> {
    let backend = backend::select(args.backend)?;
    let (manifest, model) = bundle_io::load(&args.model, &backend.device)?;
    let vocab = &manifest.vocabulary;
    // Read files the way the model's corpus was read.
    let read_options = ReadOptions {
        sustain_pedal: manifest.training.sustain_pedal,
        ..ReadOptions::default()
    };
    let files = find_midi_files(std::slice::from_ref(&args.data))?;
    let mut pieces = Vec::new();
    for path in &files {
        match load_file(path, &read_options) {
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
    let losses = KindLosses::of(
        vocab,
        held_out_nll(&model, &ids, seq_len, 32, &backend.device),
    );
    println!(
        "{}: {} pieces scored ({which}); per-token loss {:.4} nats, perplexity {:.2}",
        manifest.style.id,
        scored.len(),
        losses.per_token(),
        losses.per_token().exp()
    );
    losses.print();

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

/// Held-out loss split by what each target token says, and per note over pitch + timing:
/// the figure that compares models whose token sets differ (with or without velocity, seed or
/// timed tokens).
#[derive(Default)]
struct KindLosses {
    /// (summed nats, targets) per kind, in `TokenKind::ALL` order.
    kinds: [(f64, usize); 5],
    /// Notes the scored pitch targets start.
    notes: usize,
}

impl KindLosses {
    fn of(vocab: &Vocabulary, nll: Vec<(u32, f32)>) -> Self {
        let mut out = KindLosses::default();
        for (target, nats) in nll {
            let token = vocab.token(target);
            let slot = TokenKind::ALL
                .iter()
                .position(|k| *k == token.kind())
                .expect("every kind is listed");
            out.kinds[slot].0 += f64::from(nats);
            out.kinds[slot].1 += 1;
            if target != UNKNOWN_ID {
                out.notes += token.note_count();
            }
        }
        out
    }

    fn known(&self) -> impl Iterator<Item = (TokenKind, f64, usize)> + '_ {
        TokenKind::ALL
            .iter()
            .zip(self.kinds)
            .filter(|(kind, _)| **kind != TokenKind::Unknown)
            .map(|(kind, (sum, count))| (*kind, sum, count))
    }

    /// Mean over known targets (`<unk>` is not scored, as in training).
    fn per_token(&self) -> f64 {
        let (sum, count) = self
            .known()
            .fold((0.0, 0), |(s, c), (_, sum, count)| (s + sum, c + count));
        sum / count as f64
    }

    fn nats_per_note(&self) -> f64 {
        let content: f64 = self
            .known()
            .filter(|(kind, _, _)| kind.is_note_content())
            .map(|(_, sum, _)| sum)
            .sum();
        content / self.notes as f64
    }

    fn print(&self) {
        let total: usize = self.kinds.iter().map(|k| k.1).sum();
        let unknown = TokenKind::ALL
            .iter()
            .position(|k| *k == TokenKind::Unknown)
            .map_or(0, |slot| self.kinds[slot].1);
        let parts: Vec<String> = self
            .known()
            .filter(|(_, _, count)| *count > 0)
            .map(|(kind, sum, count)| {
                format!(
                    "{} {:.3} ({:.0}%)",
                    kind.name(),
                    sum / count as f64,
                    100.0 * count as f64 / total.max(1) as f64
                )
            })
            .collect();
        println!(
            "loss per token kind (nats, share of targets): {}; <unk> targets not scored: {}",
            parts.join(", "),
            unknown
        );
        println!(
            "nats per note (pitch + timing tokens over {} notes): {:.4}",
            self.notes,
            self.nats_per_note()
        );
    }
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
