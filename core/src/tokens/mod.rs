//! Notes ⇄ tokens. Two schemes, chosen by name:
//!
//! - `seed`: the report's scheme, kept as a baseline. One token per onset: the pitch (`E4`) or the
//!   chord of notes starting together (`C4.E4.G4`, octaves kept, unlike the report). Decoding
//!   places events a fixed 0.5 beat apart, each 1 beat long, as the report's music21 code did.
//! - `timed` (default): an event stream on a grid of `steps_per_beat` steps per beat. Per onset,
//!   notes are grouped by duration; each group is its pitches (`C4` `E4`) followed by its
//!   duration (`d:6`); then `w:N` advances to the next onset. Optional velocity buckets add `v:B`
//!   before a group whose loudness differs from the previous one. The vocabulary is bounded by
//!   construction: 128 pitches + durations up to a cap + shifts up to a cap + buckets.

mod grid;
mod seed;
mod timed;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use grid::{GridNote, MatchRate, match_rate, quantize};
pub use seed::SeedConfig;
pub use timed::TimedConfig;

use crate::score::Note;

/// One vocabulary entry. Shown and stored as text (`<unk>`, `C4.E4.G4`, `d:12`, `w:6`, `v:3`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Token {
    /// Anything the vocabulary does not hold.
    Unknown,
    /// A pitch, or a chord of pitches sounding together: sorted, no repeats.
    Notes(Vec<u8>),
    /// Length of the preceding pitches, in grid steps.
    Duration(u16),
    /// Time to the next onset, in grid steps.
    Shift(u16),
    /// Loudness bucket for the following notes.
    Velocity(u8),
}

/// The 88 keys of a piano, A0..C8: transposition keeps notes inside them.
pub const PIANO_RANGE: std::ops::RangeInclusive<u8> = 21..=108;

/// What a token says about the music, for losses reported per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Unknown,
    Pitch,
    Duration,
    Shift,
    Velocity,
}

impl TokenKind {
    pub const ALL: [TokenKind; 5] = [
        TokenKind::Pitch,
        TokenKind::Duration,
        TokenKind::Shift,
        TokenKind::Velocity,
        TokenKind::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Unknown => "unknown",
            TokenKind::Pitch => "pitch",
            TokenKind::Duration => "duration",
            TokenKind::Shift => "shift",
            TokenKind::Velocity => "velocity",
        }
    }

    /// Pitch and timing: what every token set must say to write down notes. Loss over these
    /// kinds per note compares models whose token sets differ (with or without velocity).
    pub fn is_note_content(self) -> bool {
        matches!(
            self,
            TokenKind::Pitch | TokenKind::Duration | TokenKind::Shift
        )
    }
}

impl Token {
    pub fn kind(&self) -> TokenKind {
        match self {
            Token::Unknown => TokenKind::Unknown,
            Token::Notes(_) => TokenKind::Pitch,
            Token::Duration(_) => TokenKind::Duration,
            Token::Shift(_) => TokenKind::Shift,
            Token::Velocity(_) => TokenKind::Velocity,
        }
    }

    /// Notes the token starts (a chord token starts several).
    pub fn note_count(&self) -> usize {
        match self {
            Token::Notes(pitches) => pitches.len(),
            _ => 0,
        }
    }

    /// The token moved by `semitones`; `None` when a pitch would leave the piano's keys. Tokens
    /// without pitch are unchanged.
    pub fn transposed(&self, semitones: i8) -> Option<Token> {
        match self {
            Token::Notes(pitches) => pitches
                .iter()
                .map(|&p| {
                    u8::try_from(i16::from(p) + i16::from(semitones))
                        .ok()
                        .filter(|p| PIANO_RANGE.contains(p))
                })
                .collect::<Option<Vec<u8>>>()
                .map(Token::Notes),
            other => Some(other.clone()),
        }
    }
}

const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// `60` → `C4` (MIDI 60 is middle C, as in music21 and most DAWs).
pub fn pitch_name(pitch: u8) -> String {
    let octave = i32::from(pitch / 12) - 1;
    format!("{}{}", PITCH_CLASSES[usize::from(pitch % 12)], octave)
}

