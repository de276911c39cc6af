//! `trainer-cli eval`: held-out loss and perplexity, and the statistics of generated pieces
//! next to the corpus's own.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use burn::prelude::Device;
use motif::bundle::Manifest;
use motif::corpus::{find_midi_files, load_file};
use motif::data::{Pieces, windows};
use motif::generate::Generator;
use motif::memory::replay;
use motif::meter::MetricClock;
use motif::midi::ReadOptions;
use motif::model::MusicModel;
use motif::pace;
use motif::piece::{PieceRequest, Start};
use motif::sample::SamplingConfig;
use motif::scale::{KeyScale, Scale};
use motif::stats::PieceStats;
use motif::vocab::UNKNOWN_ID;
use motif::{Note, Score};
use motif::{Token, TokenKind, Tokenizer, Vocabulary};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use crate::backend::{self, Stepper};
use crate::bundle_io;
use crate::cli::EvalArgs;
use crate::train::{held_out_nll_carried, visit_held_out};

pub fn run(args: &EvalArgs) -> Result<()> {
    let backend = backend::select(args.backend)?;
    let (manifest, model) = bundle_io::load(&args.model, &backend.device)?;
    let vocab = &manifest.vocabulary;
    let pieces = load_corpus(&args.data, &manifest.read_options())?;
    if pieces.is_empty() {
        bail!("no usable MIDI files in {}", args.data.display());
    }
    let (ids, which) = held_out_ids(&manifest, &pieces);
    let steps_per_beat = manifest.tokenizer.steps_per_beat();
    let seq_len = manifest.training.seq_len.max(2);
    // One pass over the held-out windows serves the losses, the note lengths and the pace.
    let predicted = Predicted::held_out(&model, &manifest, &ids, seq_len, &backend.device);
    let nll = predicted.nll();
    let losses = KindLosses::of(vocab, nll.clone());
    println!(
        "{}: {} pieces scored ({which}); per-token loss {:.4} nats, perplexity {:.2}",
        manifest.style.id,
        ids.ids.len(),
        losses.per_token(),
        losses.per_token().exp()
    );
    losses.print();
    let carried = KindLosses::of(
        vocab,
        held_out_nll_carried(&model, &ids, seq_len, &backend.device),
    );
    println!(
        "with the state carried through each piece (as generation runs): per-token loss {:.4}, nats per note {:.4}",
        carried.per_token(),
        carried.nats_per_note()
    );
    let sampling = args.sampling.config(&manifest)?;
    print_memory_losses(&manifest, &ids, seq_len, &nll, sampling.motif_memory);
    let (expected, actual) = predicted.mean_durations();
    let beats = f64::from(steps_per_beat.max(1));
    println!(
        "note length on the held-out files, each predicted from the true past: the network expects {:.3} beats, the files hold {:.3}",
        expected / beats,
        actual / beats,
    );
    let mut weights = PACE_WEIGHTS.to_vec();
    if !weights.contains(&sampling.pace_memory) {
        weights.push(sampling.pace_memory);
    }
    let paced = predicted.paced_nats_per_note(vocab, &ids, seq_len, &weights);
    let (best_weight, best) = best_of(&paced);
    let at = |weight: f32| {
        paced
            .iter()
            .find(|(w, _)| *w == weight)
            .map_or(f64::NAN, |p| p.1)
    };
    println!(
        "pace memory: nats per note without it {:.4}, at weight {} (the sampling's) {:.4}, at {best_weight} (the best) {best:.4}",
        at(0.0),
        sampling.pace_memory,
        at(sampling.pace_memory),
    );

    if args.pieces == 0 {
        // Means over no pieces would print as zeros and NaN ranges beside the corpus's.
        println!("no pieces generated (--pieces 0): the held-out figures above are the evaluation");
        return Ok(());
    }
    let seeds = args.sampling.seed..args.sampling.seed + args.pieces as u64;
    let generated = generated_stats(
        &manifest,
        &Stepper::new(&model, &backend),
        &sampling,
        seeds,
        args.length,
    )?;
    let corpus = corpus_stats(&pieces, &manifest.tokenizer);
    println!(
        "sampling: temperature {}, top-k {}, top-p {}, shaping {}",
        sampling.temperature,
        sampling.top_k,
        sampling.top_p,
        if sampling.pitches_only {
            "the pitches only"
        } else {
            "all tokens but note lengths"
        }
    );
    print_comparison(&generated, &corpus, args.length);
    let generated_pitch_classes = pooled(&generated);
    for (dir, rival) in args
        .rival
        .iter()
        .zip(rival_pitch_classes(&args.rival, &manifest)?)
    {
        let [low, high] = resampled_range(&generated, &rival);
        println!(
            "{:<28} {:>12.3}   (to {}; {low:.3}–{high:.3})",
            "pitch-class distance, rival",
            generated_pitch_classes.pitch_class_distance(&rival),
            dir.display()
        );
    }
    let as_played: Vec<PieceStats> = pieces
        .iter()
        .map(|(_, s)| PieceStats::of(&s.notes))
        .collect();
    println!(
        "{:<28} {:>12} {:>12.3}   (the corpus before the tokenizer's grid and note cap)",
        "mean note length as played",
        "",
        mean(&as_played, |s| s.mean_duration)
    );
    let share = |stats: &[PieceStats], key: Option<KeyScale>| {
        mean(stats, |s| match key {
            Some(key) => key.share_of_histogram(&s.pitch_classes),
            None => KeyScale::best_fit_share(Scale::Major, &s.pitch_classes),
        })
    };
    match sampling.scale {
        Some(key) => println!(
            "{:<28} {:>12.3} {:>12.3}   (constrained to {key})",
            "pitches in the scale",
            share(&generated, Some(key)),
            share(&corpus, Some(key))
        ),
        None => println!(
            "{:<28} {:>12.3} {:>12.3}   (each piece's best-fitting major scale: how tonal)",
            "pitches in a major scale",
            share(&generated, None),
            share(&corpus, None)
        ),
    }
    Ok(())
}

