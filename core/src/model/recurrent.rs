use burn::module::Module;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};

use super::CellKind;
use super::dense::dense;
use super::start::{Drawn, Start};

/// One layer's carried state: `h`, plus `c` for an LSTM.
#[derive(Clone, Debug)]
pub struct LayerState {
    pub hidden: Tensor<2>,
    pub cell: Option<Tensor<2>>,
}

/// A recurrent layer with packed gates, stepped over a sequence kept as one tensor per time step.
///
/// An LSTM step is a single matmul of `[x_t, h]` against all four gates' weights. A GRU needs
/// the hidden projection apart (its reset gate scales it), so it takes two. Time steps stay
/// separate tensors on purpose: slicing one big sequence tensor per step would make every
/// step's backward pass allocate a gradient the size of the whole sequence (quadratic in its
/// length; measured 20 s per batch at the report's size, against about 3 s this way).
#[derive(Module, Debug)]
pub struct Recurrent {
    /// LSTM: `[x, h]` → gates i, f, g, o. GRU: `x` → gates r, z, n.
    input: Linear,
    /// GRU only: `h` → gates r, z, n (with bias, which the reset gate scales).
    hidden: Option<Linear>,
    #[module(skip)]
    kind: CellKind,
    #[module(skip)]
    size: usize,
}

impl Recurrent {
    pub fn new(kind: CellKind, input: usize, size: usize, device: &Device) -> Self {
        Self::start(kind, input, size, &Drawn(device))
    }

    pub(super) fn start(kind: CellKind, input: usize, size: usize, start: &impl Start) -> Self {
        match kind {
            CellKind::Lstm => Recurrent {
                input: start.forget_bias_one(start.linear(input + size, 4 * size), size),
                hidden: None,
                kind,
                size,
            },
            CellKind::Gru => Recurrent {
                input: start.linear(input, 3 * size),
                hidden: Some(start.linear(size, 3 * size)),
                kind,
                size,
            },
        }
    }

    /// The gate projections, the cell kind and the state size, for a packed copy.
    pub(super) fn parts(&self) -> (&Linear, Option<&Linear>, CellKind, usize) {
        (&self.input, self.hidden.as_ref(), self.kind, self.size)
    }

    pub fn zero_state(&self, batch: usize, device: &Device) -> LayerState {
        let zeros = || Tensor::<2>::zeros([batch, self.size], device);
        LayerState {
            hidden: zeros(),
            cell: (self.kind == CellKind::Lstm).then(zeros),
        }
    }

    /// Inputs, one [batch, features] tensor per time step → outputs [batch, size] per step and
    /// the final state.
    pub fn forward(
        &self,
        inputs: Vec<Tensor<2>>,
        state: Option<LayerState>,
    ) -> (Vec<Tensor<2>>, LayerState) {
        let Some(first) = inputs.first() else {
            let state = state.expect("an empty sequence needs a state to return");
            return (Vec::new(), state);
        };
        let mut state = state.unwrap_or_else(|| self.zero_state(first.dims()[0], &first.device()));
        let mut outputs = Vec::with_capacity(inputs.len());
        for x in inputs {
            state = self.step(x, state);
            outputs.push(state.hidden.clone());
        }
        (outputs, state)
    }

