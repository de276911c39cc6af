//! A corpus folder → token-id sequences for training and validation.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use motif::corpus::{find_midi_files, parse_file, read_file};
use motif::data::{Pieces, Split, split_by_content, split_pieces};
use motif::meter::MetricClock;
use motif::{Token, Vocabulary};
use sha2::{Digest, Sha256};

use crate::recipe::Recipe;

pub struct Prepared {
    pub vocab: Vocabulary,
    pub train: Pieces,
    pub validation: Pieces,
    /// File names (relative to the data folder) of the training pieces, aligned with `train`.
    pub train_names: Vec<String>,
    pub validation_names: Vec<String>,
    pub files: usize,
    pub rejected: usize,
    /// Each training piece's tokens, for cutting primes, and where they start in the bar.
    pub train_tokens: Vec<Vec<Token>>,
    pub train_clocks: Vec<MetricClock>,
    /// SHA-256 over every file's name and bytes: the same folder contents, the same value.
    pub fingerprint: String,
}

/// Reads every MIDI file under the recipe's data folder (a bad file costs one line on stderr,
/// never the run), tokenizes, splits by file, and builds the vocabulary from the training files
/// (with their transpositions when the recipe augments), unless one is given (a resumed run
/// keeps the vocabulary it started with). Pieces too short for one window are named on stderr.
pub fn prepare(recipe: &Recipe, vocab: Option<Vocabulary>) -> Result<Prepared> {
    let dir = recipe.data.as_path();
    if !dir.is_dir() {
        bail!(
            "data folder {} does not exist; pass --data with a folder of .mid files",
            dir.display()
        );
    }
    let files = find_midi_files(&[dir.to_path_buf()])?;
    let name = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let options = recipe.read_options();
    let mut pieces: Vec<(PathBuf, Vec<Token>, MetricClock)> = Vec::new();
    let steps_per_beat = recipe.tokenizer.steps_per_beat();
    let mut content_hashes = Vec::new();
    let mut rejected = 0;
    let mut fingerprint = Sha256::new();
    for path in &files {
        // Each file is read once: its bytes feed the fingerprint, the split and the parser.
        let parsed = read_file(path).and_then(|bytes| {
            fingerprint.update(name(path).as_bytes());
            fingerprint.update((bytes.len() as u64).to_le_bytes());
            fingerprint.update(&bytes);
            let digest = Sha256::digest(&bytes);
            let content_hash = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
            Ok((parse_file(path, &bytes, &options)?, content_hash))
        });
        match parsed {
            Ok((score, _)) if score.notes.is_empty() => {
                eprintln!("{}: no notes (skipped)", path.display());
                rejected += 1;
            }
            Ok((score, content_hash)) => {
                let clock = MetricClock::for_score(steps_per_beat, &score);
                pieces.push((path.clone(), recipe.tokenizer.encode(&score.notes), clock));
                content_hashes.push(content_hash);
            }
            Err(err) => {
                eprintln!("{err} (skipped)");
                rejected += 1;
            }
        }
    }
    if pieces.is_empty() {
        bail!(
            "no usable MIDI files in {} ({} found, {rejected} rejected); point --data at a folder of .mid files",
            dir.display(),
            files.len()
        );
    }
    if rejected > 0 {
        eprintln!("skipped {rejected} of {} files", files.len());
    }
    let (train_ids, validation_ids) = match recipe.split {
        Split::Shuffle => split_pieces(pieces.len(), recipe.validation_fraction, recipe.seed),
        Split::Content => {
            split_by_content(&content_hashes, recipe.validation_fraction, recipe.seed)
        }
    };
    let vocab = vocab.unwrap_or_else(|| {
        Vocabulary::build_transposed(
            train_ids.iter().map(|&i| pieces[i].1.as_slice()),
            recipe.min_count,
            recipe.transpose_range(),
        )
    });
    let uses_meter = recipe.model.meter_steps_per_beat.is_some();
    // Positions follow the ids, not the raw tokens: a rare shift encodes as several known ones.
    let encode = |files: &[usize]| {
        let ids: Vec<Vec<u32>> = files.iter().map(|&i| vocab.encode(&pieces[i].1)).collect();
        let meter = if uses_meter {
            files
                .iter()
                .zip(&ids)
                .map(|(&i, ids)| {
                    pieces[i]
                        .2
                        .clone()
                        .positions(ids.iter().map(|&id| vocab.token(id)))
                })
                .collect()
        } else {
            Vec::new()
        };
        Pieces { ids, meter }
    };
    let prepared = Prepared {
        train: encode(&train_ids),
        validation: encode(&validation_ids),
        train_names: train_ids.iter().map(|&i| name(&pieces[i].0)).collect(),
        validation_names: validation_ids.iter().map(|&i| name(&pieces[i].0)).collect(),
        train_tokens: train_ids.iter().map(|&i| pieces[i].1.clone()).collect(),
        train_clocks: train_ids.iter().map(|&i| pieces[i].2.clone()).collect(),
        files: files.len(),
        rejected,
        vocab,
        fingerprint: fingerprint
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    report_short(
        "training",
        &prepared.train_names,
        &prepared.train.ids,
        recipe.seq_len,
    );
    report_short(
        "validation",
        &prepared.validation_names,
        &prepared.validation.ids,
        recipe.seq_len,
    );
    Ok(prepared)
}

/// A piece of `seq_len` tokens or fewer makes no window: say so instead of dropping it silently.
fn report_short(which: &str, names: &[String], pieces: &[Vec<u32>], seq_len: usize) {
    let short: Vec<String> = names
        .iter()
        .zip(pieces)
        .filter(|(_, ids)| ids.len() <= seq_len)
        .map(|(name, ids)| format!("{name} ({} tokens)", ids.len()))
        .collect();
    if !short.is_empty() {
        eprintln!(
            "{} {which} file(s) shorter than one window of {seq_len} tokens, not used: {}",
            short.len(),
            short.join(", ")
        );
    }
}
