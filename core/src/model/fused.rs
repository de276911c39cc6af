//! The LSTM and GRU recurrences as single burn operations on the CPU (flex, with or without
//! autodiff), backed by [`super::kernel`]. Other devices (wgpu) keep the step-by-step path of
//! [`super::recurrent`].

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::prelude::*;

use super::kernel::{Shape, gru, lstm};

/// Whether tensors on `device` can take the fused recurrences. Never while `MOTIF_NO_FUSED` is
/// set: A/B measurements against burn's own step-by-step path, in one binary.
pub fn supports(device: &Device) -> bool {
    std::env::var_os("MOTIF_NO_FUSED").is_none() && device.clone().inner() == Device::flex()
}

/// An LSTM layer over a window: `inputs` [batch, time, features], the packed `[x, h]` `weight`
/// [features + hidden, 4·hidden] and its `bias` [4·hidden], initial `hidden` and `cell`
/// [batch, hidden] → `h` after each step and then the final cell, [batch, time + 1, hidden].
pub fn lstm_window(
    inputs: Tensor<3>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    hidden: Tensor<2>,
    cell: Tensor<2>,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedRecurrence>::lstm_window(
        inputs.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        hidden.into_dispatch(),
        cell.into_dispatch(),
    ))
}

/// A GRU layer over a window: `inputs` [batch, time, features], the input projection's weight
/// [features, 3·hidden] and bias [3·hidden], the recurrent weight [hidden, 3·hidden] and its
/// bias [3·hidden], initial `hidden` [batch, hidden] → `h` after each step, [batch, time,
/// hidden].
pub fn gru_window(
    inputs: Tensor<3>,
    input_weight: Tensor<2>,
    input_bias: Tensor<1>,
    recurrent: Tensor<2>,
    recurrent_bias: Tensor<1>,
    hidden: Tensor<2>,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedRecurrence>::gru_window(
        inputs.into_dispatch(),
        input_weight.into_dispatch(),
        input_bias.into_dispatch(),
        recurrent.into_dispatch(),
        recurrent_bias.into_dispatch(),
        hidden.into_dispatch(),
    ))
}

