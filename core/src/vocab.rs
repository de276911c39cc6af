//! Tokens ⇄ model ids. A vocabulary is built once from a training corpus and stored with the
//! model, so a model always decodes with exactly the tokens it was trained on.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::tokens::Token;

/// Id 0 is always the unknown token.
pub const UNKNOWN_ID: u32 = 0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VocabularyFile", into = "VocabularyFile")]
pub struct Vocabulary {
    tokens: Vec<Token>,
    counts: Vec<u64>,
    index: HashMap<Token, u32>,
    /// Known values of each kind, ascending, for mapping rare tokens onto near ones.
    known: Known,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Known {
    shifts: Vec<u16>,
    durations: Vec<u16>,
    pitches: Vec<u8>,
    velocities: Vec<u8>,
}

impl Known {
    fn of(tokens: &[Token]) -> Self {
        let mut known = Known::default();
        for token in tokens {
            match token {
                Token::Shift(s) => known.shifts.push(*s),
                Token::Duration(d) => known.durations.push(*d),
                Token::Notes(p) if p.len() == 1 => known.pitches.push(p[0]),
                Token::Velocity(v) => known.velocities.push(*v),
                _ => {}
            }
        }
        known.shifts.sort_unstable();
        known.durations.sort_unstable();
        known.pitches.sort_unstable();
        known.velocities.sort_unstable();
        known
    }
}

/// The known value closest to `value` (the smaller on a tie).
fn nearest<T: Copy + Into<i64>>(known: &[T], value: T) -> Option<T> {
    known
        .iter()
        .copied()
        .min_by_key(|k| ((*k).into() - value.into()).abs())
}

/// The stored form: ids are positions in `tokens`.
#[derive(Serialize, Deserialize)]
struct VocabularyFile {
    tokens: Vec<Token>,
    /// How often each token occurred in the corpus it was built from.
    counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabularyError {
    #[error("vocabulary must start with <unk>")]
    MissingUnknown,
    #[error("vocabulary lists '{0}' twice")]
    Duplicate(String),
    #[error("vocabulary has {tokens} tokens but {counts} counts")]
    CountMismatch { tokens: usize, counts: usize },
}

impl TryFrom<VocabularyFile> for Vocabulary {
    type Error = VocabularyError;

    fn try_from(file: VocabularyFile) -> Result<Self, Self::Error> {
        if file.tokens.first() != Some(&Token::Unknown) {
            return Err(VocabularyError::MissingUnknown);
        }
        if file.tokens.len() != file.counts.len() {
            return Err(VocabularyError::CountMismatch {
                tokens: file.tokens.len(),
                counts: file.counts.len(),
            });
        }
        let mut index = HashMap::with_capacity(file.tokens.len());
        for (id, token) in file.tokens.iter().enumerate() {
            if index.insert(token.clone(), id as u32).is_some() {
                return Err(VocabularyError::Duplicate(token.to_string()));
            }
        }
        let known = Known::of(&file.tokens);
        Ok(Vocabulary {
            tokens: file.tokens,
            counts: file.counts,
            index,
            known,
        })
    }
}

impl From<Vocabulary> for VocabularyFile {
    fn from(vocab: Vocabulary) -> Self {
        VocabularyFile {
            tokens: vocab.tokens,
            counts: vocab.counts,
        }
    }
}

impl Vocabulary {
    /// Keeps tokens seen at least `min_count` times; the rest map to `<unk>`, whose count is the
    /// number of occurrences dropped. Ids follow the tokens' natural order (pitches, durations,
    /// shifts, velocities), so the same corpus always gives the same ids.
    pub fn build<'a>(sequences: impl IntoIterator<Item = &'a [Token]>, min_count: u64) -> Self {
        Self::build_transposed(sequences, min_count, 0..=0)
    }

