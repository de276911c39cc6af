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

/// The notes as one key can sound them: of two notes of a key that start together the longer is
/// kept, and a note ends where the next one on its key starts. The MIDI writer and the page's
/// audio render both play these, so a file and its WAV last equally long. Sorted by key.
pub fn without_overlaps(notes: &[Note]) -> Vec<Note> {
    let mut notes = notes.to_vec();
    notes.sort_by(|a, b| {
        (a.pitch.cmp(&b.pitch))
            .then(a.start.total_cmp(&b.start))
            .then(b.end().total_cmp(&a.end()))
    });
    notes.dedup_by(|later, kept| later.pitch == kept.pitch && later.start == kept.start);
    for i in 1..notes.len() {
        let next = notes[i];
        let current = &mut notes[i - 1];
        if current.pitch == next.pitch && current.end() > next.start {
            current.duration = next.start - current.start;
        }
    }
    notes
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

#[cfg(test)]
mod overlap_tests {
    use super::*;

    fn note(start: f64, duration: f64, pitch: u8) -> Note {
        Note {
            start,
            duration,
            pitch,
            velocity: 80,
        }
    }

    #[test]
    fn a_key_sounds_one_note_at_a_time() {
        // C4 struck at 0 for 4 beats and again at 1 for 1 beat; D4 twice at 2 (the longer kept).
        let notes = [
            note(0.0, 4.0, 60),
            note(1.0, 1.0, 60),
            note(2.0, 1.0, 62),
            note(2.0, 3.0, 62),
        ];
        let played = without_overlaps(&notes);
        assert_eq!(
            played,
            vec![note(0.0, 1.0, 60), note(1.0, 1.0, 60), note(2.0, 3.0, 62)]
        );
        // The piece ends at beat 5 (D4's longer note): the cut C4 no longer reaches beat 4.
        let last = played.iter().map(Note::end).fold(0.0, f64::max);
        assert_eq!(last, 5.0);
        let other = [note(0.0, 6.0, 60), note(1.0, 1.0, 60)];
        assert_eq!(
            without_overlaps(&other)
                .iter()
                .map(Note::end)
                .fold(0.0, f64::max),
            2.0
        );
    }
}
