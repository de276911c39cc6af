//! The LSTM layer over a window. Its weight is burn's packed `[x, h]` one, `[features + hidden,
//! 4·hidden]`, with the gates in the order i, f, g, o. The output `[batch, time + 1, hidden]`
//! holds `h` after each step and then the final cell state, so one tensor carries all a caller
//! needs (and a gradient that reaches the final cell flows back like any other).

use rayon::prelude::*;

use super::{
    Shape, matmul_by_columns, project, projection_gradients, recurrent_weight_gradient,
    sigmoid_in_place, states_from, steps_from, tanh_in_place, transpose, zeros,
};

/// What the backward pass needs from the forward pass.
#[derive(Debug)]
pub struct Tape {
    pub shape: Shape,
    /// Activated gates `[batch, time, 4·hidden]`: σ(i), σ(f), tanh(g), σ(o).
    gates: Vec<f32>,
    /// `h` before each step and after the last, `[batch, time + 1, hidden]`.
    hiddens: Vec<f32>,
    /// `c` likewise.
    cells: Vec<f32>,
    /// The recurrent weight transposed, `[4·hidden, hidden]`, for `dG · Whᵀ`.
    recurrent_t: Vec<f32>,
}

/// The gradients of a window's inputs.
pub struct Gradients {
    pub inputs: Vec<f32>,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub hidden0: Vec<f32>,
    pub cell0: Vec<f32>,
}

