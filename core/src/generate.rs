//! Generation, one token per model step, shared by the trainer (which reads logits
//! synchronously) and the browser (which must read them asynchronously): the caller runs
//! [`Generator::logits`], reads the tensor however its platform allows, and hands the numbers to
//! [`Generator::accept`].

use burn::prelude::*;

use crate::memory::MotifMemory;
use crate::meter::MetricClock;
use crate::model::{MusicModel, PackedModel, PackedState, State};
use crate::pace::PaceMemory;
use crate::sample::{Draw, Sampler, SamplingConfig};
use crate::score::Note;
use crate::stats::SAME_ONSET_BEATS;
use crate::tokens::{Decoder, Token, TokenKind, Tokenizer, TokenizerKind};
use crate::vocab::Vocabulary;

/// The most onsets in a row with the very same pitches that sampling lets through. No piece of
/// the four corpora repeats one onset more than 20 times; a network can fall into repeating one
/// note for good (Final Fantasy's model did so 26–44 times in 4 of 100 pieces at its tuned
/// settings). Past this many, new onsets may not begin with any of the repeated pitches for as
/// many onsets again: one other note between repeats would keep the drone, a rest from it lets
/// the network move on.
pub const LONGEST_REPEAT: usize = 16;

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
    /// The piece's note lengths and onset gaps so far, when sampling keeps its pace.
    pace: Option<PaceMemory>,
    /// Whether pitches chosen now join the onset already begun (no time shift since the last
    /// pitch), for the repeat guard. `None` for `seed` tokens, which the guard leaves alone:
    /// the report's baseline is kept as the report had it.
    onset_open: Option<bool>,
    /// Pitches no onset may begin with, and for how many more onsets, after an overlong repeat.
    banned: Option<(Vec<u8>, usize)>,
    /// Whether the next token is the duration of the pitches just chosen (timed tokens), which
    /// is drawn as the network trained it ([`crate::sample`]).
    duration_next: bool,
    /// Per id, whether temperature, top-k and top-p shape it: every id but the durations, or
    /// with [`SamplingConfig::pitches_only`] the pitches alone ([`Draw::ShapedAmong`]).
    shaped: Vec<bool>,
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
            pace: (sampling.pace_memory > 0.0).then(|| PaceMemory::new(&vocab)),
            onset_open: (tokenizer.kind() == TokenizerKind::Timed).then_some(false),
            banned: None,
            duration_next: false,
            shaped: vocab
                .tokens()
                .iter()
                .map(|token| !sampling.pitches_only || token.kind() == TokenKind::Pitch)
                .collect(),
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
        Generator::step_batch(&mut [self], model, device)
    }

    /// [`Generator::logits`] for several pieces in one pass of the network: their inputs and
    /// states go in as one batch, so a GPU steps them in about the time of one step (Variations
    /// on WebGPU). Returns logits [pieces, vocab], a row per generator in order. Pieces whose
    /// pending inputs differ in length (other primes) are stepped one after another instead.
    pub fn logits_together(
        generators: &mut [&mut Generator],
        model: &MusicModel,
        device: &Device,
    ) -> Tensor<2> {
        let len = generators.first().map_or(0, |g| g.pending.len());
        let lockstep = generators.iter().all(|g| g.pending.len() == len)
            && (generators.iter().all(|g| g.state.is_some())
                || generators.iter().all(|g| g.state.is_none()));
        if lockstep {
            return Generator::step_batch(generators, model, device);
        }
        let rows = generators
            .iter_mut()
            .map(|g| g.logits(model, device))
            .collect();
        Tensor::cat(rows, 0)
    }

    /// One pass of the network over the generators' pending inputs, all of one length, with
    /// their states all carried or all fresh; the next-token logits [pieces, vocab].
    fn step_batch(
        generators: &mut [&mut Generator],
        model: &MusicModel,
        device: &Device,
    ) -> Tensor<2> {
        let pieces = generators.len();
        let len = generators[0].pending.len();
        let ids: Vec<i64> = generators
            .iter_mut()
            .flat_map(|g| g.pending.drain(..).map(i64::from).collect::<Vec<_>>())
            .collect();
        let input = Tensor::<2, Int>::from_data(TensorData::new(ids, [pieces, len]), device);
        let meter = generators
            .iter()
            .all(|g| g.pending_meter.len() == len)
            .then(|| {
                let positions: Vec<i64> = generators
                    .iter()
                    .flat_map(|g| g.pending_meter.iter().map(|&p| i64::from(p)))
                    .collect();
                Tensor::<2, Int>::from_data(TensorData::new(positions, [pieces, len]), device)
            });
        for generator in generators.iter_mut() {
            generator.pending_meter.clear();
        }
        let states: Option<Vec<State>> = generators.iter_mut().map(|g| g.state.take()).collect();
        let (features, state) = model.features(input, meter, states.map(State::stack));
        for (generator, state) in generators.iter_mut().zip(state.split()) {
            generator.state = Some(state);
        }
        // Only the last position's logits are drawn from: a long prime skips the head elsewhere.
        let width = features.dims()[2];
        model.head(features.narrow(1, len - 1, 1).reshape([pieces, width]))
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
        let paced = self
            .pace
            .as_ref()
            .map(|pace| pace.mix_logits(logits, self.sampler.config().pace_memory));
        let logits = paced.as_deref().unwrap_or(logits);
        if let Some(pitches) = self.overlong_repeat() {
            self.banned = Some((pitches, LONGEST_REPEAT));
        }
        let repeated = self
            .banned
            .as_ref()
            .filter(|_| self.onset_open == Some(false))
            .map(|(pitches, _)| pitches);
        let vocab = &self.vocab;
        let allows = |id: u32| {
            let in_scale = self
                .allowed
                .as_ref()
                .is_none_or(|allowed| allowed.get(id as usize).copied().unwrap_or(true));
            let breaks_repeat = repeated
                .as_ref()
                .is_none_or(|pitches| match vocab.token(id) {
                    Token::Notes(first) => !first.iter().any(|p| pitches.contains(p)),
                    _ => true,
                });
            in_scale && breaks_repeat
        };
        let draw = if self.duration_next {
            Draw::AsTrained
        } else {
            Draw::ShapedAmong(&self.shaped)
        };
        let mut proposal = self
            .memory
            .as_ref()
            .map(|memory| memory.proposal_after(&self.notes))
            .unwrap_or_default();
        proposal.retain(|(id, _)| allows(*id));
        // Pitches outside the scale, or that would prolong an overlong repeat, get no
        // probability; the rest renormalise.
        let masked: Option<Vec<f32>> = (self.allowed.is_some() || repeated.is_some()).then(|| {
            (0u32..)
                .zip(logits)
                .map(|(id, &l)| if allows(id) { l } else { f32::NEG_INFINITY })
                .collect()
        });
        let id =
            self.sampler
                .sample_with_memory(masked.as_deref().unwrap_or(logits), &proposal, draw);
        self.generated.push(id);
        self.pending.push(id);
        self.follow(id);
        id
    }

    /// The pitches of the last onset when it closes a run of [`LONGEST_REPEAT`] or more
    /// identical onsets and the next pitch would begin a new onset.
    fn overlong_repeat(&self) -> Option<Vec<u8>> {
        if self.onset_open != Some(false) {
            return None;
        }
        let mut onsets = self
            .notes
            .chunk_by(|a, b| (a.start - b.start).abs() < SAME_ONSET_BEATS)
            .rev();
        let pitches = |onset: &[Note]| {
            let mut pitches: Vec<u8> = onset.iter().map(|n| n.pitch).collect();
            pitches.sort_unstable();
            pitches.dedup();
            pitches
        };
        let last = pitches(onsets.next()?);
        let run = 1 + onsets
            .take(LONGEST_REPEAT)
            .take_while(|onset| pitches(onset) == last)
            .count();
        (run >= LONGEST_REPEAT).then_some(last)
    }

    /// Decodes a token fed to the model (prime or chosen) and notes its metric position.
    fn follow(&mut self, id: u32) {
        let token = self.vocab.token(id);
        self.duration_next = self.onset_open.is_some() && matches!(token, Token::Notes(_));
        if let Some(open) = self.onset_open.as_mut() {
            match token {
                Token::Notes(_) => {
                    if !*open {
                        // A new onset begins: one fewer to keep the banned pitches out of.
                        if let Some((_, left)) = self.banned.as_mut() {
                            *left -= 1;
                        }
                        self.banned.take_if(|(_, left)| *left == 0);
                    }
                    *open = true;
                }
                Token::Shift(_) => *open = false,
                _ => {}
            }
        }
        self.decoder.push(token, &mut self.notes);
        let position = self.clock.as_mut().map(|clock| clock.advance(token));
        if let Some(position) = position {
            self.pending_meter.push(position);
        }
        if let Some(memory) = self.memory.as_mut() {
            memory.push(id, position);
        }
        if let Some(pace) = self.pace.as_mut() {
            pace.push(id);
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
        Generator::run_packed_together(std::slice::from_mut(self), model, notes, max_tokens);
    }

    /// [`Generator::run_packed`] for several pieces side by side: each step feeds every
    /// unfinished piece at once ([`PackedModel::feed_many`]), so the weights are read once for
    /// all of them. Each piece comes out as it would alone, token for token.
    pub fn run_packed_together(
        generators: &mut [Generator],
        model: &PackedModel,
        notes: usize,
        max_tokens: usize,
    ) {
        let mut logits = vec![Vec::with_capacity(model.vocab_size()); generators.len()];
        loop {
            let mut running: Vec<(&mut Generator, &mut Vec<f32>)> = generators
                .iter_mut()
                .zip(logits.iter_mut())
                .filter(|(g, _)| g.new_notes() < notes && g.generated.len() < max_tokens)
                .collect();
            if running.is_empty() {
                break;
            }
            // Each piece's pending input (its prime at first, then the token it chose), fed in
            // lockstep: step t feeds the pieces that have a t-th token.
            let inputs: Vec<(Vec<u32>, Vec<u16>)> = running
                .iter_mut()
                .map(|(g, _)| {
                    g.packed.get_or_insert_with(|| model.start());
                    (
                        std::mem::take(&mut g.pending),
                        std::mem::take(&mut g.pending_meter),
                    )
                })
                .collect();
            let longest = inputs.iter().map(|(ids, _)| ids.len()).max().unwrap_or(0);
            for t in 0..longest {
                let (mut states, tokens): (Vec<&mut PackedState>, Vec<(u32, Option<u16>)>) =
                    running
                        .iter_mut()
                        .zip(&inputs)
                        .filter_map(|((g, _), (ids, positions))| {
                            let id = *ids.get(t)?;
                            let state = g.packed.as_mut().expect("started above");
                            Some((state, (id, positions.get(t).copied())))
                        })
                        .unzip();
                model.feed_many(&mut states, &tokens);
            }
            {
                let (mut states, mut rows): (Vec<&mut PackedState>, Vec<&mut Vec<f32>>) = running
                    .iter_mut()
                    .map(|(g, row)| (g.packed.as_mut().expect("started above"), &mut **row))
                    .unzip();
                model.logits_many(&mut states, &mut rows);
            }
            for (generator, row) in running {
                generator.accept(row);
            }
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
