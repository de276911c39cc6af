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

/// `projected` [batch, time, 4·hidden] (`x · Wx + b`), `recurrent` [hidden, 4·hidden], initial
/// `hidden` and `cell` [batch, hidden] → `h` after each step and then the final cell,
/// [batch, time + 1, hidden].
pub fn lstm_recurrence(
    projected: Tensor<3>,
    recurrent: Tensor<2>,
    hidden: Tensor<2>,
    cell: Tensor<2>,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedRecurrence>::lstm_recurrence(
        projected.into_dispatch(),
        recurrent.into_dispatch(),
        hidden.into_dispatch(),
        cell.into_dispatch(),
    ))
}

/// `projected` [batch, time, 3·hidden] (`x · Wx + bx`), `recurrent` [hidden, 3·hidden] and its
/// `bias` [3·hidden], initial `hidden` [batch, hidden] → `h` after each step,
/// [batch, time, hidden].
pub fn gru_recurrence(
    projected: Tensor<3>,
    recurrent: Tensor<2>,
    bias: Tensor<1>,
    hidden: Tensor<2>,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedRecurrence>::gru_recurrence(
        projected.into_dispatch(),
        recurrent.into_dispatch(),
        bias.into_dispatch(),
        hidden.into_dispatch(),
    ))
}

#[backend_extension(Flex, Autodiff)]
pub trait FusedRecurrence: Backend {
    fn lstm_recurrence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        cell: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    fn gru_recurrence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

fn values(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    match tensor.as_slice::<f32>() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(tensor.to_contiguous().storage::<f32>().to_vec()),
    }
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The window's shape from a projected input [batch, time, gates·hidden].
fn shape_of(projected: &FlexTensor, gates: usize) -> Shape {
    let dims = projected.layout().shape().to_vec();
    let [batch, time, width] = dims[..] else {
        panic!("the projected sequence is [batch, time, {gates}·hidden], got {dims:?}");
    };
    Shape {
        batch,
        time,
        hidden: width / gates,
    }
}

fn run_lstm(inputs: [&FlexTensor; 4], record: bool) -> (FlexTensor, Option<lstm::Tape>) {
    let [projected, recurrent, hidden, cell] = inputs;
    let shape = shape_of(projected, 4);
    let (output, tape) = lstm::forward(
        shape,
        &values(projected),
        &values(recurrent),
        &values(hidden),
        &values(cell),
        record,
    );
    let dims = vec![shape.batch, shape.time + 1, shape.hidden];
    (tensor(output, dims), tape)
}

fn run_gru(inputs: [&FlexTensor; 4], record: bool) -> (FlexTensor, Option<gru::Tape>) {
    let [projected, recurrent, bias, hidden] = inputs;
    let shape = shape_of(projected, 3);
    let (output, tape) = gru::forward(
        shape,
        &values(projected),
        &values(recurrent),
        &values(bias),
        &values(hidden),
        record,
    );
    let dims = vec![shape.batch, shape.time, shape.hidden];
    (tensor(output, dims), tape)
}

impl FusedRecurrence for Flex {
    fn lstm_recurrence(
        projected: FlexTensor,
        recurrent: FlexTensor,
        hidden: FlexTensor,
        cell: FlexTensor,
    ) -> FlexTensor {
        run_lstm([&projected, &recurrent, &hidden, &cell], false).0
    }

    fn gru_recurrence(
        projected: FlexTensor,
        recurrent: FlexTensor,
        bias: FlexTensor,
        hidden: FlexTensor,
    ) -> FlexTensor {
        run_gru([&projected, &recurrent, &bias, &hidden], false).0
    }
}

/// A kernel's tape: the gradients of the operation's four inputs, each with its shape, from the
/// output's gradient.
trait RecordedWindow: Send + Sync + std::fmt::Debug + 'static {
    fn input_gradients(&self, d_output: &[f32]) -> [(Vec<f32>, Vec<usize>); 4];
}

impl RecordedWindow for lstm::Tape {
    fn input_gradients(&self, d_output: &[f32]) -> [(Vec<f32>, Vec<usize>); 4] {
        let computed = lstm::backward(self, d_output);
        let Shape {
            batch,
            time,
            hidden,
        } = self.shape;
        [
            (computed.projected, vec![batch, time, 4 * hidden]),
            (computed.recurrent, vec![hidden, 4 * hidden]),
            (computed.hidden0, vec![batch, hidden]),
            (computed.cell0, vec![batch, hidden]),
        ]
    }
}

impl RecordedWindow for gru::Tape {
    fn input_gradients(&self, d_output: &[f32]) -> [(Vec<f32>, Vec<usize>); 4] {
        let computed = gru::backward(self, d_output);
        let Shape {
            batch,
            time,
            hidden,
        } = self.shape;
        [
            (computed.projected, vec![batch, time, 3 * hidden]),
            (computed.recurrent, vec![hidden, 3 * hidden]),
            (computed.recurrent_bias, vec![3 * hidden]),
            (computed.hidden0, vec![batch, hidden]),
        ]
    }
}

/// The backward step of a recurrence whose forward pass recorded a `T`.
#[derive(Debug)]
struct RecurrenceBackward<T>(PhantomData<T>);

impl<T: RecordedWindow> Backward<Flex, 4> for RecurrenceBackward<T> {
    type State = Arc<T>;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
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
fn tracked<C: CheckpointStrategy, T: RecordedWindow>(
    inputs: [&FloatTensor<Autodiff<Flex, C>>; 4],
    kernel: fn([&FlexTensor; 4], bool) -> (FlexTensor, Option<T>),
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
    fn lstm_recurrence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        cell: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        tracked::<C, _>([&projected, &recurrent, &hidden, &cell], run_lstm)
    }

    fn gru_recurrence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        tracked::<C, _>([&projected, &recurrent, &bias, &hidden], run_gru)
    }
}
