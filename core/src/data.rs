//! Training data: token-id sequences per piece, the train/validation split, and windows.

use std::ops::RangeInclusive;

use rand::rngs::ChaCha8Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use crate::vocab::Vocabulary;

/// What a window is trained to predict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Targets {
    /// The next token at every position: `seq_len` targets per window.
    EveryPosition,
    /// Only the token after the window, as the report did: one target per window.
    LastOnly,
}

/// Splits piece indices into (train, validation), seeded. At least one piece is held out when
/// there are two or more, and at least one is kept for training.
pub fn split_pieces(count: usize, validation_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let wanted = (count as f64 * validation_fraction).round() as usize;
    let held_out = if count >= 2 {
        wanted.clamp(1, count - 1)
    } else {
        0
    };
    let mut validation = order.split_off(count - held_out);
    order.sort_unstable();
    validation.sort_unstable();
    (order, validation)
}

/// How files are split into training and validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// A seeded shuffle of the folder's files (runs from before `content` existed).
    #[default]
    Shuffle,
    /// Each file by a seeded hash of its bytes, whatever folder it is read from: a file held
    /// out of a style's run is also held out of a run on all corpora together, so a network
    /// pretrained on everything never saw the files its fine-tuned styles are scored on.
    Content,
}

/// SplitMix64's increment: 2^64 divided by the golden ratio.
pub const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function: scrambles a 64-bit value into one uniform over all of them.
/// Seeds and splits that must not correlate are derived through it.
pub fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Splits pieces by a hash of their content (see [`Split::Content`]): a piece is held out when
/// its seeded hash falls under `validation_fraction`. As with [`split_pieces`], two or more
/// pieces always keep one of each: the lowest hash is held out, the highest trained on.
pub fn split_by_content(
    content_hashes: &[u64],
    validation_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let keys: Vec<u64> = content_hashes
        .iter()
        // A uniform value per (file, seed).
        .map(|&h| splitmix64((h ^ seed.wrapping_mul(GOLDEN_GAMMA)).wrapping_add(GOLDEN_GAMMA)))
        .collect();
    let threshold = (validation_fraction.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
    let mut held_out: Vec<bool> = keys.iter().map(|&k| k < threshold).collect();
    if keys.len() >= 2 {
        let lowest = (0..keys.len()).min_by_key(|&i| keys[i]).expect("non-empty");
        let highest = (0..keys.len()).max_by_key(|&i| keys[i]).expect("non-empty");
        held_out[lowest] = true;
        held_out[highest] = false;
    }
    (0..keys.len()).partition(|&i| !held_out[i])
}

/// A window: `seq_len + 1` tokens of one piece starting at `start` (inputs, then shifted targets),
/// played `transpose` semitones away from where it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub piece: usize,
    pub start: usize,
    pub transpose: i8,
}

/// Transposition on token ids: for every shift in a range, where each id goes. Augmenting
/// windows this way costs a table lookup per token, with no re-tokenizing and no copy of the
/// corpus.
#[derive(Clone, Debug)]
pub struct Transposer {
    lowest: i8,
    /// `maps[shift - lowest][id]`: the id of the transposed token, if the vocabulary holds it.
    maps: Vec<Vec<Option<u32>>>,
}

impl Transposer {
    pub fn new(vocab: &Vocabulary, semitones: RangeInclusive<i8>) -> Self {
        let maps = semitones
            .clone()
            .map(|shift| {
                vocab
                    .tokens()
                    .iter()
                    .map(|token| {
                        let moved = token.transposed(shift)?;
                        let id = vocab.id(&moved);
                        (id != crate::vocab::UNKNOWN_ID || moved == crate::Token::Unknown)
                            .then_some(id)
                    })
                    .collect()
            })
            .collect();
        Transposer {
            lowest: *semitones.start(),
            maps,
        }
    }

    /// Shifts under which every id of `ids` has a transposed token in the vocabulary (0, which
    /// changes nothing, always qualifies).
    pub fn allowed(&self, ids: &[u32]) -> Vec<i8> {
        let mut shifts: Vec<i8> = (0..self.maps.len())
            .filter(|&i| {
                ids.iter()
                    .all(|&id| self.maps[i].get(id as usize).is_some_and(Option::is_some))
            })
            .map(|i| self.lowest + i as i8)
            .collect();
        if let Err(at) = shifts.binary_search(&0) {
            shifts.insert(at, 0);
        }
        shifts
    }

