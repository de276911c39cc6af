//! A dense layer's product, the one place the network multiplies by a weight matrix.
//!
//! burn's `Linear` runs it as a matmul. With the feature `matmul-free` (the browser's WebGPU
//! engine) it runs as a broadcast multiply and a sum over the inputs instead, so that build
//! links none of cubecl's matmul kernels and their tiling (`cubek_matmul`, `cubek_tile`: a sixth
//! of that wasm's code). The page steps one token at a time, where a product of one row is a
//! pass over the weights either way; the sum's temporary (inputs × outputs per row) costs
//! microseconds on a GPU, next to the milliseconds of reading the logits back.

use burn::nn::Linear;
use burn::prelude::*;

/// `linear` applied to `x` [..., inputs] → [..., outputs].
pub fn dense<const D: usize>(linear: &Linear, x: Tensor<D>) -> Tensor<D> {
    if cfg!(feature = "matmul-free") {
        dense_by_sum(linear, x)
    } else {
        linear.forward(x)
    }
}

/// `linear.forward(x)` as `Σ_k x[.., k] · W[k, ..] + b`, without a matmul.
pub fn dense_by_sum<const D: usize>(linear: &Linear, x: Tensor<D>) -> Tensor<D> {
    let dims = x.dims();
    let [inputs, outputs] = linear.weight.dims();
    let rows = dims[..D - 1].iter().product::<usize>();
    let weight = linear.weight.val().unsqueeze_dim::<3>(0);
    let product = (x.reshape([rows, inputs, 1]) * weight)
        .sum_dim(1)
        .reshape([rows, outputs]);
    let product = match &linear.bias {
        Some(bias) => product + bias.val().unsqueeze_dim::<2>(0),
        None => product,
    };
    let mut shape = dims;
    shape[D - 1] = outputs;
    product.reshape(shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;
    use burn::tensor::Distribution;

    #[test]
    fn the_sum_gives_the_matmuls_product() {
        let device = Device::flex();
        for bias in [true, false] {
            let linear = LinearConfig::new(48, 20).with_bias(bias).init(&device);
            let x = Tensor::<3>::random([2, 5, 48], Distribution::Normal(0.0, 1.0), &device);
            let expected = linear.forward(x.clone());
            let got = dense_by_sum(&linear, x);
            assert_eq!(got.dims(), [2, 5, 20]);
            let got = got.into_data().try_to_vec::<f32>().unwrap();
            let expected = expected.into_data().try_to_vec::<f32>().unwrap();
            let gap = crate::model::largest_difference(&got, &expected);
            assert!(gap < 1e-5, "largest difference {gap}");
        }
    }
}