/// Every readable MIDI file under `data` with its name relative to it (a bad file costs one
/// line on stderr).
pub fn load_corpus(data: &Path, read_options: &ReadOptions) -> Result<Vec<(String, Score)>> {
    let files = find_midi_files(&[data.to_path_buf()])?;
    let mut pieces = Vec::new();
    for path in &files {
        match load_file(path, read_options) {
            Ok(score) if !score.notes.is_empty() => {
                let name = path
                    .strip_prefix(data)
                    .unwrap_or(path)
                    .display()
                    .to_string();
                pieces.push((name, score));
            }
            Ok(_) => eprintln!("{}: no notes (skipped)", path.display()),
            Err(err) => eprintln!("{err} (skipped)"),
        }
    }
    Ok(pieces)
}

/// The pooled pitch classes of each `--rival` corpus, as the tokenizer writes it.
pub fn rival_pitch_classes(dirs: &[PathBuf], manifest: &Manifest) -> Result<Vec<PieceStats>> {
    dirs.iter()
        .map(|dir| {
            let stats = corpus_stats(
                &load_corpus(dir, &manifest.read_options())?,
                &manifest.tokenizer,
            );
            if stats.is_empty() {
                bail!("--rival {}: no usable MIDI files", dir.display());
            }
            Ok(pooled(&stats))
        })
        .collect()
}

/// Statistics of the corpus as the tokenizer writes it (onsets on its grid, notes cut at its
/// longest duration, long rests shortened), timed from the file's own bar lines: what a model
/// of these tokens can reproduce. A few pedalled notes held for many bars would otherwise set
/// the corpus's mean note length (under 1 % of Beethoven's notes, held past 8 beats, carry
/// almost half of it).
pub fn corpus_stats(pieces: &[(String, Score)], tokenizer: &Tokenizer) -> Vec<PieceStats> {
    pieces
        .iter()
        .map(|(_, score)| {
            let first = score
                .notes
                .iter()
                .map(|n| n.start)
                .fold(f64::INFINITY, f64::min);
            let steps = f64::from(tokenizer.steps_per_beat().max(1));
            let offset = (first * steps).round() / steps;
            let notes: Vec<Note> = tokenizer
                .decode(&tokenizer.encode(&score.notes))
                .into_iter()
                .map(|n| Note {
                    start: n.start + offset,
                    ..n
                })
                .collect();
            PieceStats::of(&notes)
        })
        .collect()
}

