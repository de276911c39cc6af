//! Motif memory: a prediction of the next token copied from the piece's own past. Real pieces
//! restate their figures (about half of a corpus piece's 4-onset figures recur); a recurrent
//! network sampled token by token almost never does. Where the last few tokens occurred before,
//! at the same place in the bar, the tokens that followed them then are proposed again, and
//! sampling mixes this proposal into the network's distribution (a cache language model).
//!
//! A restatement stops by itself: once the last [`MAX_MATCH`] tokens all occurred before, the
//! memory proposes nothing, so a figure is restated, then varied, and a repeated onset cannot
//! feed on its own repetition.

use std::collections::HashMap;

use crate::score::Note;
use crate::tokens::Tokenizer;
use crate::vocab::Vocabulary;

/// Tokens of context that must match, at the same place in the bar, before the past is copied:
/// about one onset (measured against 4 and 6, which proposed too rarely to restate anything).
pub const MIN_CONTEXT: usize = 3;
/// A restatement this long (about a bar of notes) is enough: the memory then proposes nothing.
pub const MAX_MATCH: usize = 36;

/// The memory is silent while the piece's last onsets are this many of the very same pitches:
/// restating a figure never prolongs a repeated note or chord.
pub const MAX_REPEATED_ONSETS: usize = 4;

#[derive(Clone, Debug, Default)]
pub struct MotifMemory {
    ids: Vec<u32>,
    /// Metric position after each token, when the piece has one.
    positions: Vec<Option<u16>>,
    /// Where each context of [`MIN_CONTEXT`] tokens was followed by a token: context hash →
    /// indices of the following token.
    seen: HashMap<u64, Vec<usize>>,
}

impl MotifMemory {
    pub fn new() -> Self {
        MotifMemory::default()
    }

    /// Records a token of the piece (prime or generated) and the metric position after it.
    pub fn push(&mut self, id: u32, position: Option<u16>) {
        let next = self.ids.len();
        if next >= MIN_CONTEXT {
            self.seen
                .entry(context_hash(&self.ids[next - MIN_CONTEXT..]))
                .or_default()
                .push(next);
        }
        self.ids.push(id);
        self.positions.push(position);
    }

    /// The copied proposal for the next token: (id, probability), summing to 1, or empty where
    /// the recent context never occurred before, or has been restated long enough. Each earlier
    /// occurrence at the same metric position votes for the token that followed it, weighted by
    /// how many tokens of context it shares.
    pub fn proposal(&self) -> Vec<(u32, f64)> {
        let now = self.ids.len();
        if now < MIN_CONTEXT {
            return Vec::new();
        }
        let Some(candidates) = self.seen.get(&context_hash(&self.ids[now - MIN_CONTEXT..])) else {
            return Vec::new();
        };
        let position = self.positions[now - 1];
        let shared_with = |then: usize| {
            (1..=MAX_MATCH.min(then))
                .take_while(|&back| self.ids[then - back] == self.ids[now - back])
                .count()
        };
        // Checked at every position: a repeated onset restates itself one onset later.
        if candidates
            .iter()
            .any(|&then| shared_with(then) >= MAX_MATCH)
        {
            return Vec::new();
        }
        let mut votes: Vec<(u32, f64)> = Vec::new();
        for &then in candidates {
            let shared = shared_with(then);
            if shared < MIN_CONTEXT || self.positions[then - 1] != position {
                continue; // a hash collision, or elsewhere in the bar
            }
            let id = self.ids[then];
            match votes.iter_mut().find(|(v, _)| *v == id) {
                Some((_, weight)) => *weight += shared as f64,
                None => votes.push((id, shared as f64)),
            }
        }
        let total: f64 = votes.iter().map(|(_, w)| w).sum();
        votes.iter_mut().for_each(|(_, w)| *w /= total);
        votes
    }

    /// The proposal once `notes` have sounded: none while they end on a repeated onset.
    pub fn proposal_after(&self, notes: &[Note]) -> Vec<(u32, f64)> {
        if trailing_repeats(notes) >= MAX_REPEATED_ONSETS {
            return Vec::new();
        }
        self.proposal()
    }
}

/// A proposal's probability of `id` (0 where it proposes other tokens).
pub fn probability_of(proposal: &[(u32, f64)], id: u32) -> f64 {
    proposal
        .iter()
        .find(|(v, _)| *v == id)
        .map_or(0.0, |(_, p)| *p)
}

