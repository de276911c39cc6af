//! Beats ⇄ seconds through a file's tempo changes.

use serde::{Deserialize, Serialize};

/// Tempo in force from `beat` on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TempoChange {
    pub beat: f64,
    pub bpm: f64,
}

/// A piecewise-constant tempo: always starts at beat 0, sorted, one entry per beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TempoMap {
    changes: Vec<TempoChange>,
}

pub const DEFAULT_BPM: f64 = 120.0;

impl TempoMap {
    pub fn constant(bpm: f64) -> Self {
        TempoMap {
            changes: vec![TempoChange { beat: 0.0, bpm }],
        }
    }

    /// Builds a map from changes in any order; a later entry at the same beat wins, as it would
    /// in playback. Before the first change the MIDI default of 120 BPM holds.
    pub fn from_changes(mut changes: Vec<TempoChange>) -> Self {
        changes.retain(|c| c.bpm.is_finite() && c.bpm > 0.0 && c.beat.is_finite());
        changes.sort_by(|a, b| a.beat.total_cmp(&b.beat));
        let mut out: Vec<TempoChange> = Vec::with_capacity(changes.len() + 1);
        for change in changes {
            match out.last_mut() {
                Some(last) if last.beat == change.beat => *last = change,
                _ => out.push(change),
            }
        }
        if out.first().is_none_or(|c| c.beat > 0.0) {
            out.insert(
                0,
                TempoChange {
                    beat: 0.0,
                    bpm: DEFAULT_BPM,
                },
            );
        }
        TempoMap { changes: out }
    }

    pub fn changes(&self) -> &[TempoChange] {
        &self.changes
    }

    pub fn initial_bpm(&self) -> f64 {
        self.changes[0].bpm
    }

    /// Seconds elapsed from the start to `beat`.
    pub fn seconds_at(&self, beat: f64) -> f64 {
        let mut seconds = 0.0;
        for (i, change) in self.changes.iter().enumerate() {
            if beat <= change.beat {
                break;
            }
            let segment_end = self
                .changes
                .get(i + 1)
                .map_or(beat, |next| next.beat.min(beat));
            seconds += (segment_end - change.beat) * 60.0 / change.bpm;
        }
        seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_follow_each_tempo_segment() {
        let map = TempoMap::from_changes(vec![
            TempoChange {
                beat: 4.0,
                bpm: 60.0,
            },
            TempoChange {
                beat: 0.0,
                bpm: 120.0,
            },
            TempoChange {
                beat: 6.0,
                bpm: 240.0,
            },
        ]);
        assert_eq!(map.seconds_at(0.0), 0.0);
        assert_eq!(map.seconds_at(4.0), 2.0); // 4 beats at 120
        assert_eq!(map.seconds_at(6.0), 4.0); // + 2 beats at 60
        assert_eq!(map.seconds_at(10.0), 5.0); // + 4 beats at 240
    }

    #[test]
    fn default_tempo_holds_before_first_change_and_last_duplicate_wins() {
        let map = TempoMap::from_changes(vec![
            TempoChange {
                beat: 2.0,
                bpm: 90.0,
            },
            TempoChange {
                beat: 2.0,
                bpm: 60.0,
            },
        ]);
        assert_eq!(map.changes().len(), 2);
        assert_eq!(map.initial_bpm(), DEFAULT_BPM);
        assert_eq!(map.seconds_at(3.0), 1.0 + 1.0);
    }
}
