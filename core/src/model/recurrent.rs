use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};

use super::CellKind;

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

/// Starts an LSTM's forget gates at bias 1, so early in training the cell keeps its memory
/// instead of halving it every step (Jozefowicz et al., 2015; Keras's `unit_forget_bias`).
fn forget_bias_one(mut gates: Linear, size: usize) -> Linear {
    gates.bias = gates.bias.map(|bias| {
        let bias = bias.val();
        let ones = Tensor::<1>::ones([size], &bias.device());
        // A fresh leaf: the edited tensor must not hang off the random one in the autodiff graph.
        Param::from_tensor(bias.slice_assign(size..2 * size, ones).detach())
    });
    gates
}

impl Recurrent {
    pub fn new(kind: CellKind, input: usize, size: usize, device: &Device) -> Self {
        match kind {
            CellKind::Lstm => Recurrent {
                input: forget_bias_one(
                    LinearConfig::new(input + size, 4 * size).init(device),
                    size,
                ),
                hidden: None,
                kind,
                size,
            },
            CellKind::Gru => Recurrent {
                input: LinearConfig::new(input, 3 * size).init(device),
                hidden: Some(LinearConfig::new(size, 3 * size).init(device)),
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

    fn step(&self, x: Tensor<2>, state: LayerState) -> LayerState {
        match (&self.hidden, self.kind) {
            (None, _) => {
                let joined = Tensor::cat(vec![x, state.hidden], 1);
                let mut gates = self.input.forward(joined).chunk(4, 1).into_iter();
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
                let mut xs = self.input.forward(x).chunk(3, 1).into_iter();
                let mut hs = hidden.forward(state.hidden.clone()).chunk(3, 1).into_iter();
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
}
