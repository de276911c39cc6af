//! Notes snapped to a beat grid: the common ground of encoding and of measuring round trips.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::score::Note;

/// A note whose start and duration are whole grid steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GridNote {
    pub start: u64,
    pub duration: u32,
    pub pitch: u8,
    pub velocity: u8,
}

/// Snaps onsets and ends to the grid (durations at least one step, at most `max_duration`),
/// sorted by start then pitch. Two notes of the same pitch starting on the same step are one key
/// struck once on a piano: the longer is kept.
pub fn quantize(notes: &[Note], steps_per_beat: u16, max_duration: u32) -> Vec<GridNote> {
    let steps = f64::from(steps_per_beat);
    let to_step = |beats: f64| (beats * steps).round().max(0.0) as u64;
    let mut grid: Vec<GridNote> = notes
        .iter()
        .filter(|n| n.start.is_finite() && n.duration.is_finite())
        .map(|n| {
            let start = to_step(n.start);
            let end = to_step(n.end());
            GridNote {
                start,
                duration: end
                    .saturating_sub(start)
                    .clamp(1, u64::from(max_duration.max(1))) as u32,
                pitch: n.pitch,
                velocity: n.velocity,
            }
        })
        .collect();
    grid.sort_by(|a, b| {
        (a.start, a.pitch)
            .cmp(&(b.start, b.pitch))
            .then(b.duration.cmp(&a.duration))
    });
    grid.dedup_by(|later, kept| later.start == kept.start && later.pitch == kept.pitch);
    grid
}

/// How many reference notes survive a round trip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MatchRate {
    pub reference_notes: usize,
    /// Same pitch on the same step.
    pub pitch_and_onset: usize,
    /// Same pitch, step and duration.
    pub exact: usize,
}

impl MatchRate {
    pub fn onset_rate(&self) -> f64 {
        ratio(self.pitch_and_onset, self.reference_notes)
    }

    pub fn exact_rate(&self) -> f64 {
        ratio(self.exact, self.reference_notes)
    }

    pub fn add(&mut self, other: MatchRate) {
        self.reference_notes += other.reference_notes;
        self.pitch_and_onset += other.pitch_and_onset;
        self.exact += other.exact;
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Compares two quantized note lists as multisets keyed by (start, pitch).
pub fn match_rate(reference: &[GridNote], actual: &[GridNote]) -> MatchRate {
    let mut found: HashMap<(u64, u8), Vec<u32>> = HashMap::with_capacity(actual.len());
    for note in actual {
        found
            .entry((note.start, note.pitch))
            .or_default()
            .push(note.duration);
    }
    let mut rate = MatchRate {
        reference_notes: reference.len(),
        ..MatchRate::default()
    };
    for note in reference {
        if let Some(durations) = found.get_mut(&(note.start, note.pitch))
            && !durations.is_empty()
        {
            rate.pitch_and_onset += 1;
            let same = durations
                .iter()
                .position(|d| *d == note.duration)
                .unwrap_or(0);
            if durations.swap_remove(same) == note.duration {
                rate.exact += 1;
            }
        }
    }
    rate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: f64, duration: f64, pitch: u8) -> Note {
        Note {
            start,
            duration,
            pitch,
            velocity: 64,
        }
    }

    #[test]
    fn quantize_snaps_dedupes_and_bounds_durations() {
        let notes = [
            note(0.01, 0.49, 60),
            note(0.0, 1.0, 60),       // same key, same step: the longer survives
            note(1.0 / 3.0, 0.0, 64), // zero-length: one step
            note(2.0, 100.0, 67),     // capped
        ];
        let grid = quantize(&notes, 12, 96);
        assert_eq!(
            grid,
            vec![
                GridNote {
                    start: 0,
                    duration: 12,
                    pitch: 60,
                    velocity: 64
                },
                GridNote {
                    start: 4,
                    duration: 1,
                    pitch: 64,
                    velocity: 64
                },
                GridNote {
                    start: 24,
                    duration: 96,
                    pitch: 67,
                    velocity: 64
                },
            ]
        );
    }

    #[test]
    fn match_rate_counts_onsets_and_durations_separately() {
        let a = GridNote {
            start: 0,
            duration: 6,
            pitch: 60,
            velocity: 64,
        };
        let reference = [a, GridNote { pitch: 62, ..a }, GridNote { start: 6, ..a }];
        let actual = [
            a,
            GridNote {
                pitch: 62,
                duration: 3,
                ..a
            },
        ];
        let rate = match_rate(&reference, &actual);
        assert_eq!(
            rate,
            MatchRate {
                reference_notes: 3,
                pitch_and_onset: 2,
                exact: 1
            }
        );
    }
}
