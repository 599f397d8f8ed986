//! The Burn backend named by the `backend` / `precision` / `checkpointing` keys of `[train]`,
//! picked at run time: Burn's flex backend in f32 on the CPU, or CUDA in f32 / bf16 / f16 in a
//! binary built with `--features cuda`; each with Burn's autodiff either keeping every
//! activation (`none`) or recomputing some in the backward pass to save memory (`balanced`,
//! Burn's gradient checkpointing).

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

/// The `train.checkpointing` values.
pub const CHECKPOINTING: [&str; 2] = ["none", "balanced"];

/// Runs `work` on the named backend, precision and checkpointing strategy.
pub fn on_backend<W: BackendWork>(
    backend: &str,
    precision: &str,
    checkpointing: &str,
    work: W,
) -> Result<W::Output> {
    match (backend, precision) {
        ("cpu", "f32") => {
            with_checkpointing::<CpuBackend, W>(work, &Default::default(), checkpointing)
        }
        ("cpu", p) => {
            bail!("`train.precision` = {p:?} needs `train.backend` = \"cuda\"; on CPU use \"f32\"")
        }
        ("cuda", p) => on_cuda(work, p, checkpointing),
        (b, _) => bail!("`train.backend` must be \"cpu\" or \"cuda\", got {b:?}"),
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
fn on_cuda<W: BackendWork>(work: W, precision: &str, checkpointing: &str) -> Result<W::Output> {
    use burn::tensor::{bf16, f16};

    use super::CudaBackend;
    let device = burn::backend::cuda::CudaDevice::default();
    match precision {
        "f32" => with_checkpointing::<CudaBackend<f32>, W>(work, &device, checkpointing),
        "bf16" => with_checkpointing::<CudaBackend<bf16>, W>(work, &device, checkpointing),
        "f16" => with_checkpointing::<CudaBackend<f16>, W>(work, &device, checkpointing),
        p => bail!("`train.precision` must be \"f32\", \"bf16\" or \"f16\", got {p:?}"),
    }
}

#[cfg(not(feature = "cuda"))]
fn on_cuda<W: BackendWork>(_work: W, _precision: &str, _checkpointing: &str) -> Result<W::Output> {
    bail!(
        "`train.backend` = \"cuda\" but this binary was built without CUDA support; rebuild with \
         `cargo build --release --features cuda` (or set train.backend = \"cpu\")"
    )
}
