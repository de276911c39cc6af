//! The recurrences of an LSTM and a GRU layer over a whole window, forward and backward, on f32
//! slices: the CPU training kernels behind [`super::fused`].
//!
//! burn's autodiff records ~15 small operations per time step, each with its own tensors, and
//! adds up a weight gradient per step. Here a window is one operation: the gates of every step
//! are computed in place, the backward pass walks the steps once, and the recurrent weights'
//! gradient is a single matmul over all `batch × time` rows. The input projection (`x · Wx + b`
//! for every step at once) is one matmul too, into the buffer the gates are then computed in:
//! through burn it cost a zeroed output, an aligned copy of it and a copy into the kernel, each
//! a pass over the window's largest tensor on one thread.
//!
//! Tensors are row-major and batch first, as burn hands them over: the input is
//! `[batch, time, features]`, an input weight `[features, gates·hidden]`, the recurrent weight
//! `[hidden, gates·hidden]`.

use rayon::prelude::*;

pub mod gru;
pub mod lstm;

/// The sizes of one call, checked against the slices once.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub batch: usize,
    pub time: usize,
    pub features: usize,
    pub hidden: usize,
}

/// `len` zeros, written on every core: a window's buffers are ~100 MB at the report's size,
/// and zeroing (and first touching) them on one thread left the other core idle.
pub(super) fn zeros(len: usize) -> Vec<f32> {
    let mut values = Vec::with_capacity(len);
    values.par_extend(rayon::iter::repeat_n(0.0, len));
    values
}

/// A state per step boundary, `[batch, time + 1, hidden]`, with `initial` (`[batch, hidden]`) in
/// each sequence's first slot and the rest for the steps to fill.
pub(super) fn states_from(initial: &[f32], shape: Shape) -> Vec<f32> {
    let Shape {
        batch,
        time,
        hidden,
        ..
    } = shape;
    assert_eq!(initial.len(), batch * hidden, "initial state size");
    let mut states = zeros(batch * (time + 1) * hidden);
    states
        .par_chunks_exact_mut((time + 1) * hidden)
        .zip(initial.par_chunks_exact(hidden))
        .for_each(|(slots, start)| slots[..hidden].copy_from_slice(start));
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
        ..
    } = shape;
    let mut steps = zeros(batch * time * hidden);
    steps
        .par_chunks_exact_mut(time * hidden)
        .zip(states.par_chunks_exact((time + 1) * hidden))
        .for_each(|(steps, slots)| {
            steps.copy_from_slice(&slots[first * hidden..(first + time) * hidden]);
        });
    steps
}

/// `Σ over every (batch, step) of h_{t-1}ᵀ · dG_t`, one matmul with `batch·time` inner rows,
/// into `gradient` (`[hidden, width]`).
pub(super) fn recurrent_weight_gradient(
    previous: &[f32],
    d_gates: &[f32],
    hidden: usize,
    gradient: &mut [f32],
) {
    let rows = previous.len() / hidden;
    let width = gradient.len() / hidden;
    assert_eq!(d_gates.len(), rows * width, "gate gradient size");
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
}

/// `x · Wx + b` for every step of a window at once: `inputs` `[rows, features]`, `weight`
/// `[features, width]` → `[rows, width]`. The bias fills the rows first, on every core, so the
/// buffer's fresh pages are touched by both.
pub(super) fn project(inputs: &[f32], weight: &[f32], bias: &[f32], features: usize) -> Vec<f32> {
    let width = bias.len();
    let rows = inputs.len() / features;
    assert_eq!(inputs.len(), rows * features, "input size");
    assert_eq!(weight.len(), features * width, "input weight size");
    let mut projected = Vec::with_capacity(rows * width);
    projected.spare_capacity_mut()[..rows * width]
        .par_chunks_mut(width)
        .for_each(|row| {
            for (slot, &b) in row.iter_mut().zip(bias) {
                slot.write(b);
            }
        });
    // SAFETY: every one of the `rows·width` values was written just above.
    unsafe { projected.set_len(rows * width) };
    // SAFETY: lhs [rows, features], rhs [features, width], dst [rows, width], all row-major
    // inside their slices.
    unsafe {
        matmul(
            rows,
            width,
            features,
            projected.as_mut_ptr(),
            width as isize,
            true,
            (inputs.as_ptr(), features as isize, 1),
            (weight.as_ptr(), width as isize, 1),
        );
    }
    projected
}

/// The gradients of [`project`] from the gradient of its output, `d_projected` `[rows, width]`:
/// returns `dx = dP · Wxᵀ` and `db`; `dWx = xᵀ · dP` goes into `d_weight` (`[features, width]`).
pub(super) fn projection_gradients(
    inputs: &[f32],
    weight: &[f32],
    d_projected: &[f32],
    features: usize,
    d_weight: &mut [f32],
) -> (Vec<f32>, Vec<f32>) {
    let rows = inputs.len() / features;
    let width = weight.len() / features;
    assert_eq!(d_projected.len(), rows * width, "projection gradient size");
    assert_eq!(
        d_weight.len(),
        features * width,
        "input weight gradient size"
    );
    let mut d_inputs = zeros(rows * features);
    // SAFETY: dx: lhs dP [rows, width], rhs Wx read transposed ([width, features]: row stride
    // 1, column stride `width`), dst [rows, features]. dWx: lhs x read transposed ([features,
    // rows]: row stride 1, column stride `features`), rhs dP, dst [features, width].
    unsafe {
        matmul(
            rows,
            features,
            width,
            d_inputs.as_mut_ptr(),
            features as isize,
            false,
            (d_projected.as_ptr(), width as isize, 1),
            (weight.as_ptr(), 1, width as isize),
        );
        matmul(
            features,
            width,
            rows,
            d_weight.as_mut_ptr(),
            width as isize,
            false,
            (inputs.as_ptr(), 1, features as isize),
            (d_projected.as_ptr(), width as isize, 1),
        );
    }
    (d_inputs, column_sums(d_projected, width))
}

