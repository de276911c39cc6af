//! A network's first values: drawn for training, or zeros for weights about to be loaded.
//!
//! Loading a bundle only needs the layers' shapes. Building them through burn's initializers
//! would link every initializer into the browser's engine, the orthogonal one included, and
//! with it a QR decomposition and all of cubecl's matmul kernels (`cubek_matmul`,
//! `cubek_tile`), which nothing else there calls (see [`super::dense`]).

use burn::module::Param;
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;

/// Makes a network's layers.
pub(super) trait Start {
    /// A dense layer `inputs → outputs` with a bias.
    fn linear(&self, inputs: usize, outputs: usize) -> Linear;
    /// An embedding of `rows` vectors of `width`, drawn by `initializer` when drawn at all.
    fn embedding(&self, rows: usize, width: usize, initializer: Initializer) -> Embedding;
    /// Sets the forget gates' bias to one, where values are drawn.
    fn forget_bias_one(&self, gates: Linear, size: usize) -> Linear;
}

/// Values drawn by burn's initializers, as training starts.
pub(super) struct Drawn<'a>(pub &'a Device);

/// Zeros of the right shapes, for loading.
pub(super) struct Zeros<'a>(pub &'a Device);

impl Start for Drawn<'_> {
    fn linear(&self, inputs: usize, outputs: usize) -> Linear {
        LinearConfig::new(inputs, outputs).init(self.0)
    }

    fn embedding(&self, rows: usize, width: usize, initializer: Initializer) -> Embedding {
        EmbeddingConfig::new(rows, width)
            .with_initializer(initializer)
            .init(self.0)
    }

    /// Starts an LSTM's forget gates at bias 1, so early in training the cell keeps its memory
    /// instead of halving it every step (Jozefowicz et al., 2015; Keras's `unit_forget_bias`).
    fn forget_bias_one(&self, mut gates: Linear, size: usize) -> Linear {
        gates.bias = gates.bias.map(|bias| {
            let bias = bias.val();
            let ones = Tensor::<1>::ones([size], &bias.device());
            // A fresh leaf: the edited tensor must not hang off the random one in the autodiff
            // graph.
            Param::from_tensor(bias.slice_assign(size..2 * size, ones).detach())
        });
        gates
    }
}

impl Start for Zeros<'_> {
    fn linear(&self, inputs: usize, outputs: usize) -> Linear {
        Linear {
            weight: Param::from_tensor(Tensor::zeros([inputs, outputs], self.0)),
            bias: Some(Param::from_tensor(Tensor::zeros([outputs], self.0))),
        }
    }

    fn embedding(&self, rows: usize, width: usize, _: Initializer) -> Embedding {
        Embedding {
            weight: Param::from_tensor(Tensor::zeros([rows, width], self.0)),
        }
    }

    fn forget_bias_one(&self, gates: Linear, _: usize) -> Linear {
        gates
    }
}
