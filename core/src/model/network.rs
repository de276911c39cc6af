use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, Initializer, Linear};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::config::ModelConfig;
use super::dense::dense;
use super::recurrent::{LayerState, Recurrent};
use super::start::{Drawn, Start, Zeros};

/// Every layer's state: what a generator carries from one note to the next.
#[derive(Clone, Debug)]
pub struct State {
    pub layers: Vec<LayerState>,
}

impl State {
    /// Cuts the graph behind the state, so carrying it into the next window trains with
    /// truncated backpropagation through time.
    pub fn detach(self) -> State {
        self.map(Tensor::detach)
    }

    /// Applies `f` to every tensor of the state.
    fn map(self, f: impl Fn(Tensor<2>) -> Tensor<2>) -> State {
        State {
            layers: self
                .layers
                .into_iter()
                .map(|l| LayerState {
                    hidden: f(l.hidden),
                    cell: l.cell.map(&f),
                })
                .collect(),
        }
    }

    /// Several pieces' states as one batch, in order (see [`State::split`]).
    pub fn stack(mut states: Vec<State>) -> State {
        // One piece's state is its own batch: no copy on the per-token path.
        if states.len() == 1 {
            return states.remove(0);
        }
        let layers = states.first().map_or(0, |s| s.layers.len());
        let mut per_layer: Vec<Vec<LayerState>> = (0..layers).map(|_| Vec::new()).collect();
        for state in states {
            for (all, layer) in per_layer.iter_mut().zip(state.layers) {
                all.push(layer);
            }
        }
        State {
            layers: per_layer
                .into_iter()
                .map(|all| {
                    let cells: Option<Vec<Tensor<2>>> =
                        all.iter().map(|l| l.cell.clone()).collect();
                    LayerState {
                        hidden: Tensor::cat(all.into_iter().map(|l| l.hidden).collect(), 0),
                        cell: cells.map(|c| Tensor::cat(c, 0)),
                    }
                })
                .collect(),
        }
    }

    /// One state per batch row: the inverse of [`State::stack`] for rows of one piece each.
    pub fn split(self) -> Vec<State> {
        let rows = self.layers.first().map_or(0, |l| l.hidden.dims()[0]);
        if rows == 1 {
            return vec![self];
        }
        (0..rows).map(|row| self.rows(row, 1)).collect()
    }

    /// The batch rows `start..start + len` (one shard of a data-parallel step).
    pub fn rows(&self, start: usize, len: usize) -> State {
        self.clone().map(|t| t.narrow(0, start, len))
    }

    pub fn to_device(self, device: &Device) -> State {
        self.map(|t| t.to_device(device))
    }

    /// The shards' states stacked back into one batch, on `device`, in shard order.
    pub fn cat_rows(states: Vec<State>, device: &Device) -> State {
        let layers = states.first().map_or(0, |s| s.layers.len());
        let mut columns: Vec<Vec<LayerState>> = (0..layers).map(|_| Vec::new()).collect();
        for state in states {
            for (column, layer) in columns.iter_mut().zip(state.layers) {
                column.push(layer);
            }
        }
        State {
            layers: columns
                .into_iter()
                .map(|column| {
                    let cells: Option<Vec<Tensor<2>>> = column
                        .iter()
                        .map(|l| l.cell.clone().map(|c| c.to_device(device)))
                        .collect();
                    LayerState {
                        hidden: Tensor::cat(
                            column
                                .into_iter()
                                .map(|l| l.hidden.to_device(device))
                                .collect(),
                            0,
                        ),
                        cell: cells.map(|c| Tensor::cat(c, 0)),
                    }
                })
                .collect(),
        }
    }

    /// Zeroes the batch rows whose `keep` is false: a new sequence starts there.
    pub fn keep_rows(self, keep: &[bool]) -> State {
        let Some(first) = self.layers.first() else {
            return self;
        };
        let device = first.hidden.device();
        let mask: Vec<f32> = keep.iter().map(|&k| f32::from(u8::from(k))).collect();
        let mask = Tensor::<2>::from_data(TensorData::new(mask, [keep.len(), 1]), &device);
        State {
            layers: self
                .layers
                .into_iter()
                .map(|l| LayerState {
                    hidden: l.hidden * mask.clone(),
                    cell: l.cell.map(|c| c * mask.clone()),
                })
                .collect(),
        }
    }
}

#[derive(Module, Debug)]
pub struct MusicModel {
    embedding: Embedding,
    /// Position within the beat, and beat within the bar, added to the token embedding when the
    /// network is given metric positions.
    meter_phase: Option<Embedding>,
    meter_beat: Option<Embedding>,
    layers: Vec<Recurrent>,
    dropout: Dropout,
    dense: Linear,
    output: Linear,
}

