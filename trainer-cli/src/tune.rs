//! `trainer-cli tune`: the style's default sampling settings, chosen by measurement. Each
//! candidate generates the same seeds; the one whose pieces lie nearest the corpus (density,
//! note length, onset gap, polyphony, beat placement, restated figures, pitch classes) and
//! never loops longer than the corpus does becomes the bundle's default. Restated figures weigh
//! double, and where the corpus restates more than the bar (at most 0.85 of its 4-onset
//! figures distinct), a candidate above the bar is ruled out as a loop is: a piece that never
//! restates a motif is what the issue measured as the music's main fault.
//!
//! Given the other styles' corpora (`--rival`), a candidate whose pieces' pitch classes lie
//! nearer one of them than the style's own corpus is ruled out as a loop is: a Beethoven
//! model whose pieces sound in Final Fantasy's keys is not a Beethoven model, however close
//! its rhythm. Nor is a candidate whose notes or onset gaps are more than 15 % longer or shorter
//! than the corpus's, the pace the issue asks of every style.
//!
//! Each setting is tried with temperature and top-p shaping every token but note lengths, and
//! shaping the pitches only (rhythm and loudness drawn as trained): a cold temperature keeps a
//! style in its keys, but sharpened, the rhythm of some styles stiffens and their chords thicken.
//!
//! The pace memory's weight is not searched: it is the one that best predicts the style's
//! held-out files.

use anyhow::{Context, Result, bail};
use motif::Tokenizer;
use motif::bundle::{MANIFEST_FILE, Manifest};
use motif::sample::SamplingConfig;
use motif::stats::PieceStats;

use crate::backend;
use crate::bundle_io;
use crate::cli::TuneArgs;
use crate::eval::{
    PACE_WEIGHTS, Predicted, best_of, corpus_stats, generated_stats, held_out_ids, load_corpus,
    longest_repeat, mean, pooled, rival_pitch_classes,
};
use crate::fsutil::{read_json, write_json};

const TEMPERATURES: [f32; 4] = [0.7, 0.8, 0.9, 1.0];
const TOP_PS: [f32; 2] = [0.9, 1.0];
/// Motif-memory weights tried (below 0.6 it restated almost nothing: measured on Final Fantasy,
/// distinct 4-onset figures 0.95–0.99 at 0.3–0.7, 0.81 at 0.9).
const MEMORY_WEIGHTS: [f32; 4] = [0.0, 0.6, 0.8, 0.9];
/// Added to a candidate whose pieces repeat one onset longer than any corpus piece: a loop
/// disqualifies, whatever else is close.
const LOOP_PENALTY: f64 = 10.0;
/// Pieces should restate figures: at most this share of their 4-onset figures distinct (the
/// corpora: 0.54–0.99).
const MAX_DISTINCT_4GRAMS: f64 = 0.85;
/// Added to a candidate whose pieces restate less than that, in a style whose corpus restates
/// more. A corpus above the bar (jazz solos: 0.99, the chorales: 0.86) asks no more of its
/// pieces than it does itself, and [`distance`] already counts the gap to it: ruling on the
/// last hundredth would rank candidates by noise.
const RESTATEMENT_PENALTY: f64 = 10.0;
/// How much more the restatement gap counts in [`distance`] than the other figures.
const RESTATEMENT_WEIGHT: f64 = 2.0;
/// Added to a candidate whose pooled pitch classes lie nearer a rival corpus than its own.
const RIVAL_PENALTY: f64 = 10.0;
/// Added to a candidate whose mean note length or onset gap lies further than
/// [`TIMING_TOLERANCE`] from the corpus's: the bar for a style's pace, ruled on as loops
/// and rival keys are (where every candidate misses, the nearest still wins).
const TIMING_PENALTY: f64 = 10.0;
const TIMING_TOLERANCE: f64 = 0.15;
/// How many of the best candidates `--confirm` measures again.
const CONFIRMED: usize = 5;

