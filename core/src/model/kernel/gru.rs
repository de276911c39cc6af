//! The GRU recurrence (PyTorch's form, as [`crate::model::Recurrent`] steps it): with `x · Wx + bx`
//! projected as r, z, n and `h · Wh + bh` likewise, `r = σ(xr + hr)`, `z = σ(xz + hz)`,
//! `n = tanh(xn + r·hn)`, `h' = n + z·(h − n)`. The output `[batch, time, hidden]` is `h` after
//! each step; its last step is the final state.

use rayon::prelude::*;

use super::{
    Shape, column_sums, matmul_by_columns, project, projection_gradients,
    recurrent_weight_gradient, sigmoid_in_place, states_from, steps_from, tanh_in_place, transpose,
    zeros,
};

/// What the backward pass needs from the forward pass.
#[derive(Debug)]
pub struct Tape {
    pub shape: Shape,
    /// Activated gates `[batch, time, 3·hidden]`: σ(r), σ(z), tanh(n).
    gates: Vec<f32>,
    /// `hn`, the hidden projection's n part, `[batch, time, hidden]`.
    hidden_n: Vec<f32>,
    /// `h` before each step and after the last, `[batch, time + 1, hidden]`.
    hiddens: Vec<f32>,
    /// The recurrent weight transposed, `[3·hidden, hidden]`.
    recurrent_t: Vec<f32>,
}

/// The gradients of a window's inputs.
pub struct Gradients {
    pub inputs: Vec<f32>,
    pub input_weight: Vec<f32>,
    pub input_bias: Vec<f32>,
    pub recurrent: Vec<f32>,
    pub recurrent_bias: Vec<f32>,
    pub hidden0: Vec<f32>,
}

/// The layer's parameters: `x · Wx + bx` and `h · Wh + bh`, each `[·, 3·hidden]`.
pub struct Weights<'a> {
    pub input: &'a [f32],
    pub input_bias: &'a [f32],
    pub recurrent: &'a [f32],
    pub recurrent_bias: &'a [f32],
}

/// Runs the layer over `inputs` (`[batch, time, features]`); returns the output and, when
/// asked, the tape.
pub fn forward(
    shape: Shape,
    inputs: &[f32],
    weights: Weights,
    hidden0: &[f32],
    record: bool,
) -> (Vec<f32>, Option<Tape>) {
    let Shape {
        batch,
        time,
        features,
        hidden,
    } = shape;
    let width = 3 * hidden;
    let slots = time + 1;
    let Weights {
        input,
        input_bias,
        recurrent,
        recurrent_bias,
    } = weights;
    assert_eq!(inputs.len(), batch * time * features, "input size");
    assert_eq!(recurrent.len(), hidden * width, "recurrent weight size");
    assert_eq!(recurrent_bias.len(), width, "recurrent bias size");

    let mut gates = project(inputs, input, input_bias, features);
    let mut hidden_n = zeros(batch * time * hidden);
    let mut hiddens = states_from(hidden0, shape);
    let mut step = vec![0.0; batch * width];
    for t in 0..time {
        // step = h_{t-1} · Wh + bh
        for row in step.chunks_exact_mut(width) {
            row.copy_from_slice(recurrent_bias);
        }
        // SAFETY: `batch` rows of `hidden` (lhs, row stride `slots·hidden`, from step t) and
        // `width` (dst) values: inside both buffers.
        unsafe {
            matmul_by_columns(
                batch,
                width,
                hidden,
                step.as_mut_ptr(),
                width as isize,
                true,
                (
                    hiddens.as_ptr().add(t * hidden),
                    (slots * hidden) as isize,
                    1,
                ),
                (recurrent.as_ptr(), width as isize, 1),
            );
        }
        // Each sequence's gates and state, on every core.
        gates
            .par_chunks_mut(time * width)
            .zip(hidden_n.par_chunks_mut(time * hidden))
            .zip(hiddens.par_chunks_mut(slots * hidden))
            .zip(step.par_chunks(width))
            .for_each(|(((gates, hidden_n), hiddens), from_hidden)| {
                let (r, rest) = gates[t * width..(t + 1) * width].split_at_mut(hidden);
                let (z, n) = rest.split_at_mut(hidden);
                let hn = &mut hidden_n[t * hidden..(t + 1) * hidden];
                hn.copy_from_slice(&from_hidden[2 * hidden..]);
                for k in 0..hidden {
                    r[k] += from_hidden[k];
                    z[k] += from_hidden[hidden + k];
                }
                sigmoid_in_place(r);
                sigmoid_in_place(z);
                for k in 0..hidden {
                    n[k] += r[k] * hn[k];
                }
                tanh_in_place(n);
                let (previous, next) = hiddens.split_at_mut((t + 1) * hidden);
                let h_prev = &previous[t * hidden..];
                for k in 0..hidden {
                    next[k] = n[k] + z[k] * (h_prev[k] - n[k]);
                }
            });
    }

    let output = steps_from(&hiddens, shape, 1);
    let tape = record.then(|| Tape {
        shape,
        gates,
        hidden_n,
        hiddens,
        recurrent_t: transpose(recurrent, hidden, width),
    });
    (output, tape)
}