/// For each token of a real piece, the probability the memory gave it from the tokens before
/// it (`None` where it proposed nothing), exactly as generation would have: how much of a
/// held-out piece its own past predicts. `positions` are the metric positions after each
/// token, for a network that takes them.
pub fn replay(
    tokenizer: &Tokenizer,
    vocab: &Vocabulary,
    ids: &[u32],
    positions: Option<&[u16]>,
) -> Vec<Option<f64>> {
    let mut memory = MotifMemory::new();
    let mut decoder = tokenizer.decoder();
    let mut notes = Vec::new();
    ids.iter()
        .enumerate()
        .map(|(i, &id)| {
            let proposal = memory.proposal_after(&notes);
            let probability = (!proposal.is_empty()).then(|| probability_of(&proposal, id));
            decoder.push(vocab.token(id), &mut notes);
            memory.push(id, positions.map(|p| p[i]));
            probability
        })
        .collect()
}

/// How many onsets at the end of `notes` (in start order) hold the very same pitches.
pub fn trailing_repeats(notes: &[Note]) -> usize {
    let mut onsets = notes
        .chunk_by(|a, b| a.start == b.start)
        .rev()
        .map(|onset| {
            let mut pitches: Vec<u8> = onset.iter().map(|n| n.pitch).collect();
            pitches.sort_unstable();
            pitches
        });
    let Some(last) = onsets.next() else {
        return 0;
    };
    1 + onsets.take_while(|pitches| *pitches == last).count()
}

/// FNV-1a over the ids: stable across platforms, so the page and the CLI copy the same past.
fn context_hash(ids: &[u32]) -> u64 {
    ids.iter().fold(0xcbf2_9ce4_8422_2325, |hash, id| {
        id.to_le_bytes().iter().fold(hash, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(ids: &[u32]) -> MotifMemory {
        let mut memory = MotifMemory::new();
        ids.iter().for_each(|&id| memory.push(id, None));
        memory
    }

    #[test]
    fn proposes_what_followed_the_same_context_before() {
        // 1 2 3 4 5 6 7 ... 1 2 3 4 5 6 → propose 7.
        let m = memory(&[1, 2, 3, 4, 5, 6, 7, 9, 9, 1, 2, 3, 4, 5, 6]);
        assert_eq!(m.proposal(), vec![(7, 1.0)]);
        // A context never seen before proposes nothing.
        assert!(memory(&[1, 2, 3, 4, 5, 6, 7, 8]).proposal().is_empty());
    }

    #[test]
    fn longer_shared_context_weighs_more() {
        // Context 1..6 was followed by 7 (sharing 7 tokens: 0 1..6) and by 8 (sharing 6).
        let m = memory(&[
            0, 1, 2, 3, 4, 5, 6, 7, 5, 1, 2, 3, 4, 5, 6, 8, 0, 1, 2, 3, 4, 5, 6,
        ]);
        let p = m.proposal();
        assert!((probability_of(&p, 7) - 7.0 / 13.0).abs() < 1e-9, "{p:?}");
        assert!((probability_of(&p, 8) - 6.0 / 13.0).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn a_long_restatement_stops_proposing() {
        // A figure of 3 tokens repeated: once the match reaches MAX_MATCH it proposes nothing.
        let figure = [10, 20, 30];
        let looped: Vec<u32> = figure.iter().cycle().take(MAX_MATCH + 9).copied().collect();
        assert!(memory(&looped).proposal().is_empty());
        let short: Vec<u32> = figure
            .iter()
            .cycle()
            .take(MIN_CONTEXT + 3)
            .copied()
            .collect();
        assert!(!memory(&short).proposal().is_empty());
    }

    #[test]
    fn counts_the_trailing_run_of_one_onset() {
        let note = |start: f64, pitch: u8| Note {
            start,
            duration: 0.5,
            pitch,
            velocity: 80,
        };
        assert_eq!(trailing_repeats(&[]), 0);
        let notes = [
            note(0.0, 60),
            note(1.0, 60),
            note(1.0, 64),
            note(2.0, 64),
            note(2.0, 60),
            note(3.0, 60),
            note(3.0, 64),
        ];
        assert_eq!(trailing_repeats(&notes), 3);
        assert_eq!(trailing_repeats(&notes[..1]), 1);
    }

    #[test]
    fn copies_only_from_the_same_place_in_the_bar() {
        let ids = [1, 2, 3, 4, 5, 6, 7, 9, 1, 2, 3, 4, 5, 6];
        let mut shifted = MotifMemory::new();
        for (i, &id) in ids.iter().enumerate() {
            shifted.push(id, Some(if i < 7 { i as u16 } else { i as u16 + 1 }));
        }
        assert!(shifted.proposal().is_empty());
        let mut aligned = MotifMemory::new();
        for (i, &id) in ids.iter().enumerate() {
            aligned.push(id, Some((i % 8) as u16));
        }
        assert_eq!(aligned.proposal(), vec![(7, 1.0)]);
    }
}
