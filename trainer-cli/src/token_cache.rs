//! A corpus folder, tokenized once. Files are read, parsed and tokenized in parallel (rayon),
//! and every piece is kept as 16-bit indices into the corpus's table of distinct tokens. The
//! result is written to a cache file keyed by the files' names, sizes and modification times
//! and by the tokenizer settings; the next run on the same folder maps that file (memory-mapped,
//! so its pages are read on demand and never copied) instead of parsing a single MIDI file.

use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use anyhow::{Context, Result};
use memmap2::Mmap;
use motif::Token;
use motif::corpus::{parse_file, read_file};
use motif::meter::{MetricClock, TimeSignature};
use motif::midi::ReadOptions;
use motif::tokens::Tokenizer;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fsutil::write_atomic;

const MAGIC: &[u8; 8] = b"MOTIFTK1";
/// Cache files kept; the least recently used beyond these are removed.
const KEEP: usize = 16;
/// Files read and parsed in parallel at a time: bounds the bytes held while they are hashed in
/// order (the fingerprint is over the files in sorted order).
const CHUNK: usize = 256;

/// One usable file of the corpus.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CorpusPiece {
    /// Relative to the data folder.
    pub name: String,
    /// The first 8 bytes of the file's SHA-256, for splitting by content.
    pub content_hash: u64,
    pub signature: TimeSignature,
    /// Grid steps from the first bar line to the first onset, where the tokens start.
    pub start_step: u64,
    /// The piece's tokens in the corpus's index array.
    range: Range<usize>,
}

impl CorpusPiece {
    pub fn clock(&self, steps_per_beat: u16) -> MetricClock {
        MetricClock::new(steps_per_beat, self.signature, self.start_step)
    }

    pub fn len(&self) -> usize {
        self.range.len()
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    fingerprint: String,
    files: usize,
    /// One line per rejected file, as first reported, so a cached run still says what it skips.
    rejected: Vec<String>,
    table: Vec<Token>,
    pieces: Vec<CorpusPiece>,
    total: usize,
}

/// Each token as an index into the table: 2 bytes where the table fits in 16 bits (every
/// corpus here, whose tables hold 300–4,000 tokens), 4 otherwise.
enum Indices {
    Mapped { map: Mmap, start: usize },
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

pub struct TokenCorpus {
    /// The distinct tokens, in order of first appearance.
    pub table: Vec<Token>,
    indices: Indices,
    pub pieces: Vec<CorpusPiece>,
    /// SHA-256 over every readable file's name and bytes: the same folder contents, the same value.
    pub fingerprint: String,
    pub files: usize,
    pub rejected: Vec<String>,
    /// Where it came from, and how long it took: said once on stderr.
    pub origin: String,
}

impl TokenCorpus {
    /// Table indices of piece `i`'s tokens.
    pub fn indices(&self, i: usize) -> Box<dyn Iterator<Item = usize> + '_> {
        let range = self.pieces[i].range.clone();
        match &self.indices {
            Indices::Mapped { map, start } => Box::new(
                map[start + 2 * range.start..start + 2 * range.end]
                    .chunks_exact(2)
                    .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]]))),
            ),
            Indices::Narrow(v) => Box::new(v[range].iter().map(|&i| usize::from(i))),
            Indices::Wide(v) => Box::new(v[range].iter().map(|&i| i as usize)),
        }
    }

    /// Piece `i`'s tokens, first `limit` of them.
    pub fn tokens(&self, i: usize, limit: usize) -> Vec<Token> {
        self.indices(i)
            .take(limit)
            .map(|k| self.table[k].clone())
            .collect()
    }

    /// How often each table entry occurs in the given pieces, for building a vocabulary.
    pub fn counts(&self, pieces: &[usize]) -> Vec<(&Token, u64)> {
        let mut counts = vec![0u64; self.table.len()];
        for &i in pieces {
            for k in self.indices(i) {
                counts[k] += 1;
            }
        }
        self.table
            .iter()
            .zip(counts)
            .filter(|(_, c)| *c > 0)
            .collect()
    }

    pub fn total_tokens(&self) -> usize {
        self.pieces.iter().map(CorpusPiece::len).sum()
    }
}

