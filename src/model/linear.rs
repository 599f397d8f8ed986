//! The model's linear layers as flat matmuls, in the activations' float type.

use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{FloatDType, Tensor};

use super::fused::{Inputs, matmul};
use super::pass::to_dtype;

/// A linear layer applied to `[B, T, in]` as one `[B*T, in]` matmul: Burn's weight gradient of a
/// 3-D input is B matmuls of depth T and a sum over B; flat, it is one matmul of depth B*T.
pub(super) fn flat<B: Backend>(linear: &Linear<B>, x: Tensor<B, 3>, mm: Inputs) -> Tensor<B, 3> {
    let [b, t, d] = x.dims();
    let y = linear_2d(linear, x.reshape([b * t, d]), mm);
    let out = y.dims()[1];
    y.reshape([b, t, out])
}

/// `x W + b` for `x` `[rows, in]`, in `x`'s float type, the product multiplying `mm`.
pub(super) fn linear_2d<B: Backend>(
    linear: &Linear<B>,
    x: Tensor<B, 2>,
    mm: Inputs,
) -> Tensor<B, 2> {
    let dt = h_dtype(&x);
    let y = matmul(x, to_dtype(linear.weight.val(), dt), mm);
    match &linear.bias {
        Some(bias) => y + to_dtype(bias.val(), dt).unsqueeze::<2>(),
        None => y,
    }
}

/// The float type of the activations `x`.
pub(super) fn h_dtype<B: Backend, const D: usize>(x: &Tensor<B, D>) -> FloatDType {
    x.dtype().into()
}