    /// As [`forward`](Self::forward) on the CPU, with the sequence as one tensor
    /// [batch, time, features] → [batch, time, size]: the layer over the whole window is one
    /// fused operation with its own backward pass.
    #[cfg(feature = "fused")]
    pub fn forward_fused(
        &self,
        inputs: Tensor<3>,
        state: Option<LayerState>,
    ) -> (Tensor<3>, LayerState) {
        let [batch, time, _] = inputs.dims();
        let device = inputs.device();
        let state = state.unwrap_or_else(|| self.zero_state(batch, &device));
        let size = self.size;
        // Parameters initialise lazily, on first use, from the seeded stream: read them in the
        // order the step-by-step path does (input weight and bias, then hidden weight and
        // bias), or a seed would start a different network here.
        let weight = self.input.weight.val();
        let gates = weight.dims()[1];
        let bias = match &self.input.bias {
            Some(bias) => bias.val(),
            None => Tensor::zeros([gates], &device),
        };
        let Some(hidden) = &self.hidden else {
            // LSTM: one packed `[x, h]` weight.
            let output = super::fused::lstm_window(
                inputs,
                weight,
                bias,
                state.hidden,
                state.cell.expect("an LSTM state has a cell"),
            );
            let hiddens = output.clone().narrow(1, 0, time);
            let last = hiddens
                .clone()
                .narrow(1, time - 1, 1)
                .reshape([batch, size]);
            let cell = output.narrow(1, time, 1).reshape([batch, size]);
            return (
                hiddens,
                LayerState {
                    hidden: last,
                    cell: Some(cell),
                },
            );
        };
        let recurrent = hidden.weight.val();
        let recurrent_bias = match &hidden.bias {
            Some(bias) => bias.val(),
            None => Tensor::zeros([gates], &device),
        };
        let hiddens = super::fused::gru_window(
            inputs,
            weight,
            bias,
            recurrent,
            recurrent_bias,
            state.hidden,
        );
        let last = hiddens
            .clone()
            .narrow(1, time - 1, 1)
            .reshape([batch, size]);
        (
            hiddens,
            LayerState {
                hidden: last,
                cell: None,
            },
        )
    }

