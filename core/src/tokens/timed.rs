//! The default scheme: pitches, durations and onset shifts on a fine beat grid.

use serde::{Deserialize, Serialize};

use super::Token;
use super::grid::{GridNote, quantize};
use crate::score::Note;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimedConfig {
    /// 12 steps per beat hold both sixteenths (3 steps) and eighth-note triplets (4 steps).
    pub steps_per_beat: u16,
    /// Longer notes are cut to this (default 8 beats: two bars of 4/4).
    pub max_duration_steps: u16,
    /// Largest single shift token; longer gaps take several (default 4 beats).
    pub max_shift_steps: u16,
    /// Silences longer than this are shortened to it (default 16 beats), so a file with an
    /// absurd gap cannot turn into millions of shift tokens.
    pub max_rest_steps: u32,
    /// 0 leaves loudness out; N > 0 adds N equal-width velocity buckets (default 4: pp, p–mp,
    /// mf, f–ff), a `v:B` token only where the level changes.
    pub velocity_buckets: u8,
    /// Loudness of decoded notes when buckets are off.
    pub default_velocity: u8,
    /// The velocity each bucket decodes to: the mean of the corpus's notes in it
    /// ([`TimedConfig::measured_levels`], written by `trainer-cli tune`). Empty: the bucket's
    /// centre, which for the quietest bucket (16) is far below what performers play in it
    /// (26–28 in every corpus here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub velocity_levels: Vec<u8>,
}

impl Default for TimedConfig {
    fn default() -> Self {
        TimedConfig {
            steps_per_beat: 12,
            max_duration_steps: 96,
            max_shift_steps: 48,
            max_rest_steps: 192,
            velocity_buckets: 4,
            default_velocity: 80,
            velocity_levels: Vec::new(),
        }
    }
}

impl TimedConfig {
    /// Notes as the encoder sees them: quantized, starting at step 0, long rests shortened.
    /// Decoding this scheme's tokens gives back exactly these notes (velocity aside).
    pub fn canonical(&self, notes: &[Note]) -> Vec<GridNote> {
        let mut grid = quantize(
            notes,
            self.steps_per_beat,
            u32::from(self.max_duration_steps),
        );
        let Some(first) = grid.first().map(|n| n.start) else {
            return grid;
        };
        let (mut previous_source, mut previous_target) = (first, 0u64);
        for note in &mut grid {
            if note.start != previous_source {
                let gap = (note.start - previous_source).min(u64::from(self.max_rest_steps.max(1)));
                previous_source = note.start;
                previous_target += gap;
            }
            note.start = previous_target;
        }
        grid
    }

    pub fn encode(&self, notes: &[Note]) -> Vec<Token> {
        let grid = self.canonical(notes);
        let mut tokens = Vec::with_capacity(grid.len() * 2);
        let mut last_bucket = None;
        let onsets: Vec<&[GridNote]> = grid.chunk_by(|a, b| a.start == b.start).collect();
        for (i, onset) in onsets.iter().enumerate() {
            // Groups of equal (loudness, duration), ordered by their lowest pitch.
            let mut groups: Vec<(u8, u32, Vec<u8>)> = Vec::new();
            for note in onset.iter() {
                let bucket = self.bucket(note.velocity);
                match groups
                    .iter_mut()
                    .find(|g| g.0 == bucket && g.1 == note.duration)
                {
                    Some(group) => group.2.push(note.pitch),
                    None => groups.push((bucket, note.duration, vec![note.pitch])),
                }
            }
            for (bucket, duration, pitches) in groups {
                if self.velocity_buckets > 0 && last_bucket != Some(bucket) {
                    tokens.push(Token::Velocity(bucket));
                    last_bucket = Some(bucket);
                }
                tokens.extend(pitches.into_iter().map(|p| Token::Notes(vec![p])));
                tokens.push(Token::Duration(duration as u16));
            }
            if let Some(next) = onsets.get(i + 1) {
                let mut gap = next[0].start - onset[0].start;
                let max_shift = u64::from(self.max_shift_steps.max(1));
                while gap > 0 {
                    let step = gap.min(max_shift);
                    tokens.push(Token::Shift(step as u16));
                    gap -= step;
                }
            }
        }
        tokens
    }

