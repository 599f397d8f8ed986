//! Picks the Burn backend named by `train.backend` / `train.precision`.

use anyhow::{Result, bail};

use super::trainer::{TrainReport, TrainSpec, train};
use crate::model::CpuTrainBackend;

/// Trains on the configured backend. CPU: Burn's flex backend in f32. CUDA (binary built with
/// `--features cuda`): f32, bf16 or f16 for the whole model.
pub fn train_on_configured_backend(spec: &TrainSpec) -> Result<TrainReport> {
    match (spec.train.backend.as_str(), spec.train.precision.as_str()) {
        ("cpu", "f32") => train::<CpuTrainBackend>(spec, &Default::default()),
        ("cpu", p) => {
            bail!("`train.precision` = {p:?} needs `train.backend` = \"cuda\"; on CPU use \"f32\"")
        }
        ("cuda", p) => train_cuda(spec, p),
        (b, _) => bail!("`train.backend` must be \"cpu\" or \"cuda\", got {b:?}"),
    }
}

#[cfg(feature = "cuda")]
fn train_cuda(spec: &TrainSpec, precision: &str) -> Result<TrainReport> {
    use burn::backend::Autodiff;
    use burn::tensor::{bf16, f16};

    use crate::model::CudaBackend;
    let device = burn::backend::cuda::CudaDevice::default();
    match precision {
        "f32" => train::<Autodiff<CudaBackend<f32>>>(spec, &device),
        "bf16" => train::<Autodiff<CudaBackend<bf16>>>(spec, &device),
        "f16" => train::<Autodiff<CudaBackend<f16>>>(spec, &device),
        p => bail!("`train.precision` must be \"f32\", \"bf16\" or \"f16\", got {p:?}"),
    }
}

#[cfg(not(feature = "cuda"))]
fn train_cuda(_spec: &TrainSpec, _precision: &str) -> Result<TrainReport> {
    bail!(
        "`train.backend` = \"cuda\" but this binary was built without CUDA support; rebuild with \
         `cargo build --release --features cuda` (or set train.backend = \"cpu\")"
    )
}

/// Whether this binary can train on CUDA.
pub const CUDA_COMPILED: bool = cfg!(feature = "cuda");
