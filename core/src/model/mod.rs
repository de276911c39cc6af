//! The recurrent network: one definition used unchanged by the native trainer and the browser.
//!
//! embedding → N recurrent layers (LSTM or GRU) with dropout between them → dense + ReLU →
//! dense → logits over the vocabulary. The recurrent layers pack their gates: one matmul
//! projects the whole input sequence for all gates at once, and one matmul per time step mixes in
//! the hidden state, where burn's stock `nn::Lstm` does eight small ones per step. On the CPU
//! (feature `fused`, which the trainer turns on) each layer's whole window is one operation with
//! its own backward pass instead (`fused`, `kernel`): the same function, several times faster
//! to train.

mod config;
mod dense;
#[cfg(feature = "fused")]
pub mod fused;
#[cfg(feature = "fused")]
mod kernel;
mod network;
mod packed;
mod recurrent;
mod start;

pub use config::{CellKind, ModelConfig};
pub use network::{MusicModel, State};
pub use packed::{PackedModel, PackedState};
pub use recurrent::{LayerState, Recurrent};

/// A parameter's values as f32, whatever its stored type and device: for the packed CPU copy
/// and for averaging networks.
pub fn param_values<const D: usize>(
    param: &burn::module::Param<burn::prelude::Tensor<D>>,
) -> Vec<f32> {
    param
        .val()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

/// The largest absolute difference between two equally long lists of values (tests compare
/// two computations of one function with it).
#[cfg(test)]
fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "compared lists differ in length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
