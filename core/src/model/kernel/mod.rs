//! The recurrences of an LSTM and a GRU layer over a whole window, forward and backward, on f32
//! slices: the CPU training kernels behind [`super::fused`].
//!
//! burn's autodiff records ~15 small operations per time step, each with its own tensors, and
//! adds up a weight gradient per step. Here a window is one operation: the gates of every step
//! are computed in place, the backward pass walks the steps once, and the recurrent weights'
//! gradient is a single matmul over all `batch × time` rows. The input projection (`x · Wx + b`
//! for every step at once) stays a burn matmul outside, so a kernel only sees the part that is
//! truly sequential.
//!
//! Tensors are row-major and batch first, as burn hands them over: the projected input is
//! `[batch, time, gates·hidden]`, the recurrent weight `[hidden, gates·hidden]`.

pub mod gru;
pub mod lstm;

/// The sizes of one call, checked against the slices once.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub batch: usize,
    pub time: usize,
    pub hidden: usize,
}

/// A state per step boundary, `[batch, time + 1, hidden]`, with `initial` (`[batch, hidden]`) in
/// each sequence's first slot and the rest for the steps to fill.
pub(super) fn states_from(initial: &[f32], shape: Shape) -> Vec<f32> {
    let Shape {
        batch,
        time,
        hidden,
    } = shape;
    assert_eq!(initial.len(), batch * hidden, "initial state size");
    let mut states = vec![0.0; batch * (time + 1) * hidden];
    for (slots, start) in states
        .chunks_exact_mut((time + 1) * hidden)
        .zip(initial.chunks_exact(hidden))
    {
        slots[..hidden].copy_from_slice(start);
    }
    states
}

/// `time` consecutive slots of each sequence's `[batch, time + 1, hidden]` states, from slot
/// `first`: `[batch·time, hidden]`. From 0, the state before each step (the left operand of the
/// recurrent weights' gradient); from 1, the state after each.
pub(super) fn steps_from(states: &[f32], shape: Shape, first: usize) -> Vec<f32> {
    let Shape {
        batch,
        time,
        hidden,
    } = shape;
    let mut steps = Vec::with_capacity(batch * time * hidden);
    for slots in states.chunks_exact((time + 1) * hidden) {
        steps.extend_from_slice(&slots[first * hidden..(first + time) * hidden]);
    }
    steps
}

/// `Σ over every (batch, step) of h_{t-1}ᵀ · dG_t`, one matmul with `batch·time` inner rows:
/// `[hidden, width]`.
pub(super) fn recurrent_weight_gradient(
    previous: &[f32],
    d_gates: &[f32],
    hidden: usize,
    width: usize,
) -> Vec<f32> {
    let rows = previous.len() / hidden;
    assert_eq!(d_gates.len(), rows * width, "gate gradient size");
    let mut gradient = vec![0.0; hidden * width];
    // SAFETY: lhs is `previous` read transposed ([hidden, rows], column stride `hidden`), rhs
    // `d_gates` as [rows, width], dst [hidden, width]: all within their slices.
    unsafe {
        matmul(
            hidden,
            width,
            rows,
            gradient.as_mut_ptr(),
            width as isize,
            false,
            (previous.as_ptr(), 1, hidden as isize),
            (d_gates.as_ptr(), width as isize, 1),
        );
    }
    gradient
}

/// `dst (+)= lhs · rhs`, each operand a pointer with its (row, column) strides.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_row_stride: isize,
    accumulate: bool,
    (lhs, lhs_rs, lhs_cs): (*const f32, isize, isize),
    (rhs, rhs_rs, rhs_cs): (*const f32, isize, isize),
) {
    // Small products stay on one thread: waking the pool costs more than it saves.
    let parallelism = if m * n * k >= 1 << 20 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_row_stride,
            accumulate,
            lhs,
            lhs_cs,
            lhs_rs,
            rhs,
            rhs_cs,
            rhs_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

pub(super) fn transpose(matrix: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = matrix[r * cols + c];
        }
    }
    out
}

/// e^x to ~2 ulp, in arithmetic the compiler vectorises (libm's `expf` is one scalar call per
/// value, which made the gates ~15 % of a training step through burn).
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n·ln2 is exact to f32 precision.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding then subtracting 1.5·2²³ rounds to the nearest integer without a rounding call.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // e^r on |r| ≤ ln2/2: Taylor to r⁶ (error below 2e-8 relative).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    p * scale
}

pub(super) fn sigmoid_in_place(values: &mut [f32]) {
    for v in values {
        *v = 1.0 / (1.0 + exp(-*v));
    }
}

pub(super) fn tanh_in_place(values: &mut [f32]) {
    for v in values {
        // tanh x = 2σ(2x) − 1, with an absolute error near 0 of a few 1e-8.
        *v = 2.0 / (1.0 + exp(-2.0 * *v)) - 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vectorised_exp_matches_the_standard_one() {
        let mut worst = 0.0f32;
        let mut x = -80.0f32;
        while x < 80.0 {
            let relative = (exp(x) - x.exp()).abs() / x.exp();
            worst = worst.max(relative);
            x += 0.013;
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
        let mut worst_tanh = 0.0f32;
        for step in -2000..2000 {
            let x = step as f32 * 0.005;
            let mut v = [x];
            tanh_in_place(&mut v);
            worst_tanh = worst_tanh.max((v[0] - x.tanh()).abs());
        }
        assert!(worst_tanh < 1e-6, "worst tanh error {worst_tanh}");
    }
}