/// The sum of each column of `[rows, width]`, on every core. Blocks of rows are summed apart
/// and then added in order, so the result does not depend on how the work was split.
pub(super) fn column_sums(values: &[f32], width: usize) -> Vec<f32> {
    const ROWS_PER_BLOCK: usize = 256;
    let partial: Vec<Vec<f32>> = values
        .par_chunks(ROWS_PER_BLOCK * width)
        .map(|block| {
            let mut sums = vec![0.0; width];
            for row in block.chunks_exact(width) {
                for (sum, value) in sums.iter_mut().zip(row) {
                    *sum += value;
                }
            }
            sums
        })
        .collect();
    let mut sums = vec![0.0; width];
    for block in partial {
        for (sum, value) in sums.iter_mut().zip(block) {
            *sum += value;
        }
    }
    sums
}

/// Whether a product is worth sharing between cores: for a small one, waking the pool costs
/// more than it saves.
fn worth_threads(m: usize, n: usize, k: usize) -> bool {
    m * n * k >= 1 << 20
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
    let parallelism = if worth_threads(m, n, k) {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm_on(
            parallelism,
            (m, n, k),
            dst,
            dst_row_stride,
            accumulate,
            (lhs, lhs_rs, lhs_cs),
            (rhs, rhs_rs, rhs_cs),
        );
    }
}

/// [`matmul`] for the per-step products of a recurrence (forward `h · Wh`, backward
/// `dG · Whᵀ`), whose few rows (the batch) gemm splits badly: the output's columns are split
/// into one single-threaded product per core instead. In a microbenchmark of the crate alone,
/// gemm's own split ran the backward shape 10–20 % slower (42 of 44 alternating rounds,
/// session 16) and the LSTM's forward shape at batch 64 half as fast (83 against 170 GFLOP/s,
/// session 17).
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn matmul_by_columns(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_row_stride: isize,
    accumulate: bool,
    (lhs, lhs_rs, lhs_cs): (*const f32, isize, isize),
    (rhs, rhs_rs, rhs_cs): (*const f32, isize, isize),
) {
    if !worth_threads(m, n, k) {
        // SAFETY: forwarded from the caller.
        return unsafe {
            matmul(
                m,
                n,
                k,
                dst,
                dst_row_stride,
                accumulate,
                (lhs, lhs_rs, lhs_cs),
                (rhs, rhs_rs, rhs_cs),
            )
        };
    }
    let threads = rayon::current_num_threads().max(1);
    let columns = n.div_ceil(threads);
    // Pointers are not `Send`; each task gets its addresses and touches only its own columns.
    let (dst, lhs, rhs) = (dst as usize, lhs as usize, rhs as usize);
    (0..n.div_ceil(columns.max(1)))
        .into_par_iter()
        .for_each(|part| {
            let first = part * columns;
            let width = columns.min(n - first);
            // SAFETY: the caller's operands, narrowed to columns `first..first + width` of dst and
            // rhs; the parts' columns do not overlap.
            unsafe {
                gemm_on(
                    gemm::Parallelism::None,
                    (m, width, k),
                    (dst as *mut f32).add(first),
                    dst_row_stride,
                    accumulate,
                    (lhs as *const f32, lhs_rs, lhs_cs),
                    (
                        (rhs as *const f32).offset(first as isize * rhs_cs),
                        rhs_rs,
                        rhs_cs,
                    ),
                );
            }
        });
}

/// `dst (+)= lhs · rhs` through gemm, with the given parallelism.
unsafe fn gemm_on(
    parallelism: gemm::Parallelism,
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_row_stride: isize,
    accumulate: bool,
    (lhs, lhs_rs, lhs_cs): (*const f32, isize, isize),
    (rhs, rhs_rs, rhs_cs): (*const f32, isize, isize),
) {
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
    let mut out = zeros(rows * cols);
    out.par_chunks_exact_mut(rows)
        .enumerate()
        .for_each(|(c, column)| {
            for (r, value) in column.iter_mut().enumerate() {
                *value = matrix[r * cols + c];
            }
        });
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
    fn a_product_split_by_columns_equals_the_whole_product() {
        // Big enough to be split; n not a multiple of the cores; rhs read transposed and dst
        // accumulated into, as the backward pass does.
        let (m, n, k) = (64, 509, 96);
        let value = |i: usize| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5;
        let lhs: Vec<f32> = (0..m * k).map(value).collect();
        let rhs: Vec<f32> = (0..k * n).map(|i| value(i + 17)).collect();
        let start: Vec<f32> = (0..m * n).map(|i| value(i + 31)).collect();
        let (mut whole, mut split) = (start.clone(), start);
        // SAFETY: lhs [m, k] row-major, rhs [k, n] read from its transpose [n, k], dst [m, n].
        unsafe {
            matmul(
                m,
                n,
                k,
                whole.as_mut_ptr(),
                n as isize,
                true,
                (lhs.as_ptr(), k as isize, 1),
                (rhs.as_ptr(), 1, k as isize),
            );
            matmul_by_columns(
                m,
                n,
                k,
                split.as_mut_ptr(),
                n as isize,
                true,
                (lhs.as_ptr(), k as isize, 1),
                (rhs.as_ptr(), 1, k as isize),
            );
        }
        let worst = crate::model::largest_difference(&whole, &split);
        assert!(worst < 1e-5, "max |difference| {worst}");
    }

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