/// Pieces one core generates side by side on the packed step.
const PIECES_PER_PASS: usize = 8;

/// Statistics of one piece per seed, `length` notes each, started from the bundle's corpus
/// openings; onsets are timed from the bar the opening starts in.
pub fn generated_stats(
    manifest: &Manifest,
    stepper: &Stepper,
    sampling: &SamplingConfig,
    seeds: std::ops::Range<u64>,
    length: usize,
) -> Result<Vec<PieceStats>> {
    let steps_per_beat = f64::from(manifest.tokenizer.steps_per_beat().max(1));
    let request = |seed: u64| PieceRequest {
        notes: length,
        sampling: sampling.clone(),
        seed,
        variation: 0,
        start: Start::CorpusExcerpt,
        bpm: 120.0,
    };
    // The generated notes' figures, on the beat grid of the opening they continue.
    let stats_of = |generator: Generator, request: &PieceRequest| {
        let skip = generator.prime_notes;
        let offset = request.prime(manifest).1.time() as f64 / steps_per_beat;
        let notes: Vec<Note> = generator.finish()[skip..]
            .iter()
            .map(|n| Note {
                start: n.start + offset,
                ..*n
            })
            .collect();
        PieceStats::of(&notes)
    };
    match stepper {
        // Pieces run on every core, a few side by side per core over shared read-only weights
        // (one pass over the weights per step for all of them); `collect` keeps seed order, and
        // a seed gives the same piece either way.
        Stepper::Packed(packed) => {
            let seeds: Vec<u64> = seeds.collect();
            Ok(seeds
                .par_chunks(PIECES_PER_PASS)
                .flat_map_iter(|chunk| {
                    let requests: Vec<PieceRequest> = chunk.iter().map(|&s| request(s)).collect();
                    let mut generators: Vec<Generator> =
                        requests.iter().map(|r| r.generator(manifest)).collect();
                    // Every request asks for `length` notes, so they share one token budget.
                    let budget = requests[0].token_budget();
                    Generator::run_packed_together(&mut generators, packed, length, budget);
                    generators
                        .into_iter()
                        .zip(&requests)
                        .map(|(generator, request)| stats_of(generator, request))
                        .collect::<Vec<_>>()
                })
                .collect())
        }
        Stepper::Tensors(..) => seeds
            .map(|seed| {
                let request = request(seed);
                let mut generator = request.generator(manifest);
                stepper.run(&mut generator, request.notes, request.token_budget())?;
                Ok(stats_of(generator, &request))
            })
            .collect(),
    }
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

/// Held-out nats per note when the motif memory's proposal is mixed in (as sampling mixes it,
/// before temperature): at the sampling's weight and at the weight that predicts best. What the
/// held-out pieces' own past tells about their next token.
fn print_memory_losses(
    manifest: &Manifest,
    pieces: &Pieces,
    seq_len: usize,
    nll: &[(u32, f32)],
    sampling_weight: f32,
) {
    let vocab = &manifest.vocabulary;
    let replayed: Vec<Vec<Option<f64>>> = pieces
        .ids
        .iter()
        .enumerate()
        .map(|(k, piece)| {
            replay(
                &manifest.tokenizer,
                vocab,
                piece,
                pieces.meter.get(k).map(Vec::as_slice),
            )
        })
        .collect();
    // The targets held_out_nll scored, in its order.
    let targets = windows(&pieces.ids, seq_len, seq_len, 0)
        .into_iter()
        .flat_map(|w| (1..=seq_len).map(move |j| (w.piece, w.start + j)));
    let proposals: Vec<Option<f64>> = targets.map(|(piece, at)| replayed[piece][at]).collect();
    let covered = proposals.iter().filter(|p| p.is_some()).count();
    let mixed = |weight: f64| {
        let mixed_nll = nll
            .iter()
            .zip(&proposals)
            .map(|(&(id, nats), proposal)| match proposal {
                Some(p) => {
                    let model = f64::from(-nats).exp();
                    (id, -((1.0 - weight) * model + weight * p).ln() as f32)
                }
                None => (id, nats),
            })
            .collect();
        KindLosses::of(vocab, mixed_nll).nats_per_note()
    };
    let (best_weight, best) = (1..=9)
        .map(|tenth| f64::from(tenth) / 10.0)
        .map(|weight| (weight, mixed(weight)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0.0, f64::NAN));
    println!(
        "motif memory: proposes for {:.0}% of targets; nats per note with it at weight {} (the sampling's): {:.4}, at {best_weight} (the best): {best:.4}",
        100.0 * covered as f64 / proposals.len().max(1) as f64,
        sampling_weight,
        mixed(f64::from(sampling_weight)),
    );
}

/// The held-out files of `manifest`'s own corpus among `pieces` (all of them when none is: then
/// this is another corpus), as ids (and metric positions for a network that takes them), and
/// which it was.
pub fn held_out_ids(manifest: &Manifest, pieces: &[(String, Score)]) -> (Pieces, &'static str) {
    let vocab = &manifest.vocabulary;
    let held_out: Vec<&(String, Score)> = pieces
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
    let steps_per_beat = manifest.tokenizer.steps_per_beat();
    let mut ids = Pieces::default();
    for (_, score) in scored {
        let encoded = vocab.encode(&manifest.tokenizer.encode(&score.notes));
        if manifest.model.meter_steps_per_beat.is_some() {
            let mut clock = MetricClock::for_score(steps_per_beat, score);
            ids.meter
                .push(clock.positions(encoded.iter().map(|&id| vocab.token(id))));
        }
        ids.ids.push(encoded);
    }
    (ids, which)
}

/// Pace-memory weights `tune` chooses from by held-out nats per note.
pub const PACE_WEIGHTS: [f32; 8] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];