impl MusicModel {
    pub fn new(config: &ModelConfig, device: &Device) -> Self {
        Self::start(config, &Drawn(device))
    }

    /// A network of `config`'s shapes with every weight zero, for loading weights into (see
    /// [`super::start`]).
    pub fn zeros(config: &ModelConfig, device: &Device) -> Self {
        Self::start(config, &Zeros(device))
    }

    fn start(config: &ModelConfig, start: &impl Start) -> Self {
        let mut input = config.embedding;
        let layers = (0..config.layers)
            .map(|_| {
                let layer = Recurrent::start(config.cell, input, config.hidden, start);
                input = config.hidden;
                layer
            })
            .collect();
        // Zero at the start: the network begins as one without positions (three unit-variance
        // embeddings summed would swamp the token's) and learns how much the beat matters.
        let meter = |rows: usize| start.embedding(rows, config.embedding, Initializer::Zeros);
        MusicModel {
            // N(0, 1), burn's default for an embedding.
            embedding: start.embedding(
                config.vocab_size,
                config.embedding,
                Initializer::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
            ),
            meter_phase: config.meter_steps_per_beat.map(meter),
            meter_beat: config
                .meter_steps_per_beat
                .map(|_| meter(usize::from(crate::meter::MAX_BEATS))),
            layers,
            dropout: DropoutConfig::new(config.dropout).init(),
            dense: start.linear(input, config.dense),
            output: start.linear(config.dense, config.vocab_size),
        }
    }

