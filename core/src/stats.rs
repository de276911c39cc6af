//! Statistics of a piece, computed from its notes alone, so generated music and the corpus are
//! measured the same way: the numbers behind "does it sound like the style" and "does it
//! repeat itself" (the classic LSTM generator's top complaint).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::scale::{KeyScale, Scale};
use crate::score::Note;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PieceStats {
    pub notes: usize,
    /// Onsets: distinct start times (a chord is one).
    pub events: usize,
    pub beats: f64,
    pub notes_per_beat: f64,
    /// Mean notes starting together.
    pub polyphony: f64,
    pub lowest_pitch: u8,
    pub highest_pitch: u8,
    /// Share of notes per pitch class C..B.
    pub pitch_classes: [f64; 12],
    pub mean_duration: f64,
    /// Mean time between onsets, in beats.
    pub mean_onset_gap: f64,
    /// Most consecutive onsets with the very same pitches.
    pub longest_repeat: usize,
    /// Distinct 4-grams of onsets over all 4-grams (1 = never repeats a 4-onset figure).
    pub distinct_4grams: f64,
    /// Share of onsets on a beat (a whole number of quarter notes from the piece's time 0).
    #[serde(default)]
    pub on_beat: f64,
}

/// Onsets closer than this (a 48th of a beat) count as one: the statistics and the generator's
/// repeat guard group notes into onsets alike.
pub const SAME_ONSET_BEATS: f64 = 1.0 / 48.0;