    /// As [`build`](Self::build), counting every token also at each shift in `semitones` (where
    /// it stays on the piano), so a model trained on transposed windows knows every pitch those
    /// windows hold.
    pub fn build_transposed<'a>(
        sequences: impl IntoIterator<Item = &'a [Token]>,
        min_count: u64,
        semitones: std::ops::RangeInclusive<i8>,
    ) -> Self {
        let mut counts: HashMap<&Token, u64> = HashMap::new();
        for sequence in sequences {
            for token in sequence {
                *counts.entry(token).or_default() += 1;
            }
        }
        Self::from_counts(counts, min_count, semitones)
    }

    /// As [`build_transposed`](Self::build_transposed), from how often each distinct token
    /// occurs: a corpus kept as ids into a token table counts each entry once.
    pub fn from_counts<'a>(
        occurrences: impl IntoIterator<Item = (&'a Token, u64)>,
        min_count: u64,
        semitones: std::ops::RangeInclusive<i8>,
    ) -> Self {
        let mut counts: HashMap<Token, u64> = HashMap::new();
        for (token, count) in occurrences {
            for shift in semitones.clone() {
                if shift == 0 {
                    *counts.entry(token.clone()).or_default() += count;
                } else if let Some(moved) = token.transposed(shift) {
                    *counts.entry(moved).or_default() += count;
                }
            }
        }
        let mut kept: Vec<(&Token, u64)> = Vec::new();
        let mut dropped = 0;
        for (token, &count) in &counts {
            if *token == Token::Unknown || count < min_count.max(1) {
                dropped += count;
            } else {
                kept.push((token, count));
            }
        }
        kept.sort();
        let file = VocabularyFile {
            tokens: std::iter::once(Token::Unknown)
                .chain(kept.iter().map(|(t, _)| (*t).clone()))
                .collect(),
            counts: std::iter::once(dropped)
                .chain(kept.iter().map(|(_, c)| *c))
                .collect(),
        };
        Vocabulary::try_from(file).expect("built from distinct tokens with <unk> first")
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.len() <= 1
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub fn id(&self, token: &Token) -> u32 {
        self.index.get(token).copied().unwrap_or(UNKNOWN_ID)
    }

    /// Out-of-range ids decode to `<unk>` rather than failing.
    pub fn token(&self, id: u32) -> &Token {
        self.tokens.get(id as usize).unwrap_or(&Token::Unknown)
    }

    /// Maps tokens to ids. A token outside the vocabulary is replaced by the nearest one of its
    /// kind rather than `<unk>` where that keeps the music intact: a rare shift becomes a sum of
    /// known shifts (so every later onset stays in place), a rare duration or loudness the nearest
    /// known one, a rare pitch the same pitch class in the nearest known octave (else the nearest
    /// pitch). Only what has no near neighbour, such as an unseen chord, becomes `<unk>`.
    pub fn encode(&self, tokens: &[Token]) -> Vec<u32> {
        let mut ids = Vec::with_capacity(tokens.len());
        for token in tokens {
            match self.index.get(token) {
                Some(id) => ids.push(*id),
                None => self.encode_rare(token, &mut ids),
            }
        }
        ids
    }

    fn encode_rare(&self, token: &Token, ids: &mut Vec<u32>) {
        let replacement = match token {
            Token::Shift(steps) => {
                let mut left = *steps;
                while let Some(&step) = self
                    .known
                    .shifts
                    .iter()
                    .rev()
                    .find(|s| **s <= left && **s > 0)
                {
                    ids.push(self.id(&Token::Shift(step)));
                    left -= step;
                }
                // What remains is shorter than every known shift: round it to the smallest.
                match self.known.shifts.first() {
                    Some(&smallest) if left > 0 && 2 * left >= smallest => {
                        Some(Token::Shift(smallest))
                    }
                    _ => None,
                }
            }
            Token::Duration(steps) => nearest(&self.known.durations, *steps).map(Token::Duration),
            Token::Velocity(bucket) => {
                nearest(&self.known.velocities, *bucket).map(Token::Velocity)
            }
            Token::Notes(pitches) if pitches.len() == 1 => {
                let pitch = pitches[0];
                let same_class: Vec<u8> = self
                    .known
                    .pitches
                    .iter()
                    .copied()
                    .filter(|p| p % 12 == pitch % 12)
                    .collect();
                nearest(&same_class, pitch)
                    .or_else(|| nearest(&self.known.pitches, pitch))
                    .map(|p| Token::Notes(vec![p]))
            }
            Token::Notes(_) => Some(Token::Unknown),
            Token::Unknown => Some(Token::Unknown),
        };
        if let Some(token) = replacement {
            ids.push(self.id(&token));
        }
    }

    pub fn decode(&self, ids: &[u32]) -> Vec<Token> {
        ids.iter().map(|id| self.token(*id).clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(texts: &[&str]) -> Vec<Token> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn rare_tokens_become_unknown_and_ids_are_stable() {
        let a = tokens(&["C4", "d:12", "w:12", "E4", "d:12"]);
        let b = tokens(&["C4", "d:6", "w:12", "C4"]);
        let vocab = Vocabulary::build([a.as_slice(), b.as_slice()], 2);
        assert_eq!(
            vocab.tokens(),
            tokens(&["<unk>", "C4", "d:12", "w:12"]).as_slice()
        );
        assert_eq!(vocab.counts(), &[2, 3, 2, 2]);
        // d:6 is rare: it becomes the nearest known duration, not <unk>.
        assert_eq!(vocab.encode(&b), vec![1, 2, 3, 1]);
        assert_eq!(vocab.decode(&[1, 99]), tokens(&["C4", "<unk>"]));
        let again = Vocabulary::build([b.as_slice(), a.as_slice()], 2);
        assert_eq!(vocab, again);
    }

    #[test]
    fn rare_tokens_map_to_near_known_ones_keeping_time_intact() {
        let corpus = tokens(&["C4", "E5", "d:3", "d:12", "w:12", "w:3", "v:2", "C4.E4"]);
        let vocab = Vocabulary::build([corpus.as_slice()], 1);
        let encoded = vocab.decode(&vocab.encode(&tokens(&[
            "w:27", "w:1", "w:2", "d:8", "C6", "D#2", "v:7", "C4.G4", "C4.E4",
        ])));
        let expected = tokens(&[
            "w:12", "w:12", "w:3", // 27 = 12 + 12 + 3
            // w:1 is under half the smallest known shift: dropped; w:2 rounds up to w:3
            "w:3", "d:12", "C4", // C6: same pitch class, nearest octave
            "C4", // D#2: no D# known, nearest pitch
            "v:2", "<unk>", "C4.E4",
        ]);
        assert_eq!(encoded, expected);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let seq = tokens(&["C4.E4.G4", "C4", "d:3"]);
        let vocab = Vocabulary::build([seq.as_slice()], 1);
        let json = serde_json::to_string(&vocab).unwrap();
        assert_eq!(
            json,
            r#"{"tokens":["<unk>","C4","C4.E4.G4","d:3"],"counts":[0,1,1,1]}"#
        );
        let back: Vocabulary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vocab);
        assert_eq!(back.id(&"d:3".parse().unwrap()), 3);

        let missing_unk = r#"{"tokens":["C4"],"counts":[1]}"#;
        assert!(serde_json::from_str::<Vocabulary>(missing_unk).is_err());
        let duplicate = r#"{"tokens":["<unk>","C4","C4"],"counts":[0,1,1]}"#;
        let err = serde_json::from_str::<Vocabulary>(duplicate)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'C4' twice"), "{err}");
        let bad_token = r#"{"tokens":["<unk>","X9"],"counts":[0,1]}"#;
        assert!(serde_json::from_str::<Vocabulary>(bad_token).is_err());
    }
}