    /// The id of `id`'s token moved by `shift` (unchanged where the table has no entry).
    pub fn apply(&self, id: u32, shift: i8) -> u32 {
        if shift == 0 {
            return id;
        }
        usize::try_from(i16::from(shift) - i16::from(self.lowest))
            .ok()
            .and_then(|i| self.maps.get(i))
            .and_then(|map| map.get(id as usize).copied().flatten())
            .unwrap_or(id)
    }

    /// Gives each window a shift drawn from those its tokens allow.
    pub fn draw(
        &self,
        windows: &mut [Window],
        pieces: &[Vec<u32>],
        seq_len: usize,
        rng: &mut impl Rng,
    ) {
        for window in windows {
            let ids = &pieces[window.piece][window.start..window.start + seq_len + 1];
            window.transpose = *self.allowed(ids).choose(rng).unwrap_or(&0);
        }
    }
}

/// Windows of `seq_len` inputs over `pieces`, `stride` apart, each piece starting at `offset`
/// (taken modulo the stride) so successive epochs can see different cuts.
pub fn windows(pieces: &[Vec<u32>], seq_len: usize, stride: usize, offset: usize) -> Vec<Window> {
    let mut out = Vec::new();
    for (piece, tokens) in pieces.iter().enumerate() {
        out.extend(
            window_starts(tokens.len(), seq_len, stride, offset).map(|start| Window {
                piece,
                start,
                transpose: 0,
            }),
        );
    }
    out
}

/// Where the windows of one piece of `len` tokens start (none when it is `seq_len` or shorter).
fn window_starts(
    len: usize,
    seq_len: usize,
    stride: usize,
    offset: usize,
) -> impl Iterator<Item = usize> {
    let stride = stride.max(1);
    let last_start = len.checked_sub(seq_len + 1);
    let first = last_start.map_or(1, |last| (offset % stride).min(last));
    (first..=last_start.unwrap_or(0)).step_by(stride)
}

/// Longest run of consecutive windows one stream row carries its state through (800 tokens at
/// the default window): pieces are cut into segments this long so that segments, unlike whole
/// pieces (a few hundred to ten thousand tokens), can be packed evenly into the batch rows.
pub const STATEFUL_SEGMENT_WINDOWS: usize = 8;

/// Batches for stateful training (truncated backpropagation through time): `batch` streams,
/// each playing segments of pieces window after window, so row `r` of batch `k + 1` continues
/// row `r` of batch `k` and the recurrent state can be carried across. Each piece's windows
/// start at `offset % seq_len`, share one transposition drawn from those all its windows
/// allow, and are cut into segments of [`STATEFUL_SEGMENT_WINDOWS`]; segments are packed into
/// the streams longest first (each to the stream with the fewest windows), then each stream's
/// segments are put in a seeded order. The epoch ends with the shortest stream. Returns the
/// batches and, per batch and row, whether the row continues the previous batch's (false: a
/// segment starts there, from a zero state).
pub fn stream_batches(
    pieces: &[Vec<u32>],
    seq_len: usize,
    batch: usize,
    offset: usize,
    transposer: Option<&Transposer>,
    rng: &mut impl Rng,
) -> (Vec<Vec<Window>>, Vec<Vec<bool>>) {
    let batch = batch.max(1);
    let mut segments: Vec<Vec<Window>> = Vec::new();
    for (piece, ids) in pieces.iter().enumerate() {
        if ids.len() <= seq_len {
            continue;
        }
        let transpose = match transposer {
            Some(t) => *t.allowed(ids).choose(rng).unwrap_or(&0),
            None => 0,
        };
        let windows: Vec<Window> = window_starts(ids.len(), seq_len, seq_len, offset)
            .map(|start| Window {
                piece,
                start,
                transpose,
            })
            .collect();
        segments.extend(
            windows
                .chunks(STATEFUL_SEGMENT_WINDOWS)
                .map(<[Window]>::to_vec),
        );
    }
    segments.shuffle(rng);
    // Longest first (stable, so equal lengths keep the seeded order): the streams end up
    // within a segment of one another.
    segments.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut streams: Vec<Vec<Vec<Window>>> = vec![Vec::new(); batch];
    let mut lengths = vec![0usize; batch];
    for segment in segments {
        let shortest = (0..batch).min_by_key(|&i| lengths[i]).expect("a stream");
        lengths[shortest] += segment.len();
        streams[shortest].push(segment);
    }
    let rows: Vec<Vec<(Window, bool)>> = streams
        .into_iter()
        .map(|mut stream| {
            stream.shuffle(rng);
            stream
                .into_iter()
                .flat_map(|segment| {
                    segment
                        .into_iter()
                        .enumerate()
                        .map(|(i, window)| (window, i > 0))
                })
                .collect()
        })
        .collect();
    let rounds = rows.iter().map(Vec::len).min().unwrap_or(0);
    (0..rounds)
        .map(|k| {
            let row = rows.iter().map(|r| r[k]);
            (
                row.clone().map(|r| r.0).collect(),
                row.map(|r| r.1).collect(),
            )
        })
        .unzip()
}

