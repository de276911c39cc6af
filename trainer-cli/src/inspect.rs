//! `trainer-cli inspect`: per-file facts, a corpus summary, and a tokenizing benchmark.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use motif::corpus::{find_midi_files, load_file};
use motif::fidelity::round_trip;
use motif::midi::{ReadOptions, read_midi};
use motif::score::{Score, Timing};
use motif::tokens::MatchRate;
use motif::{Token, Tokenizer, TokenizerKind, Vocabulary};
use serde_json::json;

use crate::cli::InspectArgs;

/// The reference the benchmark is compared with: the report's music21 note extraction over the
/// 92 Final Fantasy files took 58 s at best on a machine like ours (see shared/docs/PEERS.md).
const MUSIC21_SECONDS_PER_FILE: f64 = 58.0 / 92.0;

pub fn run(args: &InspectArgs) -> Result<ExitCode> {
    let options = ReadOptions {
        include_drums: args.drums,
        sustain_pedal: !args.no_pedal,
    };
    if args.bench {
        return bench(args, &options);
    }
    let files = find_midi_files(&args.paths)?;
    let tokenizers = TokenizerKind::ALL.map(Tokenizer::new);
    let mut summary = Summary::default();
    let mut sequences: [Vec<Vec<Token>>; 2] = Default::default();
    for path in &files {
        let score = match load_file(path, &options) {
            Ok(score) => score,
            Err(err) => {
                eprintln!("{err}");
                summary.rejected += 1;
                continue;
            }
        };
        let tokens = tokenizers.clone().map(|t| t.encode(&score.notes));
        let short = tokens[1].len() <= args.seq_len;
        print_file(
            path,
            &score,
            &tokens,
            args.json,
            short.then_some(args.seq_len),
        );
        summary.short += usize::from(short);
        summary.add(&score, &tokens);
        for (all, file_tokens) in sequences.iter_mut().zip(tokens) {
            all.push(file_tokens);
        }
        summary.scores.push(score);
    }
    summary.seq_len = args.seq_len;
    summary.finish(&tokenizers, &sequences, args.min_count);
    summary.print(args.json);
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn timing_text(timing: Timing) -> String {
    match timing {
        Timing::Ppq { ticks_per_beat } => format!("ppq {ticks_per_beat}"),
        Timing::Smpte {
            fps,
            ticks_per_frame,
        } => format!("smpte {fps}fps×{ticks_per_frame}"),
    }
}

/// `short`: the window length the file's timed tokens do not fill.
fn print_file(
    path: &Path,
    score: &Score,
    tokens: &[Vec<Token>; 2],
    json: bool,
    short: Option<usize>,
) {
    let info = &score.info;
    if json {
        let line = json!({
            "path": path,
            "format": info.format,
            "tracks": info.tracks,
            "timing": info.timing,
            "tempo_changes": info.tempo_changes,
            "initial_bpm": info.tempo_map.initial_bpm(),
            "notes": score.notes.len(),
            "length_beats": info.length_beats,
            "length_seconds": info.length_seconds,
            "drum_notes_skipped": info.drum_notes_skipped,
            "damaged_tracks": info.damaged_tracks,
            "tokens": { "seed": tokens[0].len(), "timed": tokens[1].len() },
            "shorter_than_window": short.is_some(),
        });
        println!("{line}");
        return;
    }
    let mut warnings = String::new();
    if info.damaged_tracks > 0 {
        warnings += &format!(
            "  ({} damaged track(s): kept the notes before the damage)",
            info.damaged_tracks
        );
    }
    if info.drum_notes_skipped > 0 {
        warnings += &format!("  ({} drum notes left out)", info.drum_notes_skipped);
    }
    if let Some(seq_len) = short {
        warnings += &format!(
            "  (shorter than one training window of {seq_len} timed tokens: training skips it)"
        );
    }
    println!(
        "{}: format {} | {} tracks | {} | {} tempo changes | {} notes | {:.1} beats, {:.1} s | tokens seed {} timed {}{}",
        path.display(),
        info.format,
        info.tracks,
        timing_text(info.timing),
        info.tempo_changes,
        score.notes.len(),
        info.length_beats,
        info.length_seconds,
        tokens[0].len(),
        tokens[1].len(),
        warnings,
    );
}

#[derive(Default)]
struct Summary {
    ok: usize,
    rejected: usize,
    /// Files too short for one training window.
    short: usize,
    seq_len: usize,
    notes: usize,
    seconds: f64,
    tokens: [usize; 2],
    scores: Vec<Score>,
    /// (kind, full vocabulary size, size with the cut-off, share of tokens known, round trip)
    per_tokenizer: Vec<(TokenizerKind, usize, usize, f64, MatchRate)>,
    min_count: u64,
}

impl Summary {
    fn add(&mut self, score: &Score, tokens: &[Vec<Token>; 2]) {
        self.ok += 1;
        self.notes += score.notes.len();
        self.seconds += score.info.length_seconds;
        for (total, t) in self.tokens.iter_mut().zip(tokens) {
            *total += t.len();
        }
    }

    fn finish(
        &mut self,
        tokenizers: &[Tokenizer; 2],
        sequences: &[Vec<Vec<Token>>; 2],
        min_count: u64,
    ) {
        self.min_count = min_count;
        for (tokenizer, seqs) in tokenizers.iter().zip(sequences) {
            let slices = || seqs.iter().map(Vec::as_slice);
            let full = Vocabulary::build(slices(), 1);
            let cut = Vocabulary::build(slices(), min_count);
            let total: u64 = cut.counts().iter().sum();
            let known = if total == 0 {
                1.0
            } else {
                1.0 - cut.counts()[0] as f64 / total as f64
            };
            let mut rate = MatchRate::default();
            for score in &self.scores {
                rate.add(round_trip(tokenizer, Some(&cut), &score.notes));
            }
            self.per_tokenizer
                .push((tokenizer.kind(), full.len(), cut.len(), known, rate));
        }
    }

    fn print(&self, json: bool) {
        if json {
            let tokenizers: serde_json::Map<String, serde_json::Value> = self
                .per_tokenizer
                .iter()
                .zip(self.tokens)
                .map(|((kind, full, cut, known, rate), tokens)| {
                    let value = json!({
                        "tokens": tokens,
                        "vocabulary": full,
                        "vocabulary_min_count": cut,
                        "known_token_share": known,
                        "round_trip_onset_match": rate.onset_rate(),
                        "round_trip_exact_match": rate.exact_rate(),
                    });
                    (kind.to_string(), value)
                })
                .collect();
            let line = json!({ "summary": {
                "files_ok": self.ok,
                "files_rejected": self.rejected,
                "files_shorter_than_window": self.short,
                "window": self.seq_len,
                "notes": self.notes,
                "seconds": self.seconds,
                "min_count": self.min_count,
                "tokenizers": tokenizers,
            }});
            println!("{line}");
            return;
        }
        println!();
        println!(
            "{} files read, {} rejected | {} notes | {:.1} minutes of music",
            self.ok,
            self.rejected,
            self.notes,
            self.seconds / 60.0
        );
        if self.short > 0 {
            println!(
                "{} file(s) shorter than one training window of {} timed tokens: training skips them",
                self.short, self.seq_len
            );
        }
        for ((kind, full, cut, known, rate), tokens) in self.per_tokenizer.iter().zip(self.tokens) {
            println!(
                "{kind:>5}: {tokens} tokens | vocabulary {full} ({cut} seen ≥{} times, covering {:.2}% of tokens) | round trip: pitch+onset {:.2}%, +duration {:.2}%",
                self.min_count,
                known * 100.0,
                rate.onset_rate() * 100.0,
                rate.exact_rate() * 100.0,
            );
        }
    }
}

/// Reads every file once, then times parse + both tokenizers over the bytes in memory.
fn bench(args: &InspectArgs, options: &ReadOptions) -> Result<ExitCode> {
    let tokenizers = TokenizerKind::ALL.map(Tokenizer::new);
    println!("parse + tokenize (seed and timed), one thread, bytes already in memory:");
    let mut any_rejected = false;
    for root in &args.paths {
        let files: Vec<(PathBuf, Vec<u8>)> = find_midi_files(std::slice::from_ref(root))?
            .into_iter()
            .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
            .collect();
        let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
        let mut passes = 0u32;
        let mut tokens = 0usize;
        let start = Instant::now();
        while passes == 0 || start.elapsed().as_secs_f64() < args.bench_seconds {
            tokens = 0;
            for (_, data) in &files {
                match read_midi(data, options) {
                    Ok(score) => {
                        tokens += tokenizers
                            .iter()
                            .map(|t| t.encode(&score.notes).len())
                            .sum::<usize>()
                    }
                    Err(_) => any_rejected = true,
                }
            }
            passes += 1;
        }
        let per_pass = start.elapsed().as_secs_f64() / f64::from(passes);
        let files_per_s = files.len() as f64 / per_pass;
        println!(
            "{}: {} files, {:.2} MB, {} tokens | {:.2} ms per pass ({passes} passes) | {:.0} files/s, {:.1} MB/s | {:.0}× music21's {:.2} s/file",
            root.display(),
            files.len(),
            bytes as f64 / 1e6,
            tokens,
            per_pass * 1e3,
            files_per_s,
            bytes as f64 / 1e6 / per_pass,
            files_per_s * MUSIC21_SECONDS_PER_FILE,
            MUSIC21_SECONDS_PER_FILE,
        );
    }
    Ok(if any_rejected {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