pub fn run(args: &TuneArgs) -> Result<()> {
    let backend = backend::select(args.backend)?;
    let (mut manifest, model) = bundle_io::load(&args.model, &backend.device)?;
    let pieces = load_corpus(&args.data, &manifest.read_options())?;
    let corpus = corpus_stats(&pieces, &manifest.tokenizer);
    if corpus.is_empty() {
        bail!("no usable MIDI files in {}", args.data.display());
    }
    // Generated notes are played at the loudness the corpus's performers use in each bucket.
    if let Tokenizer::Timed(config) = &mut manifest.tokenizer
        && config.velocity_buckets > 0
    {
        let before = config.velocity_levels.clone();
        config.velocity_levels =
            config.measured_levels(pieces.iter().flat_map(|(_, score)| &score.notes));
        println!(
            "velocity each loudness bucket plays at (the corpus's mean in it): {:?}{}",
            config.velocity_levels,
            if before.is_empty() {
                " (was the buckets' centres)".to_string()
            } else {
                format!(" (was {before:?})")
            }
        );
    }
    if args.loudness_only {
        return write_manifest(args, &manifest);
    }
    // The pace memory is part of the model of the music, so its weight is the one that best
    // predicts the held-out files (nats per note), not one more knob for the statistics below.
    let (held_out, _) = held_out_ids(&manifest, &pieces);
    let seq_len = manifest.training.seq_len.max(2);
    let paced = Predicted::held_out(&model, &manifest, &held_out, seq_len, &backend.device)
        .paced_nats_per_note(&manifest.vocabulary, &held_out, seq_len, &PACE_WEIGHTS);
    let (best_weight, nats) = best_of(&paced);
    println!(
        "pace memory: weight {best_weight} predicts the held-out files best ({nats:.4} nats per note; {:.4} without)",
        paced[0].1
    );
    let pace_memory = args.pace_memory.unwrap_or(best_weight);
    if let Some(fixed) = args.pace_memory {
        println!("pace memory: weight {fixed}, as --pace-memory asks");
    }
    let own_pitch_classes = pooled(&corpus);
    let rivals = rival_pitch_classes(&args.rival, &manifest)?;
    println!(
        "{}: {} pieces of {} notes per setting against {} corpus pieces",
        manifest.style.id,
        args.pieces,
        args.length,
        corpus.len()
    );
    println!(
        "{:>5} {:>5} {:>4} {:>7} | {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>4} {:>6} {:>6} | {:>6}",
        "temp",
        "top-p",
        "mem",
        "shaped",
        "n/beat",
        "length",
        "gap",
        "poly",
        "beat",
        "4-gram",
        "loop",
        "pc",
        "rival",
        "score"
    );
    let corpus_loop = longest_repeat(&corpus);
    // The last two columns: pitch-class distance to the own corpus and to the nearest rival.
    let show = |label: [&str; 4],
                stats: &[PieceStats],
                longest: usize,
                pc: [&str; 2],
                score: &str| {
        println!(
            "{:>5} {:>5} {:>4} {:>7} | {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>4} {:>6} {:>6} | {score:>6}",
            label[0],
            label[1],
            label[2],
            label[3],
            mean(stats, |s| s.notes_per_beat),
            mean(stats, |s| s.mean_duration),
            mean(stats, |s| s.mean_onset_gap),
            mean(stats, |s| s.polyphony),
            mean(stats, |s| s.on_beat),
            mean(stats, |s| s.distinct_4grams),
            longest,
            pc[0],
            pc[1],
        )
    };
    show(["corpus", "", "", ""], &corpus, corpus_loop, ["", ""], "");
    let stepper = backend::Stepper::new(&model, &backend);
    // Generates `pieces` pieces with `sampling`, prints its row and returns its score.
    let measure = |sampling: &SamplingConfig, pieces: usize| -> Result<f64> {
        let seeds = 1..1 + pieces as u64;
        let stats = generated_stats(&manifest, &stepper, sampling, seeds, args.length)?;
        let longest = longest_repeat(&stats);
        let keys = KeyNearness::of(&pooled(&stats), &own_pitch_classes, &rivals);
        let score = distance(&stats, &corpus, keys.own)
            + if restates_too_little(&stats, &corpus) {
                RESTATEMENT_PENALTY
            } else {
                0.0
            }
            + if longest > corpus_loop {
                LOOP_PENALTY
            } else {
                0.0
            }
            + if keys.nearer_a_rival() {
                RIVAL_PENALTY
            } else {
                0.0
            }
            + if off_pace(&stats, &corpus) {
                TIMING_PENALTY
            } else {
                0.0
            };
        show(
            [
                &sampling.temperature.to_string(),
                &sampling.top_p.to_string(),
                &sampling.motif_memory.to_string(),
                shaped_name(sampling),
            ],
            &stats,
            longest,
            [
                &format!("{:.3}", keys.own),
                &keys.rival.map_or(String::new(), |r| format!("{r:.3}")),
            ],
            &format!("{score:.3}"),
        );
        Ok(score)
    };
    let mut scored: Vec<(f64, SamplingConfig)> = Vec::new();
    for &temperature in &TEMPERATURES {
        for &top_p in &TOP_PS {
            for &motif_memory in &MEMORY_WEIGHTS {
                for pitches_only in [false, true] {
                    // Untempered and untruncated, both ways draw alike.
                    if pitches_only && temperature == 1.0 && top_p == 1.0 {
                        continue;
                    }
                    let sampling = SamplingConfig {
                        temperature,
                        top_p,
                        motif_memory,
                        pace_memory,
                        pitches_only,
                        ..SamplingConfig::default()
                    };
                    scored.push((measure(&sampling, args.pieces)?, sampling));
                }
            }
        }
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    if args.confirm > args.pieces {
        // Scores of a few pieces are noisy (a piece's key or note lengths can swing a pooled
        // figure), so the leaders are measured again over more seeds before one is chosen.
        scored.truncate(CONFIRMED);
        println!(
            "the best {} again over {} pieces:",
            scored.len(),
            args.confirm
        );
        for (score, sampling) in &mut scored {
            *score = measure(sampling, args.confirm)?;
        }
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let best = scored.into_iter().next();
    let (score, chosen) = best.context("no candidate settings")?;
    println!(
        "chosen: temperature {}, top-p {}, motif memory {}, pace memory {}, shaping {} (score {score:.3})",
        chosen.temperature,
        chosen.top_p,
        chosen.motif_memory,
        chosen.pace_memory,
        shaped_name(&chosen)
    );
    manifest.sampling = Some(chosen);
    write_manifest(args, &manifest)
}

/// Writes the bundle's manifest, and its sampling into each of its earlier epochs' manifests:
/// the page keeps its settings when a visitor moves between epochs, so `generate` on a
/// snapshot must start from the same ones.
fn write_manifest(args: &TuneArgs, manifest: &Manifest) -> Result<()> {
    if !args.dry_run {
        let path = args.model.join(MANIFEST_FILE);
        write_json(&path, manifest)?;
        println!("wrote {}", path.display());
        for snapshot in &manifest.snapshots {
            let path = args.model.join(&snapshot.path).join(MANIFEST_FILE);
            let mut earlier: Manifest = read_json(&path)?;
            if earlier.sampling != manifest.sampling {
                earlier.sampling = manifest.sampling.clone();
                write_json(&path, &earlier)?;
                println!("wrote the same sampling into {}", path.display());
            }
        }
    }
    Ok(())
}

/// Pitch-class distances of generated pieces (pooled) to the style's corpus and to the nearest
/// rival corpus, if any were given.
struct KeyNearness {
    own: f64,
    rival: Option<f64>,
}

impl KeyNearness {
    fn of(generated: &PieceStats, own: &PieceStats, rivals: &[PieceStats]) -> Self {
        Self {
            own: generated.pitch_class_distance(own),
            rival: rivals
                .iter()
                .map(|rival| generated.pitch_class_distance(rival))
                .min_by(f64::total_cmp),
        }
    }

    fn nearer_a_rival(&self) -> bool {
        self.rival.is_some_and(|rival| rival < self.own)
    }
}

/// What a candidate's temperature and top-p shape, as its row and `--shaped` name it.
fn shaped_name(sampling: &SamplingConfig) -> &'static str {
    if sampling.pitches_only {
        "pitches"
    } else {
        "all"
    }
}

/// Whether the pieces restate fewer of their 4-onset figures than [`MAX_DISTINCT_4GRAMS`] asks
/// of a style whose corpus restates more.
fn restates_too_little(generated: &[PieceStats], corpus: &[PieceStats]) -> bool {
    let distinct = |s: &PieceStats| s.distinct_4grams;
    mean(corpus, distinct) <= MAX_DISTINCT_4GRAMS && mean(generated, distinct) > MAX_DISTINCT_4GRAMS
}

/// Whether the pieces' mean note length or onset gap misses the corpus's by more than
/// [`TIMING_TOLERANCE`].
fn off_pace(generated: &[PieceStats], corpus: &[PieceStats]) -> bool {
    [
        |s: &PieceStats| s.mean_duration,
        |s: &PieceStats| s.mean_onset_gap,
    ]
    .into_iter()
    .any(|field| {
        let (g, c) = (mean(generated, field), mean(corpus, field));
        c > 0.0 && (g / c - 1.0).abs() > TIMING_TOLERANCE
    })
}

/// How far generated pieces lie from the corpus: log-ratios of the timing and texture means,
/// plus the gaps in beat placement and (counted twice: motifs are what listeners miss most)
/// restated figures, plus the pooled pitch-class distance (from [`KeyNearness`]).
fn distance(generated: &[PieceStats], corpus: &[PieceStats], pitch_class_distance: f64) -> f64 {
    let ratio = |field: fn(&PieceStats) -> f64| {
        let (g, c) = (mean(generated, field), mean(corpus, field));
        if g > 0.0 && c > 0.0 {
            (g / c).ln().abs()
        } else {
            1.0
        }
    };
    let gap = |field: fn(&PieceStats) -> f64| (mean(generated, field) - mean(corpus, field)).abs();
    ratio(|s| s.notes_per_beat)
        + ratio(|s| s.mean_duration)
        + ratio(|s| s.mean_onset_gap)
        + ratio(|s| s.polyphony)
        + gap(|s| s.on_beat)
        + RESTATEMENT_WEIGHT * gap(|s| s.distinct_4grams)
        + pitch_class_distance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(shares: &[(usize, f64)]) -> PieceStats {
        let mut stats = PieceStats::default();
        for &(pitch_class, share) in shares {
            stats.pitch_classes[pitch_class] = share;
        }
        stats
    }

    #[test]
    fn pieces_in_a_rivals_keys_are_ruled_out() {
        let (c_major, f_sharp_major) = (
            histogram(&[(0, 0.3), (4, 0.3), (7, 0.4)]),
            histogram(&[(6, 0.3), (10, 0.3), (1, 0.4)]),
        );
        let mostly_c = histogram(&[(0, 0.35), (4, 0.3), (7, 0.3), (6, 0.05)]);
        let judged = KeyNearness::of(&mostly_c, &f_sharp_major, std::slice::from_ref(&c_major));
        assert!(
            judged.nearer_a_rival(),
            "{} vs {:?}",
            judged.own,
            judged.rival
        );
        let judged = KeyNearness::of(&mostly_c, &c_major, &[f_sharp_major]);
        assert!(!judged.nearer_a_rival());
        assert!(!KeyNearness::of(&mostly_c, &c_major, &[]).nearer_a_rival());
    }

    #[test]
    fn pieces_off_the_corpus_pace_by_more_than_15_percent_are_ruled_out() {
        let pace = |length: f64, gap: f64| PieceStats {
            mean_duration: length,
            mean_onset_gap: gap,
            ..PieceStats::default()
        };
        let corpus = [pace(1.0, 0.5), pace(1.4, 0.7)];
        assert!(!off_pace(&[pace(1.05, 0.55)], &corpus));
        assert!(!off_pace(&[pace(1.36, 0.68)], &corpus));
        assert!(off_pace(&[pace(1.0, 0.6)], &corpus), "notes 17 % short");
        assert!(off_pace(&[pace(1.2, 0.7)], &corpus), "gaps 17 % long");
    }

    #[test]
    fn pieces_that_restate_less_than_the_bar_are_ruled_out() {
        let restating = |distinct_4grams: f64| PieceStats {
            distinct_4grams,
            ..PieceStats::default()
        };
        // A corpus that restates much: the bar is 0.85.
        let motivic = [restating(0.5), restating(0.6)];
        assert!(!restates_too_little(&[restating(0.84)], &motivic));
        assert!(restates_too_little(
            &[restating(0.84), restating(0.88)],
            &motivic
        ));
        // A corpus that restates less than the bar: the rule asks nothing of its pieces.
        let soloing = [restating(0.99), restating(0.99)];
        assert!(!restates_too_little(&[restating(1.0)], &soloing));
    }
}
