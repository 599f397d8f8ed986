//! Picks the Burn backend named by `train.backend` / `train.precision`.

use anyhow::{Result, bail};

use super::TrainConfig;
use super::bench::{BenchResult, throughput};
use super::trainer::{TrainReport, TrainSpec, train};
use crate::model::{CpuTrainBackend, TransformerXlConfig};

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
    train_cuda_missing()
}

#[cfg(not(feature = "cuda"))]
fn train_cuda_missing<T>() -> Result<T> {
    bail!(
        "`train.backend` = \"cuda\" but this binary was built without CUDA support; rebuild with \
         `cargo build --release --features cuda` (or set train.backend = \"cpu\")"
    )
}

/// Training throughput ([`throughput`]) of `model` at `train.batch_size` on the configured
/// backend and precision.
pub fn bench_on_configured_backend(
    train: &TrainConfig,
    model: &TransformerXlConfig,
    warmup: usize,
    steps: usize,
) -> Result<BenchResult> {
    let batch = train.batch_size;
    match (train.backend.as_str(), train.precision.as_str()) {
        ("cpu", "f32") => Ok(throughput::<CpuTrainBackend>(
            model,
            batch,
            warmup,
            steps,
            &Default::default(),
        )),
        ("cuda", p) => bench_cuda(model, batch, warmup, steps, p),
        (b, p) => bail!("cannot benchmark train.backend = {b:?} with train.precision = {p:?}"),
    }
}

#[cfg(feature = "cuda")]
fn bench_cuda(
    model: &TransformerXlConfig,
    batch: usize,
    warmup: usize,
    steps: usize,
    precision: &str,
) -> Result<BenchResult> {
    use burn::backend::Autodiff;
    use burn::tensor::{bf16, f16};

    use crate::model::CudaBackend;
    let d = burn::backend::cuda::CudaDevice::default();
    Ok(match precision {
        "f32" => throughput::<Autodiff<CudaBackend<f32>>>(model, batch, warmup, steps, &d),
        "bf16" => throughput::<Autodiff<CudaBackend<bf16>>>(model, batch, warmup, steps, &d),
        "f16" => throughput::<Autodiff<CudaBackend<f16>>>(model, batch, warmup, steps, &d),
        p => bail!("`train.precision` must be \"f32\", \"bf16\" or \"f16\", got {p:?}"),
    })
}

#[cfg(not(feature = "cuda"))]
fn bench_cuda(
    _: &TransformerXlConfig,
    _: usize,
    _: usize,
    _: usize,
    _: &str,
) -> Result<BenchResult> {
    train_cuda_missing()
}

/// Whether this binary can train on CUDA.
pub const CUDA_COMPILED: bool = cfg!(feature = "cuda");
