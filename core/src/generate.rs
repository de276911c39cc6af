//! Generation, one token per model step, shared by the trainer (which reads logits
//! synchronously) and the browser (which must read them asynchronously): the caller runs
//! [`Generator::logits`], reads the tensor however its platform allows, and hands the numbers to
//! [`Generator::accept`].

use burn::prelude::*;

use crate::memory::MotifMemory;
use crate::meter::MetricClock;
use crate::model::{MusicModel, PackedModel, PackedState, State};
use crate::sample::{Sampler, SamplingConfig};
use crate::score::Note;
use crate::tokens::{Decoder, Tokenizer};
use crate::vocab::Vocabulary;

pub struct Generator {
    vocab: Vocabulary,
    sampler: Sampler,
    decoder: Decoder,
    state: Option<State>,
    /// The state when stepping a [`PackedModel`] instead.
    packed: Option<PackedState>,
    /// Fed to the model on the next step: the whole prime at first, then the last token.
    pending: Vec<u32>,
    /// Follows the tokens for a network that takes metric positions; `pending_meter` holds the
    /// positions of `pending`.
    clock: Option<MetricClock>,
    pending_meter: Vec<u16>,
    /// Per id, whether the key and scale allow it (none: no constraint).
    allowed: Option<Vec<bool>>,
    /// The piece so far, prime included, when sampling restates from it.
    memory: Option<MotifMemory>,
    /// Ids chosen so far (the prime not included).
    pub generated: Vec<u32>,
    /// Notes decoded so far, the prime's first.
    pub notes: Vec<Note>,
    pub prime_notes: usize,
}

impl Generator {
    /// Starts from `prime` (ids in `vocab`). With no prime the first token is drawn from the
    /// corpus's token frequencies, so even an empty start is in style and seeded. `clock` (where
    /// the prime starts in its bar) is given for a network that takes metric positions.
    pub fn new(
        tokenizer: &Tokenizer,
        vocab: Vocabulary,
        prime: &[u32],
        clock: Option<MetricClock>,
        sampling: SamplingConfig,
        seed: u64,
    ) -> Self {
        let allowed = sampling
            .scale
            .map(|key| vocab.tokens().iter().map(|t| key.allows(t)).collect());
        let mut generator = Generator {
            allowed,
            memory: (sampling.motif_memory > 0.0).then(MotifMemory::new),
            sampler: Sampler::new(sampling, seed),
            decoder: tokenizer.decoder(),
            state: None,
            packed: None,
            pending: prime.to_vec(),
            pending_meter: Vec::new(),
            clock,
            generated: Vec::new(),
            notes: Vec::new(),
            prime_notes: 0,
            vocab,
        };
        for &id in prime {
            generator.follow(id);
        }
        generator.prime_notes = generator.notes.len();
        if prime.is_empty() {
            let frequencies: Vec<f32> = generator
                .vocab
                .counts()
                .iter()
                .map(|&c| (c as f32).ln())
                .collect();
            generator.choose(&frequencies);
        }
        generator
    }

    /// Runs the model over the pending input; returns next-token logits [1, vocab].
    pub fn logits(&mut self, model: &MusicModel, device: &Device) -> Tensor<2> {
        let ids: Vec<i64> = self.pending.drain(..).map(i64::from).collect();
        let len = ids.len();
        let input = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, len]), device);
        let positions: Vec<i64> = self.pending_meter.drain(..).map(i64::from).collect();
        let meter = (positions.len() == len)
            .then(|| Tensor::<2, Int>::from_data(TensorData::new(positions, [1, len]), device));
        let (logits, state) = model.forward_with_state(input, meter, self.state.take());
        self.state = Some(state);
        let vocab = logits.dims()[2];
        logits.narrow(1, len - 1, 1).reshape([1, vocab])
    }

    /// As [`Generator::logits`], on the packed CPU copy of the network: feeds the pending input
    /// and writes the next-token logits into `logits`. Use one kind of step per generator.
    pub fn packed_logits(&mut self, model: &PackedModel, logits: &mut Vec<f32>) {
        let state = self.packed.get_or_insert_with(|| model.start());
        let positions = std::mem::take(&mut self.pending_meter);
        for (i, id) in self.pending.drain(..).enumerate() {
            model.feed(state, id, positions.get(i).copied());
        }
        model.logits(state, logits);
    }

    /// Samples the next token from the logits just read; returns its id.
    pub fn accept(&mut self, logits: &[f32]) -> u32 {
        self.choose(logits)
    }

    fn choose(&mut self, logits: &[f32]) -> u32 {
        let allows = |id: u32| {
            self.allowed
                .as_ref()
                .is_none_or(|allowed| allowed.get(id as usize).copied().unwrap_or(true))
        };
        let mut proposal = self
            .memory
            .as_ref()
            .map(|memory| memory.proposal_after(&self.notes))
            .unwrap_or_default();
        proposal.retain(|(id, _)| allows(*id));
        // Pitches outside the scale get no probability; the rest renormalise.
        let masked: Option<Vec<f32>> = self.allowed.as_ref().map(|_| {
            (0u32..)
                .zip(logits)
                .map(|(id, &l)| if allows(id) { l } else { f32::NEG_INFINITY })
                .collect()
        });
        let id = self
            .sampler
            .sample_with_memory(masked.as_deref().unwrap_or(logits), &proposal);
        self.generated.push(id);
        self.pending.push(id);
        self.follow(id);
        id
    }

    /// Decodes a token fed to the model (prime or chosen) and notes its metric position.
    fn follow(&mut self, id: u32) {
        let token = self.vocab.token(id);
        self.decoder.push(token, &mut self.notes);
        let position = self.clock.as_mut().map(|clock| clock.advance(token));
        if let Some(position) = position {
            self.pending_meter.push(position);
        }
        if let Some(memory) = self.memory.as_mut() {
            memory.push(id, position);
        }
    }

    /// Notes generated so far, the prime's excluded.
    pub fn new_notes(&self) -> usize {
        self.notes.len() - self.prime_notes
    }

    /// All notes so far, those still waiting for a duration included, leaving the generator
    /// free to go on (the page's Continue).
    pub fn notes_now(&self) -> Vec<Note> {
        let mut notes = self.notes.clone();
        self.decoder.clone().finish(&mut notes);
        notes
    }

    /// Flushes notes still waiting for a duration; returns all notes.
    pub fn finish(mut self) -> Vec<Note> {
        self.decoder.finish(&mut self.notes);
        self.notes
    }

    /// Generates until `notes` new notes (or `max_tokens` tokens) on the packed CPU step.
    pub fn run_packed(&mut self, model: &PackedModel, notes: usize, max_tokens: usize) {
        let mut logits = Vec::with_capacity(model.vocab_size());
        while self.new_notes() < notes && self.generated.len() < max_tokens {
            self.packed_logits(model, &mut logits);
            self.accept(&logits);
        }
    }

    /// Native convenience: generates until `notes` new notes (or `max_tokens` tokens).
    pub fn run_sync(
        &mut self,
        model: &MusicModel,
        device: &Device,
        notes: usize,
        max_tokens: usize,
    ) -> Result<(), String> {
        while self.new_notes() < notes && self.generated.len() < max_tokens {
            let logits = self.logits(model, device);
            let values = logits
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| format!("{e:?}"))?;
            self.accept(&values);
        }
        Ok(())
    }
}
