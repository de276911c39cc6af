//! One generation request, resolved the same way by `trainer-cli generate` and by the page, so a
//! model, settings and seed give the same notes and the same MIDI bytes in both.

use serde::{Deserialize, Serialize};

use crate::bundle::Manifest;
use crate::error::MidiError;
use crate::generate::Generator;
use crate::meter::{MetricClock, TimeSignature};
use crate::midi::{ReadOptions, WriteOptions, read_midi, write_midi};
use crate::sample::SamplingConfig;
use crate::score::{Note, Score};

/// Longest prime taken from a user's MIDI file (its last tokens): enough context for the
/// recurrent state, short enough to prime instantly.
pub const MAX_PRIME_TOKENS: usize = 256;

/// Where a piece starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Start {
    /// The first token is drawn from the corpus's token frequencies.
    Nothing,
    /// One of the corpus openings shipped in the bundle, picked by the seed.
    CorpusExcerpt,
    /// The notes of a MIDI file the user chose, with its time signature.
    Notes(Vec<Note>, TimeSignature),
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Midi(#[from] MidiError),
    #[error("it has no notes to start from")]
    NoNotes,
}

impl Start {
    /// Reads a user's MIDI file (drums left out, as in training).
    pub fn from_midi(bytes: &[u8]) -> Result<Start, StartError> {
        Start::from_score(read_midi(bytes, &ReadOptions::default())?)
    }

    /// A user's piece as a start; an empty file is refused rather than silently ignored.
    pub fn from_score(score: Score) -> Result<Start, StartError> {
        if score.notes.is_empty() {
            return Err(StartError::NoNotes);
        }
        Ok(Start::Notes(score.notes, score.info.time_signature))
    }
}

/// Everything that names a piece: the same request on the same model writes the same notes.
/// Serializable, so the page can hand it to the worker that runs the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PieceRequest {
    /// Notes to generate after the prime.
    pub notes: usize,
    pub sampling: SamplingConfig,
    pub seed: u64,
    /// 0: the piece the seed names. k ≥ 1: its k-th variation, the same start sampled with
    /// another random stream.
    pub variation: u32,
    pub start: Start,
    pub bpm: f64,
}

impl PieceRequest {
    /// Token ids the model is primed with, and where they start in the bar.
    pub fn prime(&self, manifest: &Manifest) -> (Vec<u32>, MetricClock) {
        let vocab = &manifest.vocabulary;
        let steps_per_beat = manifest.tokenizer.steps_per_beat();
        let bar_start = MetricClock::new(steps_per_beat, TimeSignature::default(), 0);
        match &self.start {
            Start::Nothing => (Vec::new(), bar_start),
            Start::CorpusExcerpt => {
                // Seeds take the openings in turn: any run of seeds hears them all equally
                // (they span the style's range of pace, see `trainer-cli export`).
                let count = manifest.primes.len().max(1) as u64;
                manifest
                    .primes
                    .get((self.seed % count) as usize)
                    .map_or_else(
                        || (Vec::new(), bar_start.clone()),
                        |p| {
                            let clock =
                                MetricClock::new(steps_per_beat, p.time_signature, p.start_step);
                            (vocab.encode(&p.tokens), clock)
                        },
                    )
            }
            Start::Notes(notes, signature) => {
                let ids = vocab.encode(&manifest.tokenizer.encode(notes));
                let cut = ids.len().saturating_sub(MAX_PRIME_TOKENS);
                let mut clock = MetricClock::at_first_note(steps_per_beat, *signature, notes);
                clock.positions(ids[..cut].iter().map(|&id| vocab.token(id)));
                (ids[cut..].to_vec(), clock)
            }
        }
    }

    pub fn generator(&self, manifest: &Manifest) -> Generator {
        let (prime, clock) = self.prime(manifest);
        Generator::new(
            &manifest.tokenizer,
            manifest.vocabulary.clone(),
            &prime,
            manifest
                .model
                .meter_steps_per_beat
                .is_some()
                .then_some(clock),
            self.sampling.clone(),
            self.sampling_seed(),
        )
    }

    /// The sampler's seed: the request's own for the piece itself, a derived one per variation
    /// (the start, chosen by the request's seed, stays).
    fn sampling_seed(&self) -> u64 {
        match self.variation {
            0 => self.seed,
            k => crate::data::splitmix64(
                self.seed ^ u64::from(k).wrapping_mul(crate::data::GOLDEN_GAMMA),
            ),
        }
    }

    /// What names the piece: its seed, and its variation if it is one.
    fn label(&self) -> String {
        match self.variation {
            0 => format!("seed {}", self.seed),
            k => format!("seed {} variation {k}", self.seed),
        }
    }

    /// Tokens to stop at even if too few notes came: every note costs at most a few tokens, so
    /// the cap only stops a model that emits no notes.
    pub fn token_budget(&self) -> usize {
        self.notes * 16 + 64
    }

    /// The piece as a Standard MIDI File (the prime's notes included, as generated).
    pub fn midi(&self, style_id: &str, notes: &[Note]) -> Vec<u8> {
        let options = WriteOptions {
            bpm: self.bpm,
            track_name: format!("{style_id} {}", self.label()),
            ..WriteOptions::default()
        };
        write_midi(notes, &options)
    }

    /// A download name that says what made the piece.
    pub fn file_name(&self, style_id: &str) -> String {
        format!("{style_id}-{}.mid", self.label().replace(' ', "-"))
    }
}
