//! The report's scheme: one token per onset, rhythm thrown away.

use serde::{Deserialize, Serialize};

use super::Token;
use super::grid::quantize;
use crate::score::Note;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedConfig {
    /// Notes whose onsets snap to the same step form one chord.
    pub steps_per_beat: u16,
    /// Decoded onsets are this far apart (the report: 0.5 beat).
    pub step_beats: f64,
    /// Decoded notes all last this long (music21's default quarter note in the report's code).
    pub note_beats: f64,
    pub velocity: u8,
}

impl Default for SeedConfig {
    fn default() -> Self {
        SeedConfig {
            steps_per_beat: 12,
            step_beats: 0.5,
            note_beats: 1.0,
            velocity: 80,
        }
    }
}

impl SeedConfig {
    pub fn encode(&self, notes: &[Note]) -> Vec<Token> {
        let grid = quantize(notes, self.steps_per_beat, u32::MAX);
        grid.chunk_by(|a, b| a.start == b.start)
            .map(|chord| Token::Notes(chord.iter().map(|n| n.pitch).collect()))
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct SeedDecoder {
    config: SeedConfig,
    events: u64,
}

impl SeedDecoder {
    pub fn new(config: SeedConfig) -> Self {
        SeedDecoder { config, events: 0 }
    }

    pub fn push(&mut self, token: &Token, out: &mut Vec<Note>) {
        let start = self.events as f64 * self.config.step_beats;
        match token {
            Token::Notes(pitches) => {
                out.extend(pitches.iter().map(|&pitch| Note {
                    start,
                    duration: self.config.note_beats,
                    pitch,
                    velocity: self.config.velocity,
                }));
            }
            // An event the vocabulary could not name still took its place in time.
            Token::Unknown => {}
            // Timing tokens belong to the timed scheme; the seed scheme has no use for them.
            Token::Duration(_) | Token::Shift(_) | Token::Velocity(_) => return,
        }
        self.events += 1;
    }
}