/// `C4`, `C#4`, `Db4`, `C-1` → MIDI pitch.
pub fn parse_pitch_name(name: &str) -> Option<u8> {
    let mut chars = name.chars();
    let base: i32 = match chars.next()? {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest = chars.as_str();
    let (alter, octave) = match rest.as_bytes().first()? {
        b'#' => (1, &rest[1..]),
        b'b' => (-1, &rest[1..]),
        _ => (0, rest),
    };
    let octave: i32 = octave.parse().ok()?;
    let pitch = (octave + 1).checked_mul(12)? + base + alter;
    u8::try_from(pitch).ok().filter(|p| *p < 128)
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Unknown => f.write_str("<unk>"),
            Token::Notes(pitches) => {
                for (i, pitch) in pitches.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(&pitch_name(*pitch))?;
                }
                Ok(())
            }
            Token::Duration(steps) => write!(f, "d:{steps}"),
            Token::Shift(steps) => write!(f, "w:{steps}"),
            Token::Velocity(bucket) => write!(f, "v:{bucket}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a token (expected <unk>, a pitch like C4, a chord like C4.E4.G4, d:N, w:N or v:N)"
)]
pub struct ParseTokenError(pub String);

impl FromStr for Token {
    type Err = ParseTokenError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || ParseTokenError(text.to_owned());
        let number = |digits: &str| digits.parse().map_err(|_| err());
        if text == "<unk>" {
            return Ok(Token::Unknown);
        }
        if let Some(steps) = text.strip_prefix("d:") {
            return Ok(Token::Duration(number(steps)?));
        }
        if let Some(steps) = text.strip_prefix("w:") {
            return Ok(Token::Shift(number(steps)?));
        }
        if let Some(bucket) = text.strip_prefix("v:") {
            return Ok(Token::Velocity(bucket.parse().map_err(|_| err())?));
        }
        let mut pitches = text
            .split('.')
            .map(|name| parse_pitch_name(name).ok_or_else(err))
            .collect::<Result<Vec<u8>, _>>()?;
        pitches.sort_unstable();
        pitches.dedup();
        Ok(Token::Notes(pitches))
    }
}

impl From<Token> for String {
    fn from(token: Token) -> String {
        token.to_string()
    }
}

impl TryFrom<String> for Token {
    type Error = ParseTokenError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Which scheme, by the name users type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    Seed,
    Timed,
}

impl TokenizerKind {
    pub const ALL: [TokenizerKind; 2] = [TokenizerKind::Seed, TokenizerKind::Timed];

    pub fn name(self) -> &'static str {
        match self {
            TokenizerKind::Seed => "seed",
            TokenizerKind::Timed => "timed",
        }
    }
}

impl fmt::Display for TokenizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tokenizer '{0}' (expected 'seed' or 'timed')")]
pub struct UnknownTokenizer(pub String);

impl FromStr for TokenizerKind {
    type Err = UnknownTokenizer;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        TokenizerKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownTokenizer(name.to_owned()))
    }
}

/// A tokenizer with its settings; stored in a model's manifest so decoding matches training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Tokenizer {
    Seed(SeedConfig),
    Timed(TimedConfig),
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer::new(TokenizerKind::Timed)
    }
}

impl Tokenizer {
    /// The scheme with its default settings.
    pub fn new(kind: TokenizerKind) -> Self {
        match kind {
            TokenizerKind::Seed => Tokenizer::Seed(SeedConfig::default()),
            TokenizerKind::Timed => Tokenizer::Timed(TimedConfig::default()),
        }
    }

    pub fn kind(&self) -> TokenizerKind {
        match self {
            Tokenizer::Seed(_) => TokenizerKind::Seed,
            Tokenizer::Timed(_) => TokenizerKind::Timed,
        }
    }

    pub fn encode(&self, notes: &[Note]) -> Vec<Token> {
        match self {
            Tokenizer::Seed(config) => config.encode(notes),
            Tokenizer::Timed(config) => config.encode(notes),
        }
    }