    fn bucket(&self, velocity: u8) -> u8 {
        if self.velocity_buckets == 0 {
            return 0;
        }
        let buckets = u32::from(self.velocity_buckets);
        (u32::from(velocity) * buckets / 128).min(buckets - 1) as u8
    }

    fn bucket_velocity(&self, bucket: u8) -> u8 {
        if self.velocity_buckets == 0 {
            return self.default_velocity;
        }
        match self.velocity_levels.get(usize::from(bucket)) {
            Some(&level) => level.clamp(1, 127),
            None => self.bucket_centre(bucket),
        }
    }

    fn bucket_centre(&self, bucket: u8) -> u8 {
        let width = 128.0 / f64::from(self.velocity_buckets);
        ((f64::from(bucket) + 0.5) * width)
            .round()
            .clamp(1.0, 127.0) as u8
    }

    /// The mean velocity of `notes` in each bucket (rounded), for [`Self::velocity_levels`];
    /// a bucket no note falls in keeps its centre. Empty when buckets are off.
    pub fn measured_levels<'a>(&self, notes: impl IntoIterator<Item = &'a Note>) -> Vec<u8> {
        let mut sums = vec![(0u64, 0u64); usize::from(self.velocity_buckets)];
        if sums.is_empty() {
            return Vec::new();
        }
        for note in notes {
            let (sum, count) = &mut sums[usize::from(self.bucket(note.velocity))];
            *sum += u64::from(note.velocity);
            *count += 1;
        }
        sums.iter()
            .enumerate()
            .map(|(bucket, &(sum, count))| match count {
                0 => self.bucket_centre(bucket as u8),
                _ => ((sum as f64 / count as f64).round() as u8).clamp(1, 127),
            })
            .collect()
    }
}

/// Turns a token stream back into notes, tolerating any order a model might produce: pitches
/// with no duration before the next shift get the last duration seen.
#[derive(Clone, Debug)]
pub struct TimedDecoder {
    config: TimedConfig,
    time: u64,
    pending: Vec<u8>,
    velocity: u8,
    last_duration: u16,
}

impl TimedDecoder {
    pub fn new(config: TimedConfig) -> Self {
        TimedDecoder {
            velocity: config.bucket_velocity(config.bucket(config.default_velocity)),
            last_duration: config.steps_per_beat.max(1),
            time: 0,
            pending: Vec::new(),
            config,
        }
    }

    pub fn push(&mut self, token: &Token, out: &mut Vec<Note>) {
        match token {
            Token::Notes(pitches) => self.pending.extend_from_slice(pitches),
            Token::Duration(steps) => {
                self.last_duration = (*steps).max(1);
                self.flush(out);
            }
            Token::Shift(steps) => {
                self.flush(out);
                self.time = self.time.saturating_add(u64::from(*steps));
            }
            Token::Velocity(bucket) => {
                self.flush(out);
                let bucket = (*bucket).min(self.config.velocity_buckets.saturating_sub(1));
                self.velocity = self.config.bucket_velocity(bucket);
            }
            Token::Unknown => {}
        }
    }

    pub fn finish(&mut self, out: &mut Vec<Note>) {
        self.flush(out);
    }

    fn flush(&mut self, out: &mut Vec<Note>) {
        let steps = f64::from(self.config.steps_per_beat.max(1));
        let start = self.time as f64 / steps;
        let duration = f64::from(self.last_duration) / steps;
        out.extend(self.pending.drain(..).map(|pitch| Note {
            start,
            duration,
            pitch,
            velocity: self.velocity,
        }));
    }
}