/// Token ids of pieces, with each token's metric position ([`crate::meter`]) when the network
/// takes them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pieces {
    pub ids: Vec<Vec<u32>>,
    /// Aligned with `ids`; empty when the network takes no metric positions.
    pub meter: Vec<Vec<u16>>,
}

impl Pieces {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn tokens(&self) -> usize {
        self.ids.iter().map(Vec::len).sum()
    }
}

/// A batch as flat row-major ids, ready to become tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub size: usize,
    pub seq_len: usize,
    /// [size × seq_len]
    pub inputs: Vec<i64>,
    /// [size × seq_len] metric positions of the inputs; empty without them.
    pub meter: Vec<i64>,
    /// [size × seq_len] for every-position targets, [size] for last-only.
    pub targets: Vec<i64>,
}

/// `transposer` applies each window's `transpose`; without one, windows are taken as written.
pub fn make_batch(
    pieces: &Pieces,
    windows: &[Window],
    seq_len: usize,
    targets: Targets,
    transposer: Option<&Transposer>,
) -> Batch {
    let mut batch = Batch {
        size: windows.len(),
        seq_len,
        inputs: Vec::with_capacity(windows.len() * seq_len),
        meter: Vec::new(),
        targets: Vec::with_capacity(windows.len() * seq_len),
    };
    for window in windows {
        let tokens = &pieces.ids[window.piece][window.start..window.start + seq_len + 1];
        if let Some(positions) = pieces.meter.get(window.piece) {
            let positions = &positions[window.start..window.start + seq_len];
            batch.meter.extend(positions.iter().map(|&p| i64::from(p)));
        }
        let id = |&id: &u32| i64::from(transposer.map_or(id, |t| t.apply(id, window.transpose)));
        batch.inputs.extend(tokens[..seq_len].iter().map(id));
        match targets {
            Targets::EveryPosition => batch.targets.extend(tokens[1..].iter().map(id)),
            Targets::LastOnly => batch.targets.push(id(&tokens[seq_len])),
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;

    #[test]
    fn split_is_seeded_disjoint_and_never_empty() {
        let (train, val) = split_pieces(10, 0.1, 3);
        assert_eq!((train.len(), val.len()), (9, 1));
        assert_eq!(split_pieces(10, 0.1, 3), (train.clone(), val.clone()));
        assert!(val.iter().all(|v| !train.contains(v)));
        assert_eq!(split_pieces(2, 0.01, 0).1.len(), 1);
        assert_eq!(split_pieces(2, 0.99, 0).0.len(), 1);
        assert_eq!(split_pieces(1, 0.5, 0), (vec![0], vec![]));
    }

    #[test]
    fn content_split_follows_each_file_not_the_folder() {
        let hashes: Vec<u64> = (0..200u64)
            .map(|i| i.wrapping_mul(0x2545_f491_4f6c_dd1d))
            .collect();
        let (train, val) = split_by_content(&hashes, 0.1, 1);
        assert_eq!(train.len() + val.len(), 200);
        assert!((10..=30).contains(&val.len()), "{}", val.len());
        // The same files in another folder, among others: the same ones are held out.
        let mut more = hashes[50..120].to_vec();
        more.extend((0..40u64).map(|i| i ^ 0xdead_beef));
        let (_, val_more) = split_by_content(&more, 0.1, 1);
        for (i, h) in more.iter().enumerate().take(70) {
            let original = hashes.iter().position(|x| x == h).unwrap();
            assert_eq!(
                val_more.contains(&i),
                val.contains(&original),
                "file {original}"
            );
        }
        assert_ne!(split_by_content(&hashes, 0.1, 2).1, val, "seeded");
        assert_eq!(split_by_content(&hashes[..2], 0.0, 1).1.len(), 1);
        assert_eq!(split_by_content(&hashes[..2], 1.0, 1).0.len(), 1);
    }

    #[test]
    fn windows_and_batches_line_up_inputs_with_targets() {
        let pieces = vec![(0..10).collect::<Vec<u32>>(), vec![100, 101]];
        let w = windows(&pieces, 4, 4, 0);
        let at = |piece, start| Window {
            piece,
            start,
            transpose: 0,
        };
        assert_eq!(w, vec![at(0, 0), at(0, 4)]);
        let shifted = windows(&pieces, 4, 4, 5);
        assert_eq!(shifted, vec![at(0, 1), at(0, 5)]);

        let meter: Vec<Vec<u16>> = pieces
            .iter()
            .map(|p| (0..p.len() as u16).map(|i| i * 10).collect())
            .collect();
        let pieces = Pieces { ids: pieces, meter };
        let every = make_batch(&pieces, &w, 4, Targets::EveryPosition, None);
        assert_eq!(every.inputs, vec![0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(every.meter, vec![0, 10, 20, 30, 40, 50, 60, 70]);
        assert_eq!(every.targets, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        let last = make_batch(&pieces, &w, 4, Targets::LastOnly, None);
        assert_eq!(last.targets, vec![4, 8]);
    }

    #[test]
    fn stream_batches_continue_each_row_through_segments() {
        let pieces: Vec<Vec<u32>> = [13usize, 9, 17, 4, 11]
            .iter()
            .map(|&n| (0..n as u32).collect())
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (batches, continues) = stream_batches(&pieces, 4, 2, 0, None, &mut rng);
        assert!(!batches.is_empty());
        for (k, (rows, flags)) in batches.iter().zip(&continues).enumerate() {
            assert_eq!(rows.len(), 2);
            for (r, (window, &continues)) in rows.iter().zip(flags).enumerate() {
                if continues {
                    let before = batches[k - 1][r];
                    assert_eq!(before.piece, window.piece);
                    assert_eq!(before.start + 4, window.start, "contiguous windows");
                } else {
                    // A segment starts at the piece's start or where an earlier one ended.
                    assert_eq!(window.start % (4 * STATEFUL_SEGMENT_WINDOWS), 0);
                }
            }
        }
        // Windows never overrun their piece; the 5-token piece is too short for one.
        for w in batches.iter().flatten() {
            assert!(w.start + 5 <= pieces[w.piece].len());
            assert_ne!(w.piece, 3);
        }
        // Seeded.
        let again = stream_batches(&pieces, 4, 2, 0, None, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(again, (batches, continues));
        // A long piece is cut into segments packed evenly into the rows: all 48 of its windows
        // are used, 24 per row.
        let long = vec![(0..193).collect::<Vec<u32>>()];
        let (batches, continues) =
            stream_batches(&long, 4, 2, 0, None, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(batches.len(), 24);
        let restarts = continues.iter().flatten().filter(|c| !**c).count();
        assert_eq!(restarts, 48 / STATEFUL_SEGMENT_WINDOWS);
    }

    #[test]
    fn transposed_windows_move_pitches_and_only_within_the_vocabulary() {
        let text = |t: &[&str]| t.iter().map(|s| s.parse().unwrap()).collect::<Vec<Token>>();
        let corpus = text(&["C4", "d:6", "w:6", "E4", "d:6", "w:6", "B7", "d:6"]);
        let vocab = Vocabulary::build_transposed([corpus.as_slice()], 1, -2..=2);
        let ids = vocab.encode(&corpus);
        let transposer = Transposer::new(&vocab, -2..=2);
        // B7 + 2 = C#8 is off the piano, so +2 is never allowed for a window holding B7.
        assert_eq!(transposer.allowed(&ids), vec![-2, -1, 0, 1]);
        assert_eq!(transposer.allowed(&ids[..3]), vec![-2, -1, 0, 1, 2]);
        let pieces = Pieces {
            ids: vec![ids.clone()],
            meter: Vec::new(),
        };
        let window = Window {
            piece: 0,
            start: 0,
            transpose: -2,
        };
        let batch = make_batch(
            &pieces,
            &[window],
            7,
            Targets::EveryPosition,
            Some(&transposer),
        );
        let moved: Vec<u32> = batch.inputs.iter().map(|&i| i as u32).collect();
        assert_eq!(
            vocab.decode(&moved),
            text(&["A#3", "d:6", "w:6", "D4", "d:6", "w:6", "A7"])
        );
        // Draws are seeded and always allowed.
        let mut all = windows(&pieces.ids, 3, 1, 0);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        transposer.draw(&mut all, &pieces.ids, 3, &mut rng);
        for w in &all {
            let span = &pieces.ids[0][w.start..w.start + 4];
            assert!(transposer.allowed(span).contains(&w.transpose), "{w:?}");
        }
        assert!(all.iter().any(|w| w.transpose != 0));
    }
}