    pub fn decode(&self, tokens: &[Token]) -> Vec<Note> {
        let mut decoder = self.decoder();
        let mut notes = Vec::new();
        for token in tokens {
            decoder.push(token, &mut notes);
        }
        decoder.finish(&mut notes);
        notes
    }

    /// A decoder fed one token at a time, so notes can be shown while they are generated.
    pub fn decoder(&self) -> Decoder {
        match self {
            Tokenizer::Seed(config) => Decoder::Seed(seed::SeedDecoder::new(config.clone())),
            Tokenizer::Timed(config) => Decoder::Timed(timed::TimedDecoder::new(config.clone())),
        }
    }

    /// The grid the scheme quantizes onsets to.
    pub fn steps_per_beat(&self) -> u16 {
        match self {
            Tokenizer::Seed(config) => config.steps_per_beat,
            Tokenizer::Timed(config) => config.steps_per_beat,
        }
    }
}

/// Streaming decoder: any token sequence decodes (unknown or misplaced tokens are skipped), so a
/// model's output can never make decoding fail.
#[derive(Clone, Debug)]
pub enum Decoder {
    Seed(seed::SeedDecoder),
    Timed(timed::TimedDecoder),
}

impl Decoder {
    /// Appends the notes that `token` completes.
    pub fn push(&mut self, token: &Token, out: &mut Vec<Note>) {
        match self {
            Decoder::Seed(decoder) => decoder.push(token, out),
            Decoder::Timed(decoder) => decoder.push(token, out),
        }
    }

    /// Appends notes still waiting for a duration at the end of the stream.
    pub fn finish(&mut self, out: &mut Vec<Note>) {
        match self {
            Decoder::Seed(_) => {}
            Decoder::Timed(decoder) => decoder.finish(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitch_names_round_trip_over_the_whole_midi_range() {
        for pitch in 0..128u8 {
            assert_eq!(parse_pitch_name(&pitch_name(pitch)), Some(pitch), "{pitch}");
        }
        assert_eq!(pitch_name(60), "C4");
        assert_eq!(pitch_name(0), "C-1");
        assert_eq!(parse_pitch_name("Db4"), Some(61));
        assert_eq!(parse_pitch_name("G9"), Some(127));
        assert_eq!(parse_pitch_name("G#9"), None);
        assert_eq!(parse_pitch_name("H4"), None);
    }

    #[test]
    fn tokens_round_trip_through_text() {
        for text in ["<unk>", "C4", "C4.E4.G4", "d:12", "w:48", "v:3", "C-1.G9"] {
            let token: Token = text.parse().unwrap();
            assert_eq!(token.to_string(), text);
        }
        assert!("C4..E4".parse::<Token>().is_err());
        assert!("d:".parse::<Token>().is_err());
        assert!("w:-1".parse::<Token>().is_err());
    }

    #[test]
    fn transposition_moves_pitches_and_stays_on_the_piano() {
        let chord: Token = "C4.E4.G4".parse().unwrap();
        assert_eq!(chord.transposed(2), Some("D4.F#4.A4".parse().unwrap()));
        assert_eq!(chord.transposed(-5), Some("G3.B3.D4".parse().unwrap()));
        let top: Token = "C8".parse().unwrap();
        assert_eq!(top.transposed(1), None);
        assert_eq!("A0".parse::<Token>().unwrap().transposed(-1), None);
        assert_eq!(Token::Shift(6).transposed(3), Some(Token::Shift(6)));
        assert_eq!(chord.note_count(), 3);
        assert_eq!(Token::Duration(3).kind(), TokenKind::Duration);
    }

    #[test]
    fn tokenizer_kinds_parse_by_name() {
        assert_eq!("timed".parse::<TokenizerKind>(), Ok(TokenizerKind::Timed));
        assert_eq!("seed".parse::<TokenizerKind>(), Ok(TokenizerKind::Seed));
        assert!("music21".parse::<TokenizerKind>().is_err());
    }
}
