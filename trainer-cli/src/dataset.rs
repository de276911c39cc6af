//! A corpus folder → token-id sequences for training and validation.

use anyhow::{Result, bail};
use motif::corpus::find_midi_files;
use motif::data::{Pieces, Split, split_by_content, split_pieces};
use motif::meter::MetricClock;
use motif::{Token, Vocabulary};

use crate::recipe::Recipe;
use crate::token_cache::{self, TokenCorpus};

pub struct Prepared {
    pub vocab: Vocabulary,
    pub train: Pieces,
    pub validation: Pieces,
    /// File names (relative to the data folder) of the training pieces, aligned with `train`.
    pub train_names: Vec<String>,
    pub validation_names: Vec<String>,
    pub files: usize,
    pub rejected: usize,
    /// SHA-256 over every file's name and bytes: the same folder contents, the same value.
    pub fingerprint: String,
    /// The tokenized corpus, and which of its pieces are the training ones (aligned with `train`).
    corpus: TokenCorpus,
    train_pieces: Vec<usize>,
    steps_per_beat: u16,
}

impl Prepared {
    /// The first `limit` tokens of training piece `i`, for cutting primes.
    pub fn train_tokens(&self, i: usize, limit: usize) -> Vec<Token> {
        self.corpus.tokens(self.train_pieces[i], limit)
    }

    /// Where training piece `i`'s tokens start in its bar.
    pub fn train_clock(&self, i: usize) -> MetricClock {
        self.corpus.pieces[self.train_pieces[i]].clock(self.steps_per_beat)
    }

    /// How many tokens training piece `i` has, as tokenized (before the vocabulary).
    pub fn train_token_len(&self, i: usize) -> usize {
        self.corpus.pieces[self.train_pieces[i]].len()
    }

    /// How often each token occurs in the training pieces.
    pub fn train_token_counts(&self) -> Vec<(&Token, u64)> {
        self.corpus.counts(&self.train_pieces)
    }
}

/// Reads every MIDI file under the recipe's data folder (a bad file costs one line on stderr,
/// never the run; see [`token_cache`] for the parallel reading and the cache), splits by file,
/// and builds the vocabulary from the training files (with their transpositions when the recipe
/// augments), unless one is given (a resumed run keeps the vocabulary it started with). Pieces
/// too short for one window are named on stderr.
pub fn prepare(recipe: &Recipe, vocab: Option<Vocabulary>) -> Result<Prepared> {
    let dir = recipe.data.as_path();
    if !dir.is_dir() {
        bail!(
            "data folder {} does not exist; pass --data with a folder of .mid files",
            dir.display()
        );
    }
    let started = std::time::Instant::now();
    let files = find_midi_files(&[dir.to_path_buf()])?;
    let corpus = token_cache::load(dir, &files, &recipe.tokenizer, &recipe.read_options())?;
    eprintln!("corpus: {}", corpus.origin);
    let rejected = corpus.rejected.len();
    if corpus.pieces.is_empty() {
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
        Split::Shuffle => {
            split_pieces(corpus.pieces.len(), recipe.validation_fraction, recipe.seed)
        }
        Split::Content => {
            let hashes: Vec<u64> = corpus.pieces.iter().map(|p| p.content_hash).collect();
            split_by_content(&hashes, recipe.validation_fraction, recipe.seed)
        }
    };
    let vocab = vocab.unwrap_or_else(|| {
        Vocabulary::from_counts(
            corpus.counts(&train_ids),
            recipe.min_count,
            recipe.transpose_range(),
        )
    });
    let steps_per_beat = recipe.tokenizer.steps_per_beat();
    let uses_meter = recipe.model.meter_steps_per_beat.is_some();
    // Each distinct token is encoded once (a rare one may become several ids), then pieces are
    // spelled from the table.
    let table_ids: Vec<Vec<u32>> = corpus
        .table
        .iter()
        .map(|token| vocab.encode(std::slice::from_ref(token)))
        .collect();
    // Positions follow the ids, not the raw tokens: a rare shift encodes as several known ones.
    let encode = |files: &[usize]| {
        let ids: Vec<Vec<u32>> = files
            .iter()
            .map(|&i| {
                corpus
                    .indices(i)
                    .flat_map(|k| table_ids[k].iter().copied())
                    .collect()
            })
            .collect();
        let meter = if uses_meter {
            files
                .iter()
                .zip(&ids)
                .map(|(&i, ids)| {
                    corpus.pieces[i]
                        .clock(steps_per_beat)
                        .positions(ids.iter().map(|&id| vocab.token(id)))
                })
                .collect()
        } else {
            Vec::new()
        };
        Pieces { ids, meter }
    };
    let names = |files: &[usize]| -> Vec<String> {
        files
            .iter()
            .map(|&i| corpus.pieces[i].name.clone())
            .collect()
    };
    let prepared = Prepared {
        train: encode(&train_ids),
        validation: encode(&validation_ids),
        train_names: names(&train_ids),
        validation_names: names(&validation_ids),
        files: files.len(),
        rejected,
        vocab,
        fingerprint: corpus.fingerprint.clone(),
        corpus,
        train_pieces: train_ids,
        steps_per_beat,
    };
    eprintln!(
        "corpus: ready in {:.2} s: {} training and {} held-out pieces, {} + {} ids",
        started.elapsed().as_secs_f64(),
        prepared.train.len(),
        prepared.validation.len(),
        prepared.train.tokens(),
        prepared.validation.tokens()
    );
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
