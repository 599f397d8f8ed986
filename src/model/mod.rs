//! Transformer-XL (Dai et al. 2019) in Burn: the model, its `[model]` config section, its
//! checkpoint format, its incremental decoder, the backends it runs on and the fused CPU
//! kernels it is made of.
//!
//! - [`transformer_xl`]: the model, to be read beside the paper; [`pass`]: how a pass runs
//!   (lookback, mixed-precision compute type).
//! - [`checkpoint`]: a checkpoint folder (weights + model config): save, load, resolve,
//!   fingerprint.
//! - [`decoder`]: next-token decoding, one position at a time, with a key/value cache.
//! - [`backend`]: the Burn backend the `backend` / `checkpointing` keys name.
//! - [`fused`], [`dropout`]: CPU kernels for the steps where Burn's op chains are slow.

#[macro_use]
mod simd;
pub mod backend;
pub mod checkpoint;
mod config;
pub mod decoder;
pub mod dropout;
pub mod export;
pub mod fused;
mod linear;
mod pass;
mod position;
mod transformer_xl;

pub use checkpoint::Checkpoint;
pub use config::ModelConfig;
pub use decoder::{KvDecoder, MemoryDecoder, NaiveDecoder, NextToken, Window};
pub use pass::{Compute, Lookback, Pass, to_dtype};
pub use position::{rel_shift, sinusoids};
pub use transformer_xl::{Memory, TransformerXl, TransformerXlConfig, XlLayer};

/// Burn's maintained CPU backend (flex), f32.
pub type CpuBackend = burn::backend::Flex;
/// The CPU backend with autodiff, for training.
pub type CpuTrainBackend = burn::backend::Autodiff<CpuBackend>;
/// The CUDA backend (only with `--features cuda`); f32 by default, mixed precision casts inside
/// the model.
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda<f32, i32>;
/// Burn's wgpu backend (only with `--features wgpu`): the same CubeCL kernels as CUDA, compiled
/// for Vulkan, Metal or DX12 (on a Linux machine without a GPU, Mesa's lavapipe).
#[cfg(feature = "wgpu")]
pub type WgpuBackend = burn::backend::Wgpu<f32, i32>;
