//! The Burn backend named by the `backend` / `checkpointing` keys of `[train]`, picked at run
//! time: Burn's flex backend on the CPU, CUDA in a binary built with `--features cuda`, or wgpu
//! (Vulkan, Metal, DX12) in one built with `--features wgpu`; each
//! with Burn's autodiff either keeping every activation (`none`) or recomputing some in the
//! backward pass to save memory (`balanced`, Burn's gradient checkpointing). The backend's
//! default float type is f32 (the master weights); mixed precision casts inside the model
//! (`Pass::compute`).

use anyhow::{Result, bail};
use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::{BalancedCheckpointing, CheckpointStrategy};
use burn::tensor::backend::{AutodiffBackend, Backend};

use super::CpuBackend;

/// Work that runs on whichever autodiff backend [`on_backend`] picks (Rust closures cannot be
/// generic over the backend, so the work is a type with a generic method).
pub trait BackendWork {
    type Output;
    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Result<Self::Output>;
}

/// Whether this binary can run on CUDA.
pub const CUDA_COMPILED: bool = cfg!(feature = "cuda");
/// Whether this binary can run on wgpu.
pub const WGPU_COMPILED: bool = cfg!(feature = "wgpu");
/// The `train.backend` values.
pub const BACKENDS: [&str; 3] = ["cpu", "cuda", "wgpu"];

/// The `train.checkpointing` values.
pub const CHECKPOINTING: [&str; 2] = ["none", "balanced"];

/// Runs `work` on the named backend and checkpointing strategy.
pub fn on_backend<W: BackendWork>(
    backend: &str,
    checkpointing: &str,
    work: W,
) -> Result<W::Output> {
    match backend {
        "cpu" => with_checkpointing::<CpuBackend, W>(work, &Default::default(), checkpointing),
        "cuda" => on_cuda(work, checkpointing),
        "wgpu" => on_wgpu(work, checkpointing),
        b => bail!("`train.backend` must be \"cpu\", \"cuda\" or \"wgpu\", got {b:?}"),
    }
}

/// `work` on Burn's autodiff over `B` with the named strategy. On the CPU, `balanced` is another
/// autodiff type than [`super::CpuTrainBackend`], so it runs the Burn compositions instead of
/// the fused kernels (slower; checkpointing is for GPU memory).
fn with_checkpointing<B: Backend, W: BackendWork>(
    work: W,
    device: &B::Device,
    checkpointing: &str,
) -> Result<W::Output> {
    fn run<B: Backend, C: CheckpointStrategy, W: BackendWork>(
        work: W,
        device: &B::Device,
    ) -> Result<W::Output> {
        work.run::<Autodiff<B, C>>(device)
    }
    match checkpointing {
        "none" => work.run::<Autodiff<B>>(device),
        "balanced" => run::<B, BalancedCheckpointing, W>(work, device),
        c => bail!("`train.checkpointing` must be \"none\" or \"balanced\", got {c:?}"),
    }
}

#[cfg(feature = "cuda")]
fn on_cuda<W: BackendWork>(work: W, checkpointing: &str) -> Result<W::Output> {
    let device = burn::backend::cuda::CudaDevice::default();
    with_checkpointing::<super::CudaBackend, W>(work, &device, checkpointing)
}

#[cfg(not(feature = "cuda"))]
fn on_cuda<W: BackendWork>(_work: W, _checkpointing: &str) -> Result<W::Output> {
    bail!(
        "`train.backend` = \"cuda\" but this binary was built without CUDA support; rebuild with \
         `cargo build --release --features cuda` (or set train.backend = \"cpu\")"
    )
}

#[cfg(feature = "wgpu")]
fn on_wgpu<W: BackendWork>(work: W, checkpointing: &str) -> Result<W::Output> {
    let device = burn::backend::wgpu::WgpuDevice::default();
    with_checkpointing::<super::WgpuBackend, W>(work, &device, checkpointing)
}

#[cfg(not(feature = "wgpu"))]
fn on_wgpu<W: BackendWork>(_work: W, _checkpointing: &str) -> Result<W::Output> {
    bail!(
        "`train.backend` = \"wgpu\" but this binary was built without wgpu support; rebuild with \
         `cargo build --release --features wgpu` (or set train.backend = \"cpu\")"
    )
}
