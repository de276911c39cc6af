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
        Ok(Vocabulary { tokens: file.tokens, counts: file.counts, index })
    }
}

impl From<Vocabulary> for VocabularyFile {
    fn from(vocab: Vocabulary) -> Self {
        VocabularyFile { tokens: vocab.tokens, counts: vocab.counts }
    }
}

impl Vocabulary {
    /// Keeps tokens seen at least `min_count` times; the rest map to `<unk>`, whose count is the
    /// number of occurrences dropped. Ids follow the tokens' natural order (pitches, durations,
    /// shifts, velocities), so the same corpus always gives the same ids.
    pub fn build<'a>(sequences: impl IntoIterator<Item = &'a [Token]>, min_count: u64) -> Self {
        let mut counts: HashMap<&Token, u64> = HashMap::new();
        for sequence in sequences {
            for token in sequence {
                *counts.entry(token).or_default() += 1;
            }
        }
        let mut kept: Vec<(&Token, u64)> = Vec::new();
        let mut dropped = 0;
        for (token, count) in counts {
            if *token == Token::Unknown || count < min_count.max(1) {
                dropped += count;
            } else {
                kept.push((token, count));
            }
        }
        kept.sort();
        let file = VocabularyFile {
            tokens: std::iter::once(Token::Unknown).chain(kept.iter().map(|(t, _)| (*t).clone())).collect(),
            counts: std::iter::once(dropped).chain(kept.iter().map(|(_, c)| *c)).collect(),
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

    pub fn encode(&self, tokens: &[Token]) -> Vec<u32> {
        tokens.iter().map(|t| self.id(t)).collect()
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
        assert_eq!(vocab.tokens(), tokens(&["<unk>", "C4", "d:12", "w:12"]).as_slice());
        assert_eq!(vocab.counts(), &[2, 3, 2, 2]);
        assert_eq!(vocab.encode(&b), vec![1, 0, 3, 1]);
        assert_eq!(vocab.decode(&[1, 99]), tokens(&["C4", "<unk>"]));
        let again = Vocabulary::build([b.as_slice(), a.as_slice()], 2);
        assert_eq!(vocab, again);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let seq = tokens(&["C4.E4.G4", "C4", "d:3"]);
        let vocab = Vocabulary::build([seq.as_slice()], 1);
        let json = serde_json::to_string(&vocab).unwrap();
        assert_eq!(json, r#"{"tokens":["<unk>","C4","C4.E4.G4","d:3"],"counts":[0,1,1,1]}"#);
        let back: Vocabulary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vocab);
        assert_eq!(back.id(&"d:3".parse().unwrap()), 3);

        let missing_unk = r#"{"tokens":["C4"],"counts":[1]}"#;
        assert!(serde_json::from_str::<Vocabulary>(missing_unk).is_err());
        let duplicate = r#"{"tokens":["<unk>","C4","C4"],"counts":[0,1,1]}"#;
        let err = serde_json::from_str::<Vocabulary>(duplicate).unwrap_err().to_string();
        assert!(err.contains("'C4' twice"), "{err}");
        let bad_token = r#"{"tokens":["<unk>","X9"],"counts":[0,1]}"#;
        assert!(serde_json::from_str::<Vocabulary>(bad_token).is_err());
    }
}