impl PieceStats {
    pub fn of(notes: &[Note]) -> PieceStats {
        let mut sorted: Vec<&Note> = notes.iter().filter(|n| n.start.is_finite()).collect();
        sorted.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.pitch.cmp(&b.pitch)));
        let mut stats = PieceStats {
            notes: sorted.len(),
            ..PieceStats::default()
        };
        if sorted.is_empty() {
            return stats;
        }
        let mut events: Vec<(f64, Vec<u8>)> = Vec::new();
        for note in &sorted {
            match events.last_mut() {
                Some((start, pitches)) if note.start - *start < SAME_ONSET_BEATS => {
                    pitches.push(note.pitch)
                }
                _ => events.push((note.start, vec![note.pitch])),
            }
        }
        let first = sorted[0].start;
        let end = sorted.iter().map(|n| n.end()).fold(first, f64::max);
        stats.events = events.len();
        stats.beats = end - first;
        stats.notes_per_beat = if stats.beats > 0.0 {
            stats.notes as f64 / stats.beats
        } else {
            0.0
        };
        stats.polyphony = stats.notes as f64 / stats.events as f64;
        stats.lowest_pitch = sorted.iter().map(|n| n.pitch).min().unwrap_or(0);
        stats.highest_pitch = sorted.iter().map(|n| n.pitch).max().unwrap_or(0);
        for note in &sorted {
            stats.pitch_classes[usize::from(note.pitch % 12)] += 1.0 / stats.notes as f64;
        }
        stats.mean_duration = sorted.iter().map(|n| n.duration).sum::<f64>() / stats.notes as f64;
        if events.len() > 1 {
            stats.mean_onset_gap =
                (events[events.len() - 1].0 - events[0].0) / (events.len() - 1) as f64;
        }
        let on_beat = events
            .iter()
            .filter(|(start, _)| (start - start.round()).abs() < 1.0 / 48.0)
            .count();
        stats.on_beat = on_beat as f64 / events.len() as f64;
        let chords: Vec<&Vec<u8>> = events.iter().map(|(_, p)| p).collect();
        let (mut run, mut longest) = (1, 1);
        for pair in chords.windows(2) {
            run = if pair[0] == pair[1] { run + 1 } else { 1 };
            longest = longest.max(run);
        }
        stats.longest_repeat = longest;
        let grams: Vec<&[&Vec<u8>]> = chords.windows(4).collect();
        stats.distinct_4grams = if grams.is_empty() {
            1.0
        } else {
            grams.iter().collect::<HashSet<_>>().len() as f64 / grams.len() as f64
        };
        stats
    }

    /// Total variation distance between two pitch-class histograms (0 = identical, 1 = disjoint).
    pub fn pitch_class_distance(&self, other: &PieceStats) -> f64 {
        self.pitch_classes
            .iter()
            .zip(&other.pitch_classes)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 2.0
    }

    /// The same piece with its pitch classes turned so its best-fitting major scale starts on
    /// C: which scale degrees it uses, whatever its key. Two sets of pieces in different keys
    /// but with the same harmony are near by this histogram and far by the absolute one.
    pub fn in_own_key(&self) -> PieceStats {
        let tonic = usize::from(KeyScale::best_fit(Scale::Major, &self.pitch_classes).tonic);
        let mut turned = self.clone();
        turned.pitch_classes =
            std::array::from_fn(|degree| self.pitch_classes[(degree + tonic) % 12]);
        turned
    }

    pub fn summary(&self) -> String {
        format!(
            "{} notes in {} onsets over {:.1} beats | {:.2} notes/beat | polyphony {:.2} | pitches {}–{} | mean length {:.2} beats | longest repeat {} | distinct 4-grams {:.3}",
            self.notes,
            self.events,
            self.beats,
            self.notes_per_beat,
            self.polyphony,
            crate::tokens::pitch_name(self.lowest_pitch),
            crate::tokens::pitch_name(self.highest_pitch),
            self.mean_duration,
            self.longest_repeat,
            self.distinct_4grams
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: f64, pitch: u8) -> Note {
        Note {
            start,
            duration: 0.5,
            pitch,
            velocity: 80,
        }
    }

    #[test]
    fn repeats_and_ngrams_are_counted_on_onsets() {
        // C E G chord, then C C C C, then D.
        let mut notes = vec![note(0.0, 60), note(0.0, 64), note(0.0, 67)];
        notes.extend((1..=4).map(|i| note(f64::from(i) * 0.5, 60)));
        notes.push(note(2.5, 62));
        let stats = PieceStats::of(&notes);
        assert_eq!((stats.notes, stats.events), (8, 6));
        assert_eq!(stats.longest_repeat, 4);
        // 4-grams: [CEG,C,C,C] [C,C,C,C] [C,C,C,D]: all distinct.
        assert_eq!(stats.distinct_4grams, 1.0);
        assert_eq!(stats.beats, 3.0);
        assert!((stats.pitch_classes[0] - 5.0 / 8.0).abs() < 1e-9);

        let drone: Vec<Note> = (0..20).map(|i| note(f64::from(i), 60)).collect();
        let stats = PieceStats::of(&drone);
        assert_eq!(stats.longest_repeat, 20);
        assert!(stats.distinct_4grams < 0.1);
        assert_eq!(stats.pitch_class_distance(&stats), 0.0);
    }

    #[test]
    fn a_tune_in_another_key_is_far_absolutely_and_the_same_in_its_own_key() {
        // A D-major scale with its tonic and fifth stressed, and the same a tritone up (A♭).
        let tune = |tonic: u8| -> Vec<Note> {
            [0u8, 2, 4, 5, 7, 9, 11, 0, 7, 0]
                .iter()
                .enumerate()
                .map(|(i, step)| note(i as f64, 60 + tonic + step))
                .collect()
        };
        let (d, a_flat) = (PieceStats::of(&tune(2)), PieceStats::of(&tune(8)));
        assert!(d.pitch_class_distance(&a_flat) > 0.5);
        assert!(d.in_own_key().pitch_class_distance(&a_flat.in_own_key()) < 1e-9);
        // Turned to C: the tonic (degree 0) holds three notes of ten.
        assert!((d.in_own_key().pitch_classes[0] - 0.3).abs() < 1e-9);
    }
}