/// Backpropagates `d_output` (`[batch, time, hidden]`) through the window whose `inputs` and
/// `input_weight` made `tape`.
pub fn backward(tape: &Tape, inputs: &[f32], input_weight: &[f32], d_output: &[f32]) -> Gradients {
    let Shape {
        batch,
        time,
        features,
        hidden,
    } = tape.shape;
    let width = 3 * hidden;
    let slots = time + 1;
    assert_eq!(
        d_output.len(),
        batch * time * hidden,
        "output gradient size"
    );

    let mut d_projected = zeros(batch * time * width);
    // The gradient of `h · Wh + bh`: as `d_projected` but for n, which the reset gate scales.
    let mut d_from_hidden = zeros(batch * time * width);
    let mut d_hidden = vec![0.0; batch * hidden];
    for t in (0..time).rev() {
        d_projected
            .par_chunks_mut(time * width)
            .zip(d_from_hidden.par_chunks_mut(time * width))
            .zip(d_hidden.par_chunks_mut(hidden))
            .enumerate()
            .for_each(|(b, ((d_projected, d_from_hidden), dh))| {
                let row = (b * time + t) * width;
                let g = &tape.gates[row..row + width];
                let (r, z, n) = (&g[..hidden], &g[hidden..2 * hidden], &g[2 * hidden..]);
                let hn = &tape.hidden_n[(b * time + t) * hidden..(b * time + t + 1) * hidden];
                let before = (b * slots + t) * hidden;
                let h_prev = &tape.hiddens[before..before + hidden];
                let d_out = &d_output[(b * time + t) * hidden..(b * time + t + 1) * hidden];
                let (dxr, rest) = d_projected[t * width..(t + 1) * width].split_at_mut(hidden);
                let (dxz, dxn) = rest.split_at_mut(hidden);
                let (dhr, rest) = d_from_hidden[t * width..(t + 1) * width].split_at_mut(hidden);
                let (dhz, dhn) = rest.split_at_mut(hidden);
                for k in 0..hidden {
                    let dh_k = dh[k] + d_out[k];
                    let dn = dh_k * (1.0 - z[k]) * (1.0 - n[k] * n[k]);
                    let dr = dn * hn[k] * r[k] * (1.0 - r[k]);
                    let dz = dh_k * (h_prev[k] - n[k]) * z[k] * (1.0 - z[k]);
                    dxr[k] = dr;
                    dxz[k] = dz;
                    dxn[k] = dn;
                    dhr[k] = dr;
                    dhz[k] = dz;
                    dhn[k] = dn * r[k];
                    // What reaches h_{t-1} directly; the matmul below adds the gates' share.
                    dh[k] = dh_k * z[k];
                }
            });
        // dh_{t-1} += d(h·Wh)_t · Whᵀ
        // SAFETY: `batch` rows of `width` (lhs, row stride `time·width`) and `hidden` (dst)
        // values: inside both buffers.
        unsafe {
            matmul_by_columns(
                batch,
                hidden,
                width,
                d_hidden.as_mut_ptr(),
                hidden as isize,
                true,
                (
                    d_from_hidden.as_ptr().add(t * width),
                    (time * width) as isize,
                    1,
                ),
                (tape.recurrent_t.as_ptr(), hidden as isize, 1),
            );
        }
    }

    let previous = steps_from(&tape.hiddens, tape.shape, 0);
    let mut d_recurrent = vec![0.0; hidden * width];
    recurrent_weight_gradient(&previous, &d_from_hidden, hidden, &mut d_recurrent);
    let mut d_input_weight = zeros(features * width);
    let (d_inputs, d_input_bias) = projection_gradients(
        inputs,
        input_weight,
        &d_projected,
        features,
        &mut d_input_weight,
    );
    Gradients {
        inputs: d_inputs,
        input_weight: d_input_weight,
        input_bias: d_input_bias,
        recurrent: d_recurrent,
        recurrent_bias: column_sums(&d_from_hidden, width),
        hidden0: d_hidden,
    }
}