    fn step(&self, x: Tensor<2>, state: LayerState) -> LayerState {
        match (&self.hidden, self.kind) {
            (None, _) => {
                let joined = Tensor::cat(vec![x, state.hidden], 1);
                let mut gates = dense(&self.input, joined).chunk(4, 1).into_iter();
                let mut next = || gates.next().expect("four gate chunks");
                let (i, f, g, o) = (
                    sigmoid(next()),
                    sigmoid(next()),
                    tanh(next()),
                    sigmoid(next()),
                );
                let c = f * state.cell.expect("an LSTM state has a cell") + i * g;
                LayerState {
                    hidden: o * tanh(c.clone()),
                    cell: Some(c),
                }
            }
            (Some(hidden), _) => {
                let mut xs = dense(&self.input, x).chunk(3, 1).into_iter();
                let mut hs = dense(hidden, state.hidden.clone()).chunk(3, 1).into_iter();
                let mut pair = || (xs.next().expect("3 chunks"), hs.next().expect("3 chunks"));
                let ((xr, hr), (xz, hz), (xn, hn)) = (pair(), pair(), pair());
                let r = sigmoid(xr + hr);
                let z = sigmoid(xz + hz);
                let n = tanh(xn + r * hn);
                LayerState {
                    hidden: n.clone() + z * (state.hidden - n),
                    cell: None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstm_forget_gates_start_at_bias_one() {
        let device = Device::flex();
        let layer = Recurrent::new(CellKind::Lstm, 5, 4, &device);
        let bias = layer.input.bias.as_ref().expect("gates have a bias").val();
        let bias = bias.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(bias.len(), 16);
        assert!(bias[4..8].iter().all(|&b| b == 1.0), "{bias:?}");
        // The other gates keep their random start.
        assert!(bias[..4].iter().chain(&bias[8..]).all(|&b| b.abs() < 1.0));
    }

    /// The fused CPU recurrences are the same functions as the step-by-step ones: equal outputs,
    /// final state and gradients for every input and weight.
    #[cfg(feature = "fused")]
    #[test]
    fn the_fused_recurrences_match_the_step_by_step_ones_forward_and_backward() {
        fused_matches_step_by_step(CellKind::Lstm);
        fused_matches_step_by_step(CellKind::Gru);
    }

    #[cfg(feature = "fused")]
    fn fused_matches_step_by_step(kind: CellKind) {
        use burn::tensor::Distribution;

        let device = Device::flex().autodiff();
        let (batch, time, features, size) = (3, 7, 5, 6);
        let layer = Recurrent::new(kind, features, size, &device);
        let normal = Distribution::Normal(0.0, 1.0);
        let inputs = Tensor::<3>::random([batch, time, features], normal, &device).require_grad();
        let hidden = Tensor::<2>::random([batch, size], normal, &device).require_grad();
        let cell = Tensor::<2>::random([batch, size], normal, &device).require_grad();
        let lstm = kind == CellKind::Lstm;
        let state = || LayerState {
            hidden: hidden.clone(),
            cell: lstm.then(|| cell.clone()),
        };
        // A loss that reaches every output, and the final hidden and cell state.
        let mix = Tensor::<3>::random([batch, time, size], normal, &device);
        let mix_h = Tensor::<2>::random([batch, size], normal, &device);
        let mix_c = Tensor::<2>::random([batch, size], normal, &device);
        let loss = |outputs: Tensor<3>, last: LayerState| {
            (outputs * mix.clone()).sum()
                + (last.hidden * mix_h.clone()).sum()
                + last
                    .cell
                    .map_or(Tensor::zeros([1], &device), |c| (c * mix_c.clone()).sum())
        };

        let steps = (0..time)
            .map(|t| inputs.clone().narrow(1, t, 1).reshape([batch, features]))
            .collect();
        let (outputs, last) = layer.forward(steps, Some(state()));
        let stepped = Tensor::stack(outputs, 1);
        let (fused, fused_last) = layer.forward_fused(inputs.clone(), Some(state()));

        let close = |a: Tensor<3>, b: Tensor<3>, what: &str| {
            let a = a.into_data().try_to_vec::<f32>().unwrap();
            let b = b.into_data().try_to_vec::<f32>().unwrap();
            let worst = crate::model::largest_difference(&a, &b);
            assert!(worst < 1e-5, "{kind:?} {what}: max |difference| {worst}");
        };
        close(stepped.clone(), fused.clone(), "outputs");
        let as3 = |t: Tensor<2>| t.unsqueeze_dim::<3>(0);
        close(
            as3(last.hidden.clone()),
            as3(fused_last.hidden.clone()),
            "final h",
        );
        if lstm {
            close(
                as3(last.cell.clone().unwrap()),
                as3(fused_last.cell.clone().unwrap()),
                "cell",
            );
        }

        let grads = loss(stepped, last).backward();
        let fused_grads = loss(fused, fused_last).backward();
        let weight = layer.input.weight.val();
        let bias = layer.input.bias.as_ref().unwrap().val();
        close(
            inputs.grad(&grads).unwrap(),
            inputs.grad(&fused_grads).unwrap(),
            "input gradient",
        );
        let mut checked = vec![("h0", &hidden), ("weight", &weight)];
        if lstm {
            checked.push(("c0", &cell));
        }
        let hidden_weight = layer.hidden.as_ref().map(|h| h.weight.val());
        if let Some(weight) = &hidden_weight {
            checked.push(("hidden weight", weight));
        }
        for (what, tensor) in checked {
            close(
                as3(tensor.grad(&grads).unwrap()),
                as3(tensor.grad(&fused_grads).unwrap()),
                &format!("{what} gradient"),
            );
        }
        let mut biases = vec![bias];
        biases.extend(
            layer
                .hidden
                .as_ref()
                .and_then(|h| h.bias.as_ref())
                .map(|b| b.val()),
        );
        for bias in biases {
            close(
                bias.grad(&grads)
                    .unwrap()
                    .unsqueeze_dim::<2>(0)
                    .unsqueeze_dim(0),
                bias.grad(&fused_grads)
                    .unwrap()
                    .unsqueeze_dim::<2>(0)
                    .unsqueeze_dim(0),
                "bias gradient",
            );
        }
    }
}