/// Runs the layer over `inputs` (`[batch, time, features]`); returns the output and, when
/// asked, the tape.
pub fn forward(
    shape: Shape,
    inputs: &[f32],
    weight: &[f32],
    bias: &[f32],
    hidden0: &[f32],
    cell0: &[f32],
    record: bool,
) -> (Vec<f32>, Option<Tape>) {
    let Shape {
        batch,
        time,
        features,
        hidden,
    } = shape;
    let width = 4 * hidden;
    let slots = time + 1;
    assert_eq!(inputs.len(), batch * time * features, "input size");
    assert_eq!(weight.len(), (features + hidden) * width, "weight size");
    let (from_input, recurrent) = weight.split_at(features * width);

    let mut gates = project(inputs, from_input, bias, features);
    let mut hiddens = states_from(hidden0, shape);
    let mut cells = states_from(cell0, shape);
    for t in 0..time {
        // gates[:, t] += h_{t-1} · Wh
        // SAFETY: `batch` rows of `hidden` (lhs) and `width` (dst) values at row strides of
        // `slots·hidden` and `time·width`, starting at step t: inside both buffers.
        unsafe {
            matmul_by_columns(
                batch,
                width,
                hidden,
                gates.as_mut_ptr().add(t * width),
                (time * width) as isize,
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
            .zip(hiddens.par_chunks_mut(slots * hidden))
            .zip(cells.par_chunks_mut(slots * hidden))
            .for_each(|((gates, hiddens), cells)| {
                let (i, rest) = gates[t * width..(t + 1) * width].split_at_mut(hidden);
                let (f, rest) = rest.split_at_mut(hidden);
                let (g, o) = rest.split_at_mut(hidden);
                sigmoid_in_place(i);
                sigmoid_in_place(f);
                tanh_in_place(g);
                sigmoid_in_place(o);
                let (cells_before, cells_after) = cells.split_at_mut((t + 1) * hidden);
                let c_prev = &cells_before[t * hidden..];
                let c = &mut cells_after[..hidden];
                let h = &mut hiddens[(t + 1) * hidden..(t + 2) * hidden];
                for k in 0..hidden {
                    c[k] = f[k] * c_prev[k] + i[k] * g[k];
                    h[k] = c[k];
                }
                tanh_in_place(h);
                for k in 0..hidden {
                    h[k] *= o[k];
                }
            });
    }

    let mut output = zeros(batch * slots * hidden);
    output
        .par_chunks_exact_mut(slots * hidden)
        .zip(hiddens.par_chunks_exact(slots * hidden))
        .zip(cells.par_chunks_exact(slots * hidden))
        .for_each(|((output, hiddens), cells)| {
            output[..time * hidden].copy_from_slice(&hiddens[hidden..]);
            output[time * hidden..].copy_from_slice(&cells[time * hidden..]);
        });
    let tape = record.then(|| Tape {
        shape,
        gates,
        hiddens,
        cells,
        recurrent_t: transpose(recurrent, hidden, width),
    });
    (output, tape)
}

/// Backpropagates `d_output` (shaped as [`forward`]'s output) through the window whose `inputs`
/// and `weight` made `tape`.
pub fn backward(tape: &Tape, inputs: &[f32], weight: &[f32], d_output: &[f32]) -> Gradients {
    let Shape {
        batch,
        time,
        features,
        hidden,
    } = tape.shape;
    let width = 4 * hidden;
    let slots = time + 1;
    assert_eq!(
        d_output.len(),
        batch * slots * hidden,
        "output gradient size"
    );

    let mut d_gates = zeros(batch * time * width);
    let mut d_hidden = vec![0.0; batch * hidden];
    let mut d_cell = vec![0.0; batch * hidden];
    for b in 0..batch {
        let last = (b * slots + time) * hidden;
        d_cell[b * hidden..(b + 1) * hidden].copy_from_slice(&d_output[last..last + hidden]);
    }
    for t in (0..time).rev() {
        d_gates
            .par_chunks_mut(time * width)
            .zip(d_hidden.par_chunks_mut(hidden))
            .zip(d_cell.par_chunks_mut(hidden))
            .enumerate()
            .for_each_init(
                || vec![0.0; hidden],
                |tanh_c, (b, ((d_gates, dh), dc))| {
                    let row = (b * time + t) * width;
                    let g = &tape.gates[row..row + width];
                    let (i, f, gg, o) = (
                        &g[..hidden],
                        &g[hidden..2 * hidden],
                        &g[2 * hidden..3 * hidden],
                        &g[3 * hidden..],
                    );
                    let before = (b * slots + t) * hidden;
                    let c_prev = &tape.cells[before..before + hidden];
                    tanh_c.copy_from_slice(&tape.cells[before + hidden..before + 2 * hidden]);
                    tanh_in_place(tanh_c);
                    let d_out = &d_output[before..before + hidden];
                    let (dgi, rest) = d_gates[t * width..(t + 1) * width].split_at_mut(hidden);
                    let (dgf, rest) = rest.split_at_mut(hidden);
                    let (dgg, dgo) = rest.split_at_mut(hidden);
                    for k in 0..hidden {
                        let dh_k = dh[k] + d_out[k];
                        let tc = tanh_c[k];
                        let dc_k = dc[k] + dh_k * o[k] * (1.0 - tc * tc);
                        dgo[k] = dh_k * tc * o[k] * (1.0 - o[k]);
                        dgi[k] = dc_k * gg[k] * i[k] * (1.0 - i[k]);
                        dgg[k] = dc_k * i[k] * (1.0 - gg[k] * gg[k]);
                        dgf[k] = dc_k * c_prev[k] * f[k] * (1.0 - f[k]);
                        dc[k] = dc_k * f[k];
                    }
                },
            );
        // dh_{t-1} = dG_t · Whᵀ
        // SAFETY: `batch` rows of `width` (lhs, row stride `time·width`) and `hidden` (dst)
        // values: inside both buffers.
        unsafe {
            matmul_by_columns(
                batch,
                hidden,
                width,
                d_hidden.as_mut_ptr(),
                hidden as isize,
                false,
                (d_gates.as_ptr().add(t * width), (time * width) as isize, 1),
                (tape.recurrent_t.as_ptr(), hidden as isize, 1),
            );
        }
    }

    let mut d_weight = zeros((features + hidden) * width);
    let (d_from_input, d_recurrent) = d_weight.split_at_mut(features * width);
    let previous = steps_from(&tape.hiddens, tape.shape, 0);
    recurrent_weight_gradient(&previous, &d_gates, hidden, d_recurrent);
    let (d_inputs, d_bias) = projection_gradients(
        inputs,
        &weight[..features * width],
        &d_gates,
        features,
        d_from_input,
    );
    Gradients {
        inputs: d_inputs,
        weight: d_weight,
        bias: d_bias,
        hidden0: d_hidden,
        cell0: d_cell,
    }
}
