//! A corpus folder → token-id sequences for training and validation.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use motif::corpus::{find_midi_files, load_file};
use motif::data::split_pieces;
use motif::midi::ReadOptions;
use motif::{Token, Tokenizer, Vocabulary};

pub struct Prepared {
    pub vocab: Vocabulary,
    pub train: Vec<Vec<u32>>,
    pub validation: Vec<Vec<u32>>,
    /// File names (relative to the data folder) of the training pieces, aligned with `train`.
    pub train_names: Vec<String>,
    pub validation_names: Vec<String>,
    pub files: usize,
    pub rejected: usize,
    /// Each training piece's tokens, for cutting primes.
    pub train_tokens: Vec<Vec<Token>>,
}

/// Reads every MIDI file under `dir` (a bad file costs one line on stderr, never the run),
/// tokenizes, splits by file, and builds the vocabulary from the training files, unless one is
/// given (a resumed run keeps the vocabulary it started with).
pub fn prepare(
    dir: &Path,
    tokenizer: &Tokenizer,
    vocab: Option<Vocabulary>,
    min_count: u64,
    validation_fraction: f64,
    seed: u64,
) -> Result<Prepared> {
    if !dir.is_dir() {
        bail!(
            "data folder {} does not exist; pass --data with a folder of .mid files",
            dir.display()
        );
    }
    let files = find_midi_files(&[dir.to_path_buf()])?;
    let mut pieces: Vec<(PathBuf, Vec<Token>)> = Vec::new();
    let mut rejected = 0;
    for path in &files {
        match load_file(path, &ReadOptions::default()) {
            Ok(score) if score.notes.is_empty() => {
                eprintln!("{}: no notes (skipped)", path.display());
                rejected += 1;
            }
            Ok(score) => pieces.push((path.clone(), tokenizer.encode(&score.notes))),
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
    let (train_ids, validation_ids) = split_pieces(pieces.len(), validation_fraction, seed);
    let vocab = vocab.unwrap_or_else(|| {
        Vocabulary::build(train_ids.iter().map(|&i| pieces[i].1.as_slice()), min_count)
    });
    let encode = |ids: &[usize]| {
        ids.iter()
            .map(|&i| vocab.encode(&pieces[i].1))
            .collect::<Vec<_>>()
    };
    let name = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
    Ok(Prepared {
        train: encode(&train_ids),
        validation: encode(&validation_ids),
        train_names: train_ids.iter().map(|&i| name(&pieces[i].0)).collect(),
        validation_names: validation_ids.iter().map(|&i| name(&pieces[i].0)).collect(),
        train_tokens: train_ids.iter().map(|&i| pieces[i].1.clone()).collect(),
        files: files.len(),
        rejected,
        vocab,
    })
}
