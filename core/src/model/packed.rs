//! One generation step on the CPU without a tensor library: the network's own weights, copied
//! once out of the burn module into plain f32 rows, and a matrix-vector product per layer.
//!
//! Generating steps batch 1, where a general matmul spends its time packing the weight matrix
//! on every call (37 % of the page's step in burn's `flex`). Here each weight row `W[i, :]`
//! (burn's `[inputs, outputs]` layout, unchanged) is added into the outputs scaled by input
//! `i`: contiguous, vectorised by the compiler (wasm simd128, AVX natively), no reduction. Every
//! output then sums its terms in the same order on every platform, and the activations come
//! from `libm`, so the browser and `trainer-cli` compute the same bits and a seed gives the
//! same piece in both.

use burn::nn::{Embedding, Linear};

use super::network::MusicModel;
use super::recurrent::Recurrent;
use super::{CellKind, param_values};

/// A dense layer: `y = x W + b`, `W` as `[inputs][outputs]` rows.
#[derive(Clone, Debug)]
struct Dense {
    outputs: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Dense {
    fn of(linear: &Linear) -> Dense {
        let [_, outputs] = linear.weight.dims();
        Dense {
            outputs,
            weight: param_values(&linear.weight),
            bias: linear
                .bias
                .as_ref()
                .map_or_else(|| vec![0.0; outputs], param_values),
        }
    }

    /// `y = x W + b` for several inputs at once (one per piece), each given in parts (an LSTM's
    /// `[x, h]` without copying them together). Each weight row is read once for all of them
    /// while it is in cache, and each output sums its terms in the same order whatever the
    /// number of pieces, so a piece gets the same bits alone or beside others.
    fn apply_many(&self, inputs: &[&[&[f32]]], outputs: &mut [&mut [f32]]) {
        for y in outputs.iter_mut() {
            y.copy_from_slice(&self.bias);
        }
        let mut cursors: Vec<_> = inputs
            .iter()
            .map(|parts| parts.iter().flat_map(|p| p.iter()))
            .collect();
        for row in self.weight.chunks_exact(self.outputs) {
            for (cursor, y) in cursors.iter_mut().zip(outputs.iter_mut()) {
                let xi = *cursor.next().expect("one input per weight row");
                // ReLU outputs and a fresh state are mostly zeros: their rows add nothing.
                if xi != 0.0 {
                    add_scaled(y, xi, row);
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Layer {
    /// `[x, h]` → gates i, f, g, o.
    Lstm { size: usize, gates: Dense },
    /// `x` → r, z, n and `h` → r, z, n (the reset gate scales the hidden part).
    Gru {
        size: usize,
        input: Dense,
        hidden: Dense,
    },
}

#[derive(Clone, Debug)]
struct Meter {
    phase: Vec<f32>,
    beat: Vec<f32>,
    steps_per_beat: usize,
    beats: usize,
}

/// The network as plain rows, for stepping one token at a time on the CPU.
#[derive(Clone, Debug)]
pub struct PackedModel {
    width: usize,
    vocab: usize,
    embedding: Vec<f32>,
    meter: Option<Meter>,
    layers: Vec<Layer>,
    dense: Dense,
    output: Dense,
}

/// What the packed network carries from one token to the next, and its scratch space.
#[derive(Clone, Debug)]
pub struct PackedState {
    hidden: Vec<Vec<f32>>,
    cell: Vec<Vec<f32>>,
    gates: Vec<f32>,
    hidden_gates: Vec<f32>,
    input: Vec<f32>,
    dense: Vec<f32>,
}

impl PackedModel {
    /// Copies the weights out of `model` (wherever its tensors live; meant for the CPU).
    pub fn new(model: &MusicModel) -> PackedModel {
        let parts = model.parts();
        let [vocab, width] = parts.embedding.weight.dims();
        let meter = match (parts.meter_phase, parts.meter_beat) {
            (Some(phase), Some(beat)) => Some(Meter {
                steps_per_beat: phase.weight.dims()[0],
                beats: beat.weight.dims()[0],
                phase: param_values(&phase.weight),
                beat: param_values(&beat.weight),
            }),
            _ => None,
        };
        PackedModel {
            width,
            vocab,
            embedding: param_values(&parts.embedding.weight),
            meter,
            layers: parts.layers.iter().map(Layer::of).collect(),
            dense: Dense::of(parts.dense),
            output: Dense::of(parts.output),
        }
    }

    pub fn start(&self) -> PackedState {
        let sizes: Vec<usize> = self.layers.iter().map(Layer::size).collect();
        let widest = sizes.iter().copied().max().unwrap_or(0);
        PackedState {
            hidden: sizes.iter().map(|&s| vec![0.0; s]).collect(),
            cell: sizes.iter().map(|&s| vec![0.0; s]).collect(),
            gates: vec![0.0; 4 * widest],
            hidden_gates: vec![0.0; 3 * widest],
            input: vec![0.0; self.width],
            dense: vec![0.0; self.dense.outputs],
        }
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab
    }

    /// Feeds one token (and its metric position, for a network that takes them) and advances
    /// `state`; the logits are only computed when asked for, so a prime costs recurrent steps
    /// alone.
    pub fn feed(&self, state: &mut PackedState, id: u32, position: Option<u16>) {
        self.feed_many(&mut [state], &[(id, position)]);
    }

    /// [`PackedModel::feed`] for several pieces at once, one token each: the weights are read
    /// once per step for all of them (a step of one piece is bound by reading the weights, not
    /// by arithmetic), and each piece's state comes out as [`PackedModel::feed`] leaves it.
    pub fn feed_many(&self, states: &mut [&mut PackedState], tokens: &[(u32, Option<u16>)]) {
        assert_eq!(states.len(), tokens.len(), "one token per state");
        for (state, &(id, position)) in states.iter_mut().zip(tokens) {
            self.embed(&mut state.input, id, position);
        }
        for (k, layer) in self.layers.iter().enumerate() {
            // Each state's input to this layer (the one below's output) and its own `h`, read
            // while the dense products write the gates.
            let mut belows = Vec::with_capacity(states.len());
            let mut hiddens = Vec::with_capacity(states.len());
            let mut gates = Vec::with_capacity(states.len());
            let mut hidden_gates = Vec::with_capacity(states.len());
            for state in states.iter_mut() {
                let PackedState {
                    hidden,
                    gates: g,
                    hidden_gates: hg,
                    input,
                    ..
                } = &mut **state;
                let (done, rest) = hidden.split_at(k);
                belows.push(done.last().map_or(&input[..], |h| &h[..]));
                hiddens.push(&rest[0][..]);
                gates.push(&mut g[..]);
                hidden_gates.push(&mut hg[..]);
            }
            match layer {
                Layer::Lstm { size, gates: dense } => {
                    let inputs: Vec<[&[f32]; 2]> = belows
                        .iter()
                        .zip(&hiddens)
                        .map(|(&below, &h)| [below, h])
                        .collect();
                    let inputs: Vec<&[&[f32]]> = inputs.iter().map(|i| &i[..]).collect();
                    let mut outputs: Vec<&mut [f32]> =
                        gates.into_iter().map(|g| &mut g[..4 * size]).collect();
                    dense.apply_many(&inputs, &mut outputs);
                }
                Layer::Gru {
                    size,
                    input: dense_x,
                    hidden: dense_h,
                } => {
                    let inputs: Vec<[&[f32]; 1]> = belows.iter().map(|&b| [b]).collect();
                    let inputs: Vec<&[&[f32]]> = inputs.iter().map(|i| &i[..]).collect();
                    let mut outputs: Vec<&mut [f32]> =
                        gates.into_iter().map(|g| &mut g[..3 * size]).collect();
                    dense_x.apply_many(&inputs, &mut outputs);
                    let inputs: Vec<[&[f32]; 1]> = hiddens.iter().map(|&h| [h]).collect();
                    let inputs: Vec<&[&[f32]]> = inputs.iter().map(|i| &i[..]).collect();
                    let mut outputs: Vec<&mut [f32]> = hidden_gates
                        .into_iter()
                        .map(|g| &mut g[..3 * size])
                        .collect();
                    dense_h.apply_many(&inputs, &mut outputs);
                }
            }
            for state in states.iter_mut() {
                layer.advance(state, k);
            }
        }
    }

    /// The token's embedding, plus its metric position's for a network that takes them.
    fn embed(&self, input: &mut [f32], id: u32, position: Option<u16>) {
        let id = (id as usize).min(self.vocab - 1);
        input.copy_from_slice(&self.embedding[id * self.width..][..self.width]);
        if let Some(meter) = &self.meter {
            let position = usize::from(position.unwrap_or(0));
            let in_beat = position % meter.steps_per_beat;
            let beat = (position / meter.steps_per_beat).min(meter.beats - 1);
            let phase = &meter.phase[in_beat * self.width..][..self.width];
            let bar = &meter.beat[beat * self.width..][..self.width];
            for ((x, p), b) in input.iter_mut().zip(phase).zip(bar) {
                *x = (*x + p) + b;
            }
        }
    }

    /// Logits after the last token fed: dense + ReLU + dense.
    pub fn logits(&self, state: &mut PackedState, logits: &mut Vec<f32>) {
        self.logits_many(&mut [state], &mut [logits]);
    }

    /// [`PackedModel::logits`] for several pieces at once.
    pub fn logits_many(&self, states: &mut [&mut PackedState], logits: &mut [&mut Vec<f32>]) {
        assert_eq!(states.len(), logits.len(), "one logits row per state");
        let mut lasts = Vec::with_capacity(states.len());
        let mut denses = Vec::with_capacity(states.len());
        for state in states.iter_mut() {
            let PackedState {
                hidden,
                input,
                dense,
                ..
            } = &mut **state;
            lasts.push([hidden.last().map_or(&input[..], |h| &h[..])]);
            denses.push(&mut dense[..]);
        }
        let inputs: Vec<&[&[f32]]> = lasts.iter().map(|l| &l[..]).collect();
        self.dense.apply_many(&inputs, &mut denses);
        for dense in &mut denses {
            dense.iter_mut().for_each(|x| *x = x.max(0.0));
        }
        let inputs: Vec<[&[f32]; 1]> = denses.iter().map(|d| [&d[..]]).collect();
        let inputs: Vec<&[&[f32]]> = inputs.iter().map(|i| &i[..]).collect();
        for row in logits.iter_mut() {
            row.resize(self.vocab, 0.0);
        }
        let mut rows: Vec<&mut [f32]> = logits.iter_mut().map(|row| &mut row[..]).collect();
        self.output.apply_many(&inputs, &mut rows);
    }
}

impl Layer {
    fn of(layer: &Recurrent) -> Layer {
        let (input, hidden, kind, size) = layer.parts();
        match (kind, hidden) {
            (CellKind::Gru, Some(hidden)) => Layer::Gru {
                size,
                input: Dense::of(input),
                hidden: Dense::of(hidden),
            },
            _ => Layer::Lstm {
                size,
                gates: Dense::of(input),
            },
        }
    }

    fn size(&self) -> usize {
        match self {
            Layer::Lstm { size, .. } | Layer::Gru { size, .. } => *size,
        }
    }

    /// Layer `k`'s state update in `state`, from the gate pre-activations its dense products
    /// left in `state.gates` (and `state.hidden_gates`, for a GRU).
    fn advance(&self, state: &mut PackedState, k: usize) {
        let (h, c) = (&mut state.hidden[k], &mut state.cell[k]);
        match self {
            Layer::Lstm { size, .. } => {
                let gates = &state.gates[..4 * size];
                let (i, rest) = gates.split_at(*size);
                let (f, rest) = rest.split_at(*size);
                let (g, o) = rest.split_at(*size);
                for j in 0..*size {
                    c[j] = sigmoid(f[j]) * c[j] + sigmoid(i[j]) * libm::tanhf(g[j]);
                    h[j] = sigmoid(o[j]) * libm::tanhf(c[j]);
                }
            }
            Layer::Gru { size, .. } => {
                let (xs, hs) = (&state.gates[..3 * size], &state.hidden_gates[..3 * size]);
                for j in 0..*size {
                    let r = sigmoid(xs[j] + hs[j]);
                    let z = sigmoid(xs[size + j] + hs[size + j]);
                    let n = libm::tanhf(xs[2 * size + j] + r * hs[2 * size + j]);
                    h[j] = n + z * (h[j] - n);
                }
            }
        }
    }
}

/// `y += a x`, element by element (a multiply, then an add: never fused, so every platform
/// rounds alike).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn add_scaled(y: &mut [f32], a: f32, x: &[f32]) {
    for (out, w) in y.iter_mut().zip(x) {
        *out += a * w;
    }
}

/// `y += a x` four lanes at a time. Written out because the page's wasm is built for size
/// (`opt-level = "s"`), where the compiler does not vectorise loops.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn add_scaled(y: &mut [f32], a: f32, x: &[f32]) {
    use std::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_store};
    let len = y.len().min(x.len());
    let lanes = len / 4 * 4;
    let scale = f32x4_splat(a);
    for i in (0..lanes).step_by(4) {
        // SAFETY: i + 4 <= lanes <= both lengths, and v128 loads and stores need no alignment.
        unsafe {
            let out = y.as_mut_ptr().add(i).cast::<v128>();
            let w = v128_load(x.as_ptr().add(i).cast::<v128>());
            v128_store(out, f32x4_add(v128_load(out), f32x4_mul(scale, w)));
        }
    }
    for i in lanes..len {
        y[i] += a * x[i];
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// Borrowed views of a [`MusicModel`]'s layers, for [`PackedModel::new`].
pub(super) struct Parts<'a> {
    pub embedding: &'a Embedding,
    pub meter_phase: Option<&'a Embedding>,
    pub meter_beat: Option<&'a Embedding>,
    pub layers: &'a [Recurrent],
    pub dense: &'a Linear,
    pub output: &'a Linear,
}