#[backend_extension(Flex, Autodiff)]
pub trait FusedRecurrence: Backend {
    fn lstm_window(
        inputs: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        cell: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    fn gru_window(
        inputs: FloatTensor<Self>,
        input_weight: FloatTensor<Self>,
        input_bias: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        recurrent_bias: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

fn values(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    match tensor.as_slice::<f32>() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(tensor.to_contiguous().storage::<f32>().to_vec()),
    }
}

/// `tensor` itself when its values lie in order, else a contiguous copy: a tape keeps it for
/// the backward pass.
fn contiguous(tensor: &FlexTensor) -> FlexTensor {
    match tensor.as_slice::<f32>() {
        Some(_) => tensor.clone(),
        None => tensor.to_contiguous(),
    }
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The window's shape from its inputs [batch, time, features] and its initial hidden state
/// [batch, hidden].
fn shape_of(inputs: &FlexTensor, hidden: &FlexTensor) -> Shape {
    let dims = inputs.layout().shape().to_vec();
    let [batch, time, features] = dims[..] else {
        panic!("a window's inputs are [batch, time, features], got {dims:?}");
    };
    Shape {
        batch,
        time,
        features,
        hidden: hidden.layout().shape()[1],
    }
}

/// A kernel's tape, with the window's inputs and input weight, which its backward pass reads
/// again (both shared with burn's graph, not copied).
#[derive(Debug)]
struct Recorded<T> {
    tape: T,
    inputs: FlexTensor,
    input_weight: FlexTensor,
}

fn run_lstm(inputs: [&FlexTensor; 5], record: bool) -> (FlexTensor, Option<Recorded<lstm::Tape>>) {
    let [x, weight, bias, hidden, cell] = inputs;
    let shape = shape_of(x, hidden);
    let (x, weight) = (contiguous(x), contiguous(weight));
    let (output, tape) = lstm::forward(
        shape,
        &values(&x),
        &values(&weight),
        &values(bias),
        &values(hidden),
        &values(cell),
        record,
    );
    let dims = vec![shape.batch, shape.time + 1, shape.hidden];
    let recorded = tape.map(|tape| Recorded {
        tape,
        inputs: x,
        input_weight: weight,
    });
    (tensor(output, dims), recorded)
}

fn run_gru(inputs: [&FlexTensor; 6], record: bool) -> (FlexTensor, Option<Recorded<gru::Tape>>) {
    let [
        x,
        input_weight,
        input_bias,
        recurrent,
        recurrent_bias,
        hidden,
    ] = inputs;
    let shape = shape_of(x, hidden);
    let (x, input_weight) = (contiguous(x), contiguous(input_weight));
    let (output, tape) = gru::forward(
        shape,
        &values(&x),
        gru::Weights {
            input: &values(&input_weight),
            input_bias: &values(input_bias),
            recurrent: &values(recurrent),
            recurrent_bias: &values(recurrent_bias),
        },
        &values(hidden),
        record,
    );
    let dims = vec![shape.batch, shape.time, shape.hidden];
    let recorded = tape.map(|tape| Recorded {
        tape,
        inputs: x,
        input_weight,
    });
    (tensor(output, dims), recorded)
}

impl FusedRecurrence for Flex {
    fn lstm_window(
        inputs: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        hidden: FlexTensor,
        cell: FlexTensor,
    ) -> FlexTensor {
        run_lstm([&inputs, &weight, &bias, &hidden, &cell], false).0
    }

    fn gru_window(
        inputs: FlexTensor,
        input_weight: FlexTensor,
        input_bias: FlexTensor,
        recurrent: FlexTensor,
        recurrent_bias: FlexTensor,
        hidden: FlexTensor,
    ) -> FlexTensor {
        let inputs = [
            &inputs,
            &input_weight,
            &input_bias,
            &recurrent,
            &recurrent_bias,
            &hidden,
        ];
        run_gru(inputs, false).0
    }
}

/// A kernel's tape: the gradients of the operation's `N` inputs, each with its shape, from the
/// output's gradient.
trait RecordedWindow<const N: usize>: Send + Sync + std::fmt::Debug + 'static {
    fn input_gradients(&self, d_output: &[f32]) -> [(Vec<f32>, Vec<usize>); N];
}

impl RecordedWindow<5> for Recorded<lstm::Tape> {
    fn input_gradients(&self, d_output: &[f32]) -> [(Vec<f32>, Vec<usize>); 5] {
        let computed = lstm::backward(
            &self.tape,
            &values(&self.inputs),
            &values(&self.input_weight),
            d_output,
        );
        let Shape {
            batch,
            time,
            features,
            hidden,
        } = self.tape.shape;
        let width = 4 * hidden;
        [
            (computed.inputs, vec![batch, time, features]),
            (computed.weight, vec![features + hidden, width]),
            (computed.bias, vec![width]),
            (computed.hidden0, vec![batch, hidden]),
            (computed.cell0, vec![batch, hidden]),
        ]
    }
}

impl RecordedWindow<6> for Recorded<gru::Tape> {
    fn input_gradients(&self, d_output: &[f32]) -> [(Vec<f32>, Vec<usize>); 6] {
        let computed = gru::backward(
            &self.tape,
            &values(&self.inputs),
            &values(&self.input_weight),
            d_output,
        );
        let Shape {
            batch,
            time,
            features,
            hidden,
        } = self.tape.shape;
        let width = 3 * hidden;
        [
            (computed.inputs, vec![batch, time, features]),
            (computed.input_weight, vec![features, width]),
            (computed.input_bias, vec![width]),
            (computed.recurrent, vec![hidden, width]),
            (computed.recurrent_bias, vec![width]),
            (computed.hidden0, vec![batch, hidden]),
        ]
    }
}

/// The backward step of a window whose forward pass recorded a `T`.
#[derive(Debug)]
struct RecurrenceBackward<T>(PhantomData<T>);

impl<T: RecordedWindow<N>, const N: usize> Backward<Flex, N> for RecurrenceBackward<T> {
    type State = Arc<T>;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let d_output = grads.consume::<Flex>(&ops.node);
        let computed = ops.state.input_gradients(&values(&d_output));
        for (parent, (values, shape)) in ops.parents.into_iter().zip(computed) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, tensor(values, shape));
            }
        }
    }
}

/// Runs `kernel` on the inputs' values and, when any input is tracked, records its tape for the
/// backward pass.
fn tracked<C: CheckpointStrategy, T: RecordedWindow<N>, const N: usize>(
    inputs: [&FloatTensor<Autodiff<Flex, C>>; N],
    kernel: fn([&FlexTensor; N], bool) -> (FlexTensor, Option<T>),
) -> FloatTensor<Autodiff<Flex, C>> {
    let prepared = RecurrenceBackward::<T>(PhantomData)
        .prepare::<C>(inputs.map(|input| input.node()))
        .compute_bound()
        .stateful();
    let primitives = inputs.map(|input| input.primitive());
    match prepared {
        OpsKind::Tracked(prep) => {
            let (output, tape) = kernel(primitives, true);
            prep.finish(Arc::new(tape.expect("a recorded tape")), output)
        }
        OpsKind::UnTracked(prep) => prep.finish(kernel(primitives, false).0),
    }
}

impl<C: CheckpointStrategy> FusedRecurrence for Autodiff<Flex, C> {
    fn lstm_window(
        inputs: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        cell: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        tracked::<C, _, 5>([&inputs, &weight, &bias, &hidden, &cell], run_lstm)
    }

    fn gru_window(
        inputs: FloatTensor<Self>,
        input_weight: FloatTensor<Self>,
        input_bias: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        recurrent_bias: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let inputs = [
            &inputs,
            &input_weight,
            &input_bias,
            &recurrent,
            &recurrent_bias,
            &hidden,
        ];
        tracked::<C, _, 6>(inputs, run_gru)
    }
}