/// The folder where token caches live: `$MOTIF_CACHE/tokens` (the build cache's folder, see
/// `scripts/setup.sh`), else `~/.cache/motif/tokens`; `None` turns caching off.
pub fn cache_dir() -> Option<PathBuf> {
    if std::env::var_os("MOTIF_TOKEN_CACHE").is_some_and(|v| v == "off") {
        return None;
    }
    let base = std::env::var_os("MOTIF_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/motif")))?;
    Some(base.join("tokens"))
}

/// The cache key: the files as the file system describes them (name, size, modification time)
/// and everything that changes the tokens. A file edited in place keeps neither its size nor
/// its time in practice; `touch` one to force a re-read.
fn cache_key(
    dir: &Path,
    files: &[PathBuf],
    tokenizer: &Tokenizer,
    options: &ReadOptions,
) -> Result<String> {
    let mut key = Sha256::new();
    key.update(MAGIC);
    key.update(serde_json::to_vec(tokenizer)?);
    key.update([
        u8::from(options.include_drums),
        u8::from(options.sustain_pedal),
    ]);
    key.update(dir.canonicalize()?.as_os_str().as_encoded_bytes());
    for path in files {
        key.update(path.as_os_str().as_encoded_bytes());
        if let Ok(meta) = std::fs::metadata(path) {
            key.update(meta.len().to_le_bytes());
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            key.update(modified.to_le_bytes());
        }
    }
    Ok(hex(&key.finalize()[..16]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The corpus of `files` (under `dir`), from the cache when it holds them, else read, parsed
/// and tokenized here (and then cached). A bad file costs one line on stderr, never the run.
pub fn load(
    dir: &Path,
    files: &[PathBuf],
    tokenizer: &Tokenizer,
    options: &ReadOptions,
) -> Result<TokenCorpus> {
    let started = Instant::now();
    let cache = cache_dir()
        .map(|d| cache_key(dir, files, tokenizer, options).map(|k| d.join(format!("{k}.tok"))))
        .transpose()?;
    if let Some(path) = &cache
        && let Ok(corpus) = open_cache(path)
    {
        // Marks it recently used (see `evict`).
        let _ = File::open(path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        for line in &corpus.rejected {
            eprintln!("{line}");
        }
        return Ok(TokenCorpus {
            origin: format!(
                "{} tokens of {} files from the token cache {} in {:.2} s",
                corpus.total_tokens(),
                corpus.pieces.len(),
                path.display(),
                started.elapsed().as_secs_f64()
            ),
            ..corpus
        });
    }
    let mut corpus = tokenize(dir, files, tokenizer, options);
    let seconds = started.elapsed().as_secs_f64();
    corpus.origin = format!(
        "{} tokens of {} files read and tokenized in {seconds:.2} s ({:.0} tokens/s, {} threads)",
        corpus.total_tokens(),
        corpus.pieces.len(),
        corpus.total_tokens() as f64 / seconds.max(1e-9),
        rayon::current_num_threads()
    );
    if let Some(path) = &cache {
        match save_cache(path, &corpus) {
            Ok(()) => evict(path),
            Err(err) => eprintln!(
                "note: the token cache {} could not be written ({err:#}); the next run reads the files again",
                path.display()
            ),
        }
    }
    Ok(corpus)
}

/// Keeps the [`KEEP`] most recently used cache files beside `kept` (and `kept` itself).
fn evict(kept: &Path) {
    let Some(dir) = kept.parent() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut caches: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tok") && p != kept)
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    caches.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, old) in caches.into_iter().skip(KEEP.saturating_sub(1)) {
        let _ = std::fs::remove_file(old);
    }
}

/// A parsed file, or the line saying why it is skipped.
type Parsed = Result<(Vec<Token>, TimeSignature, u64), String>;

fn tokenize(
    dir: &Path,
    files: &[PathBuf],
    tokenizer: &Tokenizer,
    options: &ReadOptions,
) -> TokenCorpus {
    let steps_per_beat = tokenizer.steps_per_beat();
    let name = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let mut fingerprint = Sha256::new();
    let mut table: Vec<Token> = Vec::new();
    let mut index: HashMap<Token, u32> = HashMap::new();
    let mut indices: Vec<u32> = Vec::new();
    let mut pieces = Vec::new();
    let mut rejected = Vec::new();
    for chunk in files.chunks(CHUNK) {
        let read: Vec<Result<(Vec<u8>, Parsed), String>> = chunk
            .par_iter()
            .map(|path| {
                let bytes = read_file(path).map_err(|e| format!("{e} (skipped)"))?;
                let parsed = match parse_file(path, &bytes, options) {
                    Ok(score) if score.notes.is_empty() => {
                        Err(format!("{}: no notes (skipped)", path.display()))
                    }
                    Ok(score) => {
                        let clock = MetricClock::for_score(steps_per_beat, &score);
                        Ok((
                            tokenizer.encode(&score.notes),
                            clock.signature(),
                            clock.time(),
                        ))
                    }
                    Err(e) => Err(format!("{e} (skipped)")),
                };
                Ok((bytes, parsed))
            })
            .collect();
        for (path, outcome) in chunk.iter().zip(read) {
            let (bytes, parsed) = match outcome {
                Ok(read) => read,
                Err(line) => {
                    eprintln!("{line}");
                    rejected.push(line);
                    continue;
                }
            };
            fingerprint.update(name(path).as_bytes());
            fingerprint.update((bytes.len() as u64).to_le_bytes());
            fingerprint.update(&bytes);
            match parsed {
                Ok((tokens, signature, start_step)) => {
                    let digest = Sha256::digest(&bytes);
                    let start = indices.len();
                    for token in tokens {
                        let next = table.len() as u32;
                        let k = *index.entry(token.clone()).or_insert_with(|| {
                            table.push(token);
                            next
                        });
                        indices.push(k);
                    }
                    pieces.push(CorpusPiece {
                        name: name(path),
                        content_hash: u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")),
                        signature,
                        start_step,
                        range: start..indices.len(),
                    });
                }
                Err(line) => {
                    eprintln!("{line}");
                    rejected.push(line);
                }
            }
        }
    }
    let indices = if table.len() <= usize::from(u16::MAX) + 1 {
        Indices::Narrow(indices.into_iter().map(|k| k as u16).collect())
    } else {
        Indices::Wide(indices)
    };
    TokenCorpus {
        table,
        indices,
        pieces,
        fingerprint: hex(&fingerprint.finalize()),
        files: files.len(),
        rejected,
        origin: String::new(),
    }
}

/// `MAGIC`, the header's length (u64 LE), the header (JSON), a pad byte to an even offset,
/// then every token's table index as u16 LE.
fn save_cache(path: &Path, corpus: &TokenCorpus) -> Result<()> {
    let Indices::Narrow(indices) = &corpus.indices else {
        anyhow::bail!("the corpus has more than 65,536 distinct tokens");
    };
    let header = serde_json::to_vec(&Header {
        fingerprint: corpus.fingerprint.clone(),
        files: corpus.files,
        rejected: corpus.rejected.clone(),
        table: corpus.table.clone(),
        pieces: corpus.pieces.clone(),
        total: indices.len(),
    })?;
    let mut bytes = Vec::with_capacity(17 + header.len() + 2 * indices.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    for &k in indices {
        bytes.extend_from_slice(&k.to_le_bytes());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_atomic(path, &bytes)
}

fn open_cache(path: &Path) -> Result<TokenCorpus> {
    let file = File::open(path)?;
    // SAFETY: cache files are written whole to a temporary name and renamed into place, never
    // modified afterwards, so the mapped bytes cannot change under us.
    let map = unsafe { Mmap::map(&file)? };
    let corrupt = || format!("{}: not a complete token cache", path.display());
    anyhow::ensure!(map.len() >= 16 && &map[..8] == MAGIC, corrupt());
    let header_len = u64::from_le_bytes(map[8..16].try_into().expect("8 bytes")) as usize;
    let header_end = 16usize.checked_add(header_len).with_context(corrupt)?;
    let header: Header = serde_json::from_slice(map.get(16..header_end).with_context(corrupt)?)
        .with_context(corrupt)?;
    let start = header_end + header_end % 2;
    anyhow::ensure!(map.len() == start + 2 * header.total, corrupt());
    let ends_fit = header.pieces.iter().all(|p| p.range.end <= header.total);
    anyhow::ensure!(ends_fit, corrupt());
    let corpus = TokenCorpus {
        table: header.table,
        indices: Indices::Mapped { map, start },
        pieces: header.pieces,
        fingerprint: header.fingerprint,
        files: header.files,
        rejected: header.rejected,
        origin: String::new(),
    };
    let table = corpus.table.len();
    anyhow::ensure!(
        (0..corpus.pieces.len()).all(|i| corpus.indices(i).all(|k| k < table)),
        corrupt()
    );
    Ok(corpus)
}
