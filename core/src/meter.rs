//! Where an onset falls in its bar, given to the network beside each token: a recurrent net
//! cannot reliably add up `w:N` shifts to find the beat, so the position is counted for it.
//!
//! The position is derived from the token stream itself (only shifts move time), so training,
//! which reads it from a file, and generation, which follows the tokens it samples, compute it
//! the same way. A position is `step within the bar`, where a bar of `n/d` lasts `n·4/d` beats of
//! `steps_per_beat` steps; the network splits it into position within the beat and beat within
//! the bar.

use serde::{Deserialize, Serialize};

use crate::{Note, Score, Token};

/// Beats per bar the network tells apart; later beats of longer bars share the last one.
pub const MAX_BEATS: u16 = 8;

/// A time signature as MIDI writes it: `numerator / denominator` (e.g. 6/8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSignature {
    pub numerator: u8,
    pub denominator: u8,
}

impl Default for TimeSignature {
    /// Common time, which MIDI assumes when a file states none.
    fn default() -> Self {
        TimeSignature {
            numerator: 4,
            denominator: 4,
        }
    }
}

impl TimeSignature {
    /// From a MIDI meta event (denominator given as a power of two); `None` for nonsense values.
    pub fn from_midi(numerator: u8, denominator_power: u8) -> Option<TimeSignature> {
        let denominator = 1u8.checked_shl(u32::from(denominator_power))?;
        (numerator > 0 && denominator_power <= 6).then_some(TimeSignature {
            numerator,
            denominator,
        })
    }

    /// Grid steps in one bar (at least one step).
    pub fn bar_steps(self, steps_per_beat: u16) -> u64 {
        let steps = u64::from(self.numerator) * u64::from(steps_per_beat) * 4
            / u64::from(self.denominator.max(1));
        steps.max(1)
    }
}

impl std::fmt::Display for TimeSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

/// Follows a token stream and says where it stands in the bar.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricClock {
    steps_per_beat: u16,
    signature: TimeSignature,
    bar_steps: u64,
    /// Grid steps since the start of the first bar.
    time: u64,
}

impl MetricClock {
    /// A clock at `start_step` steps into the piece (the first onset's time: tokens start there).
    pub fn new(steps_per_beat: u16, signature: TimeSignature, start_step: u64) -> Self {
        MetricClock {
            signature,
            steps_per_beat: steps_per_beat.max(1),
            bar_steps: signature.bar_steps(steps_per_beat.max(1)),
            time: start_step,
        }
    }

    /// The clock where a piece's tokens start: at its first onset, which may fall mid-bar.
    pub fn at_first_note(steps_per_beat: u16, signature: TimeSignature, notes: &[Note]) -> Self {
        let start = notes.first().map_or(0.0, |n| n.start.max(0.0));
        let start_step = (start * f64::from(steps_per_beat.max(1))).round() as u64;
        MetricClock::new(steps_per_beat, signature, start_step)
    }

    /// Where a file's tokens start: its first onset, in its first time signature.
    pub fn for_score(steps_per_beat: u16, score: &Score) -> Self {
        MetricClock::at_first_note(steps_per_beat, score.info.time_signature, &score.notes)
    }

    /// Moves past `token` and returns the position after it (what the network sees with it).
    pub fn advance(&mut self, token: &Token) -> u16 {
        if let Token::Shift(steps) = token {
            self.time = self.time.saturating_add(u64::from(*steps));
        }
        self.position()
    }

    pub fn signature(&self) -> TimeSignature {
        self.signature
    }

    /// Grid steps since the start of the first bar.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// Step within the bar, capped at [`MAX_BEATS`] beats.
    pub fn position(&self) -> u16 {
        let in_bar = self.time % self.bar_steps;
        let cap = u64::from(MAX_BEATS) * u64::from(self.steps_per_beat) - 1;
        in_bar.min(cap) as u16
    }

    /// Positions after each token of `tokens`, advancing the clock.
    pub fn positions<'a>(&mut self, tokens: impl IntoIterator<Item = &'a Token>) -> Vec<u16> {
        tokens.into_iter().map(|t| self.advance(t)).collect()
    }

    /// Number of distinct positions a network needs to embed for this grid.
    pub fn table_size(steps_per_beat: u16) -> usize {
        usize::from(MAX_BEATS) * usize::from(steps_per_beat.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_shifts_and_wrap_at_the_bar() {
        // 3/4 at 4 steps per beat: 12 steps per bar.
        let signature = TimeSignature::from_midi(3, 2).unwrap();
        let mut clock = MetricClock::new(4, signature, 2);
        let tokens = [
            Token::Notes(vec![60]),
            Token::Duration(4),
            Token::Shift(6),
            Token::Velocity(1),
            Token::Notes(vec![62]),
            Token::Shift(4),
            Token::Shift(4),
        ];
        assert_eq!(clock.positions(&tokens), vec![2, 2, 8, 8, 8, 0, 4]);
    }

    #[test]
    fn compound_and_long_bars() {
        assert_eq!(TimeSignature::from_midi(6, 3).unwrap().bar_steps(12), 36);
        assert_eq!(TimeSignature::default().bar_steps(12), 48);
        assert_eq!(TimeSignature::from_midi(0, 2), None);
        // 12/4 is longer than MAX_BEATS: the last beats share the final position.
        let long = TimeSignature::from_midi(12, 2).unwrap();
        let clock = MetricClock::new(2, long, 23);
        assert_eq!(clock.position(), 15);
    }
}