/// What the network predicted for each held-out target from the true past (fresh windows, the
/// targets of [`held_out_nll`](crate::train::held_out_nll), in its order).
pub struct Predicted {
    /// Target id, its log-probability, and the probability of its kind (duration, shift, ...).
    targets: Vec<(u32, f32, f64)>,
    /// Where the target is a duration: the length the network expects (over durations alone)
    /// and the file's, in grid steps.
    durations: Vec<(f64, f64)>,
}

impl Predicted {
    pub fn held_out(
        model: &MusicModel,
        manifest: &Manifest,
        ids: &Pieces,
        seq_len: usize,
        device: &Device,
    ) -> Self {
        let vocab = &manifest.vocabulary;
        let kinds: Vec<TokenKind> = vocab.tokens().iter().map(Token::kind).collect();
        let steps: Vec<Option<f64>> = vocab
            .tokens()
            .iter()
            .map(|token| match token {
                Token::Duration(steps) => Some(f64::from(*steps)),
                _ => None,
            })
            .collect();
        let mut predicted = Predicted {
            targets: Vec::new(),
            durations: Vec::new(),
        };
        visit_held_out(model, ids, seq_len, device, |target, row| {
            let kind = kinds[target as usize];
            let (mut kind_mass, mut length_mass, mut length_sum) = (0.0, 0.0, 0.0);
            for ((&log_p, k), steps) in row.iter().zip(&kinds).zip(&steps) {
                let p = f64::from(log_p).exp();
                if *k == kind {
                    kind_mass += p;
                }
                if let Some(steps) = steps {
                    length_mass += p;
                    length_sum += p * steps;
                }
            }
            predicted
                .targets
                .push((target, row[target as usize], kind_mass));
            if let Some(actual) = steps[target as usize] {
                predicted
                    .durations
                    .push((length_sum / length_mass.max(f64::MIN_POSITIVE), actual));
            }
        });
        predicted
    }

    /// (target id, nll) of every target: what [`held_out_nll`](crate::train::held_out_nll) gives, from the same pass.
    pub fn nll(&self) -> Vec<(u32, f32)> {
        self.targets
            .iter()
            .map(|&(id, log_p, _)| (id, -log_p))
            .collect()
    }

