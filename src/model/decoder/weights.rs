//! The weights as the cached decoder reads them: each once, as plain Burn tensors.

use anyhow::{Result, anyhow};
use burn::module::{ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};

/// A linear layer's weights, read once (`Param::val` initialises a lazy parameter in place;
/// a cloned module would draw its own).
pub(super) struct Linear<B: Backend> {
    w: Tensor<B, 2>,
    b: Option<Tensor<B, 1>>,
}

impl<B: Backend> Linear<B> {
    pub(super) fn of(l: &burn::nn::Linear<B>) -> Self {
        Linear {
            w: l.weight.val(),
            b: l.bias.as_ref().map(|b| b.val()),
        }
    }

    /// `x W + b` as a plain Burn matmul (the model's own linears go through the fused kernels,
    /// which train; here the shapes are one row per piece).
    pub(super) fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let y = x.matmul(self.w.clone());
        match &self.b {
            Some(b) => y + b.clone().unsqueeze::<2>(),
            None => y,
        }
    }
}

/// A layer norm's gain and bias.
pub(super) struct Norm<B: Backend> {
    gamma: Tensor<B, 1>,
    beta: Option<Tensor<B, 1>>,
}

impl<B: Backend> Norm<B> {
    pub(super) fn of(n: &burn::nn::LayerNorm<B>) -> Self {
        Norm {
            gamma: n.gamma.val(),
            beta: n.beta.as_ref().map(|b| b.val()),
        }
    }

    /// Burn's LayerNorm kernel (epsilon 1e-5, the model's) over the last dimension.
    pub(super) fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        Tensor::from_primitive(TensorPrimitive::Float(B::layer_norm(
            x.into_primitive().tensor(),
            self.gamma.clone().into_primitive().tensor(),
            self.beta.clone().map(|b| b.into_primitive().tensor()),
            1e-5,
        )))
    }
}

pub(super) fn floats(data: TensorData) -> Result<Vec<f32>> {
    data.convert::<f32>()
        .into_vec::<f32>()
        .map_err(|e| anyhow!("tensor data: {e:?}"))
}

/// Reads every parameter in module order: a model whose weights are still lazy (a fresh,
/// untrained one) then draws them in that order, whatever the decoder reads first.
pub(super) struct ReadAll;

impl<B: Backend> ModuleVisitor<B> for ReadAll {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        param.val();
    }
}
