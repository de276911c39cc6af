use burn::module::Module;
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

/// A recurrent layer with packed gates.
#[derive(Module, Debug)]
pub struct Recurrent {
    /// Input → all gates, with bias: applied to the whole sequence in one matmul.
    input: Linear,
    /// Hidden state → all gates (for a GRU with its own bias, which the reset gate scales).
    hidden: Linear,
    #[module(skip)]
    kind: CellKind,
    #[module(skip)]
    size: usize,
}

impl Recurrent {
    pub fn new(kind: CellKind, input: usize, size: usize, device: &Device) -> Self {
        let gates = match kind {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        };
        Recurrent {
            input: LinearConfig::new(input, gates * size).init(device),
            hidden: LinearConfig::new(size, gates * size)
                .with_bias(kind == CellKind::Gru)
                .init(device),
            kind,
            size,
        }
    }

    pub fn zero_state(&self, batch: usize, device: &Device) -> LayerState {
        let zeros = || Tensor::<2>::zeros([batch, self.size], device);
        LayerState {
            hidden: zeros(),
            cell: (self.kind == CellKind::Lstm).then(zeros),
        }
    }

    /// `input` [batch, time, features] → outputs [batch, time, size] and the final state.
    pub fn forward(&self, input: Tensor<3>, state: Option<LayerState>) -> (Tensor<3>, LayerState) {
        let [batch, time, _] = input.dims();
        let device = input.device();
        let mut state = state.unwrap_or_else(|| self.zero_state(batch, &device));
        let projected = self.input.forward(input);
        let mut outputs = Vec::with_capacity(time);
        for t in 0..time {
            let x = projected.clone().narrow(1, t, 1).squeeze_dim::<2>(1);
            state = self.step(x, state);
            outputs.push(state.hidden.clone());
        }
        (Tensor::stack(outputs, 1), state)
    }

    /// One time step from an already projected input [batch, gates × size].
    fn step(&self, x: Tensor<2>, state: LayerState) -> LayerState {
        let h = self.hidden.forward(state.hidden.clone());
        match self.kind {
            CellKind::Lstm => {
                let mut gates = (x + h).chunk(4, 1).into_iter();
                let mut next = || gates.next().expect("four gate chunks");
                let (i, f, g, o) = (sigmoid(next()), sigmoid(next()), tanh(next()), sigmoid(next()));
                let c = f * state.cell.expect("an LSTM state has a cell") + i * g;
                LayerState { hidden: o * tanh(c.clone()), cell: Some(c) }
            }
            CellKind::Gru => {
                let mut xs = x.chunk(3, 1).into_iter();
                let mut hs = h.chunk(3, 1).into_iter();
                let mut pair = || (xs.next().expect("3 chunks"), hs.next().expect("3 chunks"));
                let ((xr, hr), (xz, hz), (xn, hn)) = (pair(), pair(), pair());
                let r = sigmoid(xr + hr);
                let z = sigmoid(xz + hz);
                let n = tanh(xn + r * hn);
                let hidden = n.clone() + z * (state.hidden - n);
                LayerState { hidden, cell: None }
            }
        }
    }
}