    /// Mean note length the network expects where a file holds a duration, and the files'
    /// own, in grid steps. Equal means short generated notes come from where free generation
    /// drifts, not from the network's calibration.
    pub fn mean_durations(&self) -> (f64, f64) {
        let count = self.durations.len().max(1) as f64;
        let (expected, actual) = self
            .durations
            .iter()
            .fold((0.0, 0.0), |(e, a), (de, da)| (e + de, a + da));
        (expected / count, actual / count)
    }

    /// Held-out nats per note with the pace memory mixed in at each weight, as generation mixes
    /// it (each piece's own lengths and gaps before the target).
    pub fn paced_nats_per_note(
        &self,
        vocab: &Vocabulary,
        ids: &Pieces,
        seq_len: usize,
        weights: &[f32],
    ) -> Vec<(f32, f64)> {
        let replayed: Vec<Vec<Option<f64>>> = ids
            .ids
            .iter()
            .map(|piece| pace::replay(vocab, piece))
            .collect();
        let shares: Vec<Option<f64>> = windows(&ids.ids, seq_len, seq_len, 0)
            .into_iter()
            .flat_map(|w| (1..=seq_len).map(move |j| (w.piece, w.start + j)))
            .map(|(piece, at)| replayed[piece][at])
            .collect();
        weights
            .iter()
            .map(|&weight| {
                let w = f64::from(weight);
                let nll = self
                    .targets
                    .iter()
                    .zip(&shares)
                    .map(|(&(id, log_p, kind_mass), share)| {
                        let p = f64::from(log_p).exp();
                        let mixed = match share {
                            Some(share) => (1.0 - w) * p + w * kind_mass * share,
                            None => p,
                        };
                        (id, -mixed.ln() as f32)
                    })
                    .collect();
                (weight, KindLosses::of(vocab, nll).nats_per_note())
            })
            .collect()
    }
}

/// The weight with the fewest nats, and its nats.
pub fn best_of(scored: &[(f32, f64)]) -> (f32, f64) {
    scored
        .iter()
        .copied()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0.0, f64::NAN))
}

/// The longest run of one repeated onset in any of the pieces.
pub fn longest_repeat(stats: &[PieceStats]) -> usize {
    stats.iter().map(|s| s.longest_repeat).max().unwrap_or(0)
}

