//! Training data: token-id sequences per piece, the train/validation split, and windows.

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;

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

/// A window: `seq_len + 1` tokens of one piece starting at `start` (inputs, then shifted targets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub piece: usize,
    pub start: usize,
}

/// Windows of `seq_len` inputs over `pieces`, `stride` apart, each piece starting at `offset`
/// (taken modulo the stride) so successive epochs can see different cuts.
pub fn windows(pieces: &[Vec<u32>], seq_len: usize, stride: usize, offset: usize) -> Vec<Window> {
    let stride = stride.max(1);
    let mut out = Vec::new();
    for (piece, tokens) in pieces.iter().enumerate() {
        if tokens.len() <= seq_len {
            continue;
        }
        let last_start = tokens.len() - seq_len - 1;
        let first = (offset % stride).min(last_start);
        out.extend(
            (first..=last_start)
                .step_by(stride)
                .map(|start| Window { piece, start }),
        );
    }
    out
}

/// A batch as flat row-major ids, ready to become tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub size: usize,
    pub seq_len: usize,
    /// [size × seq_len]
    pub inputs: Vec<i64>,
    /// [size × seq_len] for every-position targets, [size] for last-only.
    pub targets: Vec<i64>,
}

pub fn make_batch(
    pieces: &[Vec<u32>],
    windows: &[Window],
    seq_len: usize,
    targets: Targets,
) -> Batch {
    let mut batch = Batch {
        size: windows.len(),
        seq_len,
        inputs: Vec::with_capacity(windows.len() * seq_len),
        targets: Vec::with_capacity(windows.len() * seq_len),
    };
    for window in windows {
        let tokens = &pieces[window.piece][window.start..window.start + seq_len + 1];
        batch
            .inputs
            .extend(tokens[..seq_len].iter().map(|&t| i64::from(t)));
        match targets {
            Targets::EveryPosition => batch
                .targets
                .extend(tokens[1..].iter().map(|&t| i64::from(t))),
            Targets::LastOnly => batch.targets.push(i64::from(tokens[seq_len])),
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn windows_and_batches_line_up_inputs_with_targets() {
        let pieces = vec![(0..10).collect::<Vec<u32>>(), vec![100, 101]];
        let w = windows(&pieces, 4, 4, 0);
        assert_eq!(
            w,
            vec![Window { piece: 0, start: 0 }, Window { piece: 0, start: 4 }]
        );
        let shifted = windows(&pieces, 4, 4, 5);
        assert_eq!(
            shifted,
            vec![Window { piece: 0, start: 1 }, Window { piece: 0, start: 5 }]
        );

        let every = make_batch(&pieces, &w, 4, Targets::EveryPosition);
        assert_eq!(every.inputs, vec![0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(every.targets, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        let last = make_batch(&pieces, &w, 4, Targets::LastOnly);
        assert_eq!(last.targets, vec![4, 8]);
    }
}