    /// Logits [batch, time, vocab] for token ids [batch, time], starting from zero state.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        self.forward_with_state(tokens, None, None).0
    }

    /// Whether the network takes metric positions beside its tokens.
    pub fn uses_meter(&self) -> bool {
        self.meter_phase.is_some()
    }

    /// As [`forward`](Self::forward), with each token's metric position [batch, time] (see
    /// [`crate::meter`]; `None` reads as the start of a bar) and continuing from `state`; returns
    /// the state after the last token, so a sequence can be fed in pieces.
    pub fn forward_with_state(
        &self,
        tokens: Tensor<2, Int>,
        meter: Option<Tensor<2, Int>>,
        state: Option<State>,
    ) -> (Tensor<3>, State) {
        let (features, state) = self.features(tokens, meter, state);
        (self.head(features), state)
    }

    /// The last recurrent layer's outputs [batch, time, hidden] and the state after them.
    pub fn features(
        &self,
        tokens: Tensor<2, Int>,
        meter: Option<Tensor<2, Int>>,
        state: Option<State>,
    ) -> (Tensor<3>, State) {
        #[cfg(feature = "fused")]
        if tokens.dims()[1] > 0 && super::fused::supports(&tokens.device()) {
            return self.features_fused(tokens, meter, state);
        }
        self.features_stepwise(tokens, meter, state)
    }

    /// Each token's position within the beat and beat within the bar, with the embeddings that
    /// take them, when the network is given metric positions (`None` reads as a bar's start).
    #[allow(clippy::type_complexity)]
    fn metric_inputs(
        &self,
        tokens: &Tensor<2, Int>,
        meter: Option<Tensor<2, Int>>,
    ) -> Option<(&Embedding, Tensor<2, Int>, &Embedding, Tensor<2, Int>)> {
        let (phase, beat) = self.meter_phase.as_ref().zip(self.meter_beat.as_ref())?;
        let positions = meter.unwrap_or_else(|| tokens.zeros_like());
        let steps_per_beat = phase.weight.dims()[0] as i64;
        let beats = beat.weight.dims()[0] as i64;
        let in_beat = positions.clone().remainder_scalar(steps_per_beat);
        let beat_index = positions.div_scalar(steps_per_beat).clamp(0, beats - 1);
        Some((phase, in_beat, beat, beat_index))
    }

    /// [`features`](Self::features) through the fused CPU recurrences: the whole window as one
    /// tensor, one operation per layer.
    #[cfg(feature = "fused")]
    fn features_fused(
        &self,
        tokens: Tensor<2, Int>,
        meter: Option<Tensor<2, Int>>,
        state: Option<State>,
    ) -> (Tensor<3>, State) {
        let meter = self.metric_inputs(&tokens, meter);
        let mut sequence = self.embedding.forward(tokens);
        if let Some((phase, in_beat, beat, beat_index)) = meter {
            sequence = sequence + phase.forward(in_beat) + beat.forward(beat_index);
        }
        let mut carried = state.map(|s| s.layers.into_iter());
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let previous = carried.as_mut().and_then(Iterator::next);
            let (outputs, state) = layer.forward_fused(sequence, previous);
            sequence = self.fast_dropout(outputs);
            layers.push(state);
        }
        (sequence, State { layers })
    }

    /// [`features`](Self::features) step by step, one tensor per time step: burn's own ops on
    /// every device.
    fn features_stepwise(
        &self,
        tokens: Tensor<2, Int>,
        meter: Option<Tensor<2, Int>>,
        state: Option<State>,
    ) -> (Tensor<3>, State) {
        let [batch, time] = tokens.dims();
        let meter = self.metric_inputs(&tokens, meter);
        // One embedding lookup per step (ids are not tracked, so slicing them costs nothing).
        let mut steps: Vec<Tensor<2>> = (0..time)
            .map(|t| {
                let mut embedded = self.embedding.forward(tokens.clone().narrow(1, t, 1));
                if let Some((phase, in_beat, beat, beat_index)) = &meter {
                    embedded = embedded
                        + phase.forward(in_beat.clone().narrow(1, t, 1))
                        + beat.forward(beat_index.clone().narrow(1, t, 1));
                }
                let width = embedded.dims()[2];
                embedded.reshape([batch, width])
            })
            .collect();
        let mut carried = state.map(|s| s.layers.into_iter());
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let previous = carried.as_mut().and_then(Iterator::next);
            let (outputs, state) = layer.forward(steps, previous);
            steps = outputs
                .into_iter()
                .map(|h| self.dropout.forward(h))
                .collect();
            layers.push(state);
        }
        (Tensor::stack(steps, 1), State { layers })
    }

    /// burn's dropout with its mask drawn by a fast generator, seeded from burn's seeded stream:
    /// burn draws one ChaCha value per element, 7 % of a training step at the report's size.
    /// Each block of the mask has its own generator, seeded from the block's index, so the
    /// blocks are drawn on every core and the mask does not depend on how they were shared.
    #[cfg(feature = "fused")]
    fn fast_dropout<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        use rand::rngs::Xoshiro256PlusPlus;
        use rand::{Rng, SeedableRng};
        use rayon::prelude::*;

        const BLOCK: usize = 1 << 14;

        let dropout = &self.dropout;
        let device = input.device();
        if !dropout.training.is_enabled() || !device.is_autodiff() || dropout.prob == 0.0 {
            return input;
        }
        let seed = Tensor::<1>::random([2], burn::tensor::Distribution::Default, &device)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 seed");
        let seed = u64::from(seed[0].to_bits()) << 32 | u64::from(seed[1].to_bits());
        let keep = 1.0 - dropout.prob;
        // A value is kept when a uniform 32-bit draw falls below `keep · 2³²`.
        let threshold = (keep * 4_294_967_296.0) as u64;
        let scale = (1.0 / keep) as f32;
        let dims = input.dims();
        let count = dims.iter().product::<usize>();
        let mut mask = vec![0.0f32; count];
        mask.par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(block, values)| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed.wrapping_add(block as u64));
                for pair in values.chunks_mut(2) {
                    let bits = rng.next_u64();
                    for (value, half) in pair.iter_mut().zip([bits & 0xffff_ffff, bits >> 32]) {
                        *value = if half < threshold { scale } else { 0.0 };
                    }
                }
            });
        input * Tensor::<D>::from_data(TensorData::new(mask, dims), &device)
    }

    /// Dropout as the device runs it best: the fast mask where the fused kernel runs (the
    /// CPU), burn's own elsewhere (a GPU draws its mask on the device).
    fn apply_dropout<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        #[cfg(feature = "fused")]
        if super::fused::supports(&input.device()) {
            return self.fast_dropout(input);
        }
        self.dropout.forward(input)
    }

    /// Dense + ReLU + dense: recurrent features [..., hidden] → logits [..., vocab]. Training
    /// on one target per window applies it to the last position only.
    pub fn head<const D: usize>(&self, features: Tensor<D>) -> Tensor<D> {
        let hidden = self.apply_dropout(relu(dense(&self.dense, features)));
        dense(&self.output, hidden)
    }

    /// Borrowed layers, for copying the weights into a [`super::PackedModel`].
    pub(super) fn parts(&self) -> super::packed::Parts<'_> {
        super::packed::Parts {
            embedding: &self.embedding,
            meter_phase: self.meter_phase.as_ref(),
            meter_beat: self.meter_beat.as_ref(),
            layers: &self.layers,
            dense: &self.dense,
            output: &self.output,
        }
    }

    /// One step: token ids [batch] → logits [batch, vocab]. Generating a note costs one of
    /// these, not a re-run of the whole window.
    pub fn step(&self, tokens: Tensor<1, Int>, state: Option<State>) -> (Tensor<2>, State) {
        let (logits, state) = self.forward_with_state(tokens.unsqueeze_dim(1), None, state);
        (logits.squeeze_dim(1), state)
    }

    /// Feeds a whole prime at once; returns the logits after its last token and the state.
    pub fn prime(&self, tokens: Tensor<2, Int>) -> (Tensor<2>, State) {
        let (logits, state) = self.forward_with_state(tokens, None, None);
        let [batch, time, vocab] = logits.dims();
        (logits.narrow(1, time - 1, 1).reshape([batch, vocab]), state)
    }
}