/// "1×5, 2×3": how many pieces had each longest run of one repeated onset.
fn repeat_histogram(stats: &[PieceStats]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for s in stats {
        *counts.entry(s.longest_repeat).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(run, pieces)| format!("{run}×{pieces}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn mean(stats: &[PieceStats], field: impl Fn(&PieceStats) -> f64) -> f64 {
    stats.iter().map(field).sum::<f64>() / stats.len().max(1) as f64
}

/// The mean of `field` over pieces, each weighing as much as its `weight` (notes, gaps).
pub fn weighted(
    stats: &[PieceStats],
    field: impl Fn(&PieceStats) -> f64,
    weight: impl Fn(&PieceStats) -> usize,
) -> f64 {
    let total: usize = stats.iter().map(&weight).sum();
    stats
        .iter()
        .map(|s| field(s) * weight(s) as f64)
        .sum::<f64>()
        / total.max(1) as f64
}

/// The note-weighted pitch-class histogram of several pieces.
pub fn pooled(stats: &[PieceStats]) -> PieceStats {
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
    let rows: [Row; 8] = [
        ("notes per beat", |s| s.notes_per_beat),
        ("polyphony (notes/onset)", |s| s.polyphony),
        ("mean note length (beats)", |s| s.mean_duration),
        ("mean onset gap (beats)", |s| s.mean_onset_gap),
        ("longest repeated onset", |s| s.longest_repeat as f64),
        ("distinct 4-grams", |s| s.distinct_4grams),
        ("onsets on a beat", |s| s.on_beat),
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
    // Slow pieces hold few notes, so a mean over pieces weighs their long notes more than a
    // listener hears them; generated pieces all hold `length` notes. Final Fantasy's corpus:
    // 1.18 beats per piece, 1.07 per note.
    let per_note = |stats: &[PieceStats]| weighted(stats, |s| s.mean_duration, |s| s.notes);
    let per_gap = |stats: &[PieceStats]| {
        weighted(stats, |s| s.mean_onset_gap, |s| s.events.saturating_sub(1))
    };
    println!(
        "{:<28} {:>12.3} {:>12.3}   (over all notes, not pieces)",
        "note length, per note",
        per_note(generated),
        per_note(corpus)
    );
    println!(
        "{:<28} {:>12.3} {:>12.3}   (over all onsets, not pieces)",
        "onset gap, per onset",
        per_gap(generated),
        per_gap(corpus)
    );
    println!(
        "{:<28} {:>12} {:>12}   (per generated piece: {})",
        "longest repeat, max",
        longest_repeat(generated),
        longest_repeat(corpus),
        repeat_histogram(generated)
    );
    let corpus_pitch_classes = pooled(corpus);
    let distance = pooled(generated).pitch_class_distance(&corpus_pitch_classes);
    let [low, high] = resampled_range(generated, &corpus_pitch_classes);
    println!(
        "{:<28} {:>12.3}   (0 = same pitch-class histogram, 1 = disjoint; {low:.3}–{high:.3} in 90 % of resamples of the pieces)",
        "pitch-class distance", distance
    );
    let in_own_key = |stats: &[PieceStats]| -> Vec<PieceStats> {
        stats.iter().map(PieceStats::in_own_key).collect()
    };
    let (generated, corpus) = (in_own_key(generated), pooled(&in_own_key(corpus)));
    let distance = pooled(&generated).pitch_class_distance(&corpus);
    let [low, high] = resampled_range(&generated, &corpus);
    println!(
        "{:<28} {:>12.3}   (the same with each piece turned to its own key: harmony, not key choice; {low:.3}–{high:.3})",
        "scale-degree distance", distance
    );
}

/// The 5th and 95th percentiles of the pooled pitch-class distance over seeded resamples (with
/// replacement) of the generated pieces. Where a piece's key wanders, a pooled histogram of 20
/// pieces moves by 0.04 or more between seed blocks: this range says how far one figure can be
/// trusted, and whether two models' figures differ beyond it.
pub fn resampled_range(generated: &[PieceStats], corpus: &PieceStats) -> [f64; 2] {
    const RESAMPLES: usize = 200;
    if generated.is_empty() {
        return [f64::NAN; 2];
    }
    let mut rng = ChaCha8Rng::seed_from_u64(RESAMPLES as u64);
    let mut distances: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let sample: Vec<PieceStats> = (0..generated.len())
                .map(|_| generated[rng.random_range(0..generated.len())].clone())
                .collect();
            pooled(&sample).pitch_class_distance(corpus)
        })
        .collect();
    distances.sort_by(f64::total_cmp);
    [
        distances[RESAMPLES / 20],
        distances[RESAMPLES - 1 - RESAMPLES / 20],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(pitch_classes: &[usize]) -> PieceStats {
        let mut stats = PieceStats {
            notes: 100,
            ..PieceStats::default()
        };
        for &pc in pitch_classes {
            stats.pitch_classes[pc] = 1.0 / pitch_classes.len() as f64;
        }
        stats
    }

    #[test]
    fn the_resampled_range_shows_how_far_the_pieces_keys_spread() {
        let c_major = piece(&[0, 2, 4, 5, 7, 9, 11]);
        let f_sharp_major = piece(&[6, 8, 10, 11, 1, 3, 5]);
        // Pieces that all keep to the corpus's key: nothing to resample.
        let same = vec![c_major.clone(); 10];
        let [low, high] = resampled_range(&same, &c_major);
        assert!(low.abs() < 1e-9 && high.abs() < 1e-9, "{low} {high}");
        // Half of them wander off: the pooled figure is uncertain, and the range says so.
        let mixed: Vec<PieceStats> = (0..10)
            .map(|i| {
                if i % 2 == 0 {
                    c_major.clone()
                } else {
                    f_sharp_major.clone()
                }
            })
            .collect();
        let distance = pooled(&mixed).pitch_class_distance(&c_major);
        let [low, high] = resampled_range(&mixed, &c_major);
        assert!(low < distance && distance < high, "{low} {distance} {high}");
        assert!(high - low > 0.1, "{low} {high}");
    }
}
