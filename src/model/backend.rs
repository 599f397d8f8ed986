//! The Burn backend named by a `backend` / `precision` pair (the `[train]` keys), picked at run
//! time: Burn's flex backend in f32 on the CPU, or CUDA in f32 / bf16 / f16 in a binary built
//! with `--features cuda`.

use anyhow::{Result, bail};
use burn::tensor::backend::AutodiffBackend;

use super::CpuTrainBackend;

/// Work that runs on whichever autodiff backend [`on_backend`] picks (Rust closures cannot be
/// generic over the backend, so the work is a type with a generic method).
pub trait BackendWork {
    type Output;
    fn run<B: AutodiffBackend>(self, device: &B::Device) -> Result<Self::Output>;
}

/// Whether this binary can run on CUDA.
pub const CUDA_COMPILED: bool = cfg!(feature = "cuda");

/// Runs `work` on the named backend and precision.
pub fn on_backend<W: BackendWork>(backend: &str, precision: &str, work: W) -> Result<W::Output> {
    match (backend, precision) {
        ("cpu", "f32") => work.run::<CpuTrainBackend>(&Default::default()),
        ("cpu", p) => {
            bail!("`train.precision` = {p:?} needs `train.backend` = \"cuda\"; on CPU use \"f32\"")
        }
        ("cuda", p) => on_cuda(work, p),
        (b, _) => bail!("`train.backend` must be \"cpu\" or \"cuda\", got {b:?}"),
    }
}

#[cfg(feature = "cuda")]
fn on_cuda<W: BackendWork>(work: W, precision: &str) -> Result<W::Output> {
    use burn::backend::Autodiff;
    use burn::tensor::{bf16, f16};

    use super::CudaBackend;
    let device = burn::backend::cuda::CudaDevice::default();
    match precision {
        "f32" => work.run::<Autodiff<CudaBackend<f32>>>(&device),
        "bf16" => work.run::<Autodiff<CudaBackend<bf16>>>(&device),
        "f16" => work.run::<Autodiff<CudaBackend<f16>>>(&device),
        p => bail!("`train.precision` must be \"f32\", \"bf16\" or \"f16\", got {p:?}"),
    }
}

#[cfg(not(feature = "cuda"))]
fn on_cuda<W: BackendWork>(_work: W, _precision: &str) -> Result<W::Output> {
    bail!(
        "`train.backend` = \"cuda\" but this binary was built without CUDA support; rebuild with \
         `cargo build --release --features cuda` (or set train.backend = \"cpu\")"
    )
}