#[cfg(all(test, feature = "fused"))]
mod tests {
    use super::*;
    use crate::model::CellKind;
    use burn::tensor::Distribution;

    /// The whole network through the fused recurrences is the step-by-step network: same
    /// features, same final state and same gradients, with metric positions and a carried state.
    #[test]
    fn the_fused_network_computes_what_the_step_by_step_one_does() {
        for (cell, layers, hidden, time, carried) in [
            (CellKind::Lstm, 2, 8, 9, true),
            (CellKind::Gru, 2, 8, 9, true),
            (CellKind::Gru, 1, 24, 24, false),
        ] {
            let device = Device::flex().autodiff();
            let config = ModelConfig {
                vocab_size: 30,
                cell,
                layers,
                hidden,
                embedding: 6,
                dropout: 0.0,
                dense: 5,
                meter_steps_per_beat: Some(4),
            };
            let model = config.init(&device);
            let ids = |seed: f64| {
                Tensor::<2>::random([3, time], Distribution::Uniform(0.0, seed), &device).int()
            };
            let tokens = ids(30.0);
            let meter = carried.then(|| ids(16.0));
            let warm = carried.then(|| model.features(ids(30.0), None, None).1.detach());
            let run = |fused: bool| {
                let (tokens, meter, warm) = (tokens.clone(), meter.clone(), warm.clone());
                let (features, state) = if fused {
                    model.features_fused(tokens, meter, warm)
                } else {
                    model.features_stepwise(tokens, meter, warm)
                };
                let last = state.layers.last().unwrap().hidden.clone();
                let loss = features.clone().powf_scalar(2.0).sum() + last.clone().sum();
                let grads = loss.backward();
                let embedding = model.embedding.weight.val().grad(&grads).unwrap();
                (features, last, embedding)
            };
            let (a, b) = (run(false), run(true));
            let flat = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
            let pairs = [
                (
                    flat(a.0.reshape([3 * time, hidden])),
                    flat(b.0.reshape([3 * time, hidden])),
                    "features",
                ),
                (flat(a.1), flat(b.1), "final hidden"),
                (flat(a.2), flat(b.2), "embedding gradient"),
            ];
            for (x, y, what) in pairs {
                let worst = crate::model::largest_difference(&x, &y);
                assert!(worst < 1e-5, "{cell:?} {what}: max |difference| {worst}");
            }
        }
    }

    /// The fast dropout mask drops the configured share, scales what it keeps as burn's does,
    /// and is off outside training. (That a seed repeats it is the trainer's seeded-run tests:
    /// burn's stream is shared by every test thread here.)
    #[test]
    fn the_fast_dropout_drops_its_share_and_is_off_outside_training() {
        let device = Device::flex().autodiff();
        let config = ModelConfig {
            vocab_size: 30,
            cell: CellKind::Gru,
            layers: 1,
            hidden: 8,
            embedding: 6,
            dropout: 0.3,
            dense: 5,
            meter_steps_per_beat: None,
        };
        let model = config.init(&device);
        let ones = || Tensor::<3>::ones([16, 50, 40], &device);
        let mask = model
            .fast_dropout(ones())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let dropped = mask.iter().filter(|&&v| v == 0.0).count() as f64 / mask.len() as f64;
        assert!((dropped - 0.3).abs() < 0.01, "dropped {dropped}");
        assert!(
            mask.iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6)
        );
        let valid = model.valid();
        let kept = valid.fast_dropout(Tensor::<3>::ones([2, 3, 4], &Device::flex()));
        assert!(
            kept.into_data()
                .try_to_vec::<f32>()
                .unwrap()
                .iter()
                .all(|&v| v == 1.0)
        );
    }
}
