//! How a forward pass runs besides its tokens and memory: each query's [`Lookback`] (attention
//! that stops at a song's start) and the [`Compute`] type (mixed precision).

use burn::tensor::backend::Backend;
use burn::tensor::{DType, FloatDType, Tensor};
use std::sync::Arc;

use super::fused::{Inputs, Kernels, kernels};

/// The float type of the forward and backward passes; parameters and optimizer state stay f32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compute {
    #[default]
    F32,
    Bf16,
    F16,
}

impl Compute {
    pub fn dtype(self) -> FloatDType {
        match self {
            Compute::F32 => FloatDType::F32,
            Compute::Bf16 => FloatDType::BF16,
            Compute::F16 => FloatDType::F16,
        }
    }

    /// The float type of the activations on backend `B`. bf16-mixed on the CPU keeps them f32
    /// and rounds only the inputs of the matrix products (see [`Compute::products`]), as
    /// PyTorch's CPU autocast runs bf16 matmuls between f32 layer norms and residuals. On a GPU
    /// backend the activations themselves are half precision, which halves their memory.
    pub fn activations<B: Backend>(self) -> FloatDType {
        match (self, kernels::<B>()) {
            (Compute::Bf16, Kernels::Cpu | Kernels::CpuAutodiff) => FloatDType::F32,
            (c, _) => c.dtype(),
        }
    }

    /// What the model's weight products multiply on backend `B` (the projections and the
    /// feed-forward; the attention's products and the logits' stay f32).
    pub fn products<B: Backend>(self) -> Inputs {
        match (self, kernels::<B>()) {
            (Compute::Bf16, Kernels::Cpu | Kernels::CpuAutodiff) => Inputs::Bf16,
            _ => Inputs::F32,
        }
    }
}

/// `x` in float type `dt` (no op, and no autodiff node, when it already is).
pub fn to_dtype<B: Backend, const D: usize>(x: Tensor<B, D>, dt: FloatDType) -> Tensor<B, D> {
    if x.dtype() == DType::from(dt) {
        x
    } else {
        x.cast(dt)
    }
}

/// How far back each query may attend: `keys[b * T + i]` is the most keys before its own
/// (memory included) that query i of row b sees; earlier ones are masked like the future.
/// Training with the memory emptied at song starts passes each token's position in its song,
/// so attention stays inside one song. Without it, each query sees the whole window.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookback(pub Arc<[u32]>);

/// How a forward pass runs, besides its tokens and memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pass<'a> {
    /// Each query's lookback; None: the whole window.
    pub lookback: Option<&'a Lookback>,
    /// The float type of the pass (mixed precision); f32 by default.
    pub compute: Compute,
}
