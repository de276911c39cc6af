//! The in-memory music representation every other module speaks: a flat list of notes timed in
//! beats (quarter notes), independent of the file's resolution or tempo.

use serde::{Deserialize, Serialize};

use crate::meter::TimeSignature;
use crate::midi::TempoMap;

/// One sounding note. Times are in beats (quarter notes) from the start of the piece.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub start: f64,
    pub duration: f64,
    pub pitch: u8,
    pub velocity: u8,
}

impl Note {
    pub fn end(&self) -> f64 {
        self.start + self.duration
    }
}

/// How the file measured time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Timing {
    /// Ticks per quarter note.
    Ppq { ticks_per_beat: u16 },
    /// Absolute time: frames per second and ticks per frame.
    Smpte { fps: u8, ticks_per_frame: u8 },
}

/// Facts about the source file, for `inspect` and for sanity checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreInfo {
    /// SMF format: 0 (one track), 1 (parallel tracks) or 2 (sequential patterns).
    pub format: u8,
    /// The first time signature in the file (4/4 when it has none).
    #[serde(default)]
    pub time_signature: TimeSignature,
    pub tracks: usize,
    pub timing: Timing,
    /// Number of tempo meta events (all tracks).
    pub tempo_changes: usize,
    /// Tempo changes in beats (SMPTE files, which have no beats, get a nominal 120 BPM).
    pub tempo_map: TempoMap,
    /// Time of the last event, in beats and seconds.
    pub length_beats: f64,
    pub length_seconds: f64,
    /// Notes on channel 10 (drums) that were left out.
    pub drum_notes_skipped: usize,
    /// Tracks whose data stopped before their End of Track event (truncated or corrupt); the
    /// events read before the damage are kept.
    pub damaged_tracks: usize,
}

/// A parsed MIDI file: its notes from all (non-drum) tracks, sorted by start then pitch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub notes: Vec<Note>,
    pub info: ScoreInfo,
}
