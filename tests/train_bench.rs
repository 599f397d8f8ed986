//! Training throughput benchmark (ignored by default; run by scripts/bench_train.sh and
//! scripts/gpu-smoke.sh):
//!
//!     BENCH_PRESET=small BENCH_STEPS=10 cargo test --release --test train_bench -- --ignored --nocapture
//!
//! Env: BENCH_PRESET (small|course|tiny), BENCH_BATCH, BENCH_WARMUP, BENCH_STEPS, BENCH_VOCAB,
//! BENCH_BACKEND (cpu|cuda), BENCH_PRECISION (f32|bf16|f16, cuda only). Prints one JSON line.

use cadenza::model::ModelConfig;
use cadenza::train::bench::{BenchResult, throughput};

fn env<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore]
fn train_throughput() {
    let preset: String = env("BENCH_PRESET", "small".to_string());
    let model = ModelConfig {
        preset: preset.clone(),
        ..ModelConfig::default()
    }
    .resolve(env("BENCH_VOCAB", 400));
    let batch = env("BENCH_BATCH", 8usize);
    let (warmup, steps) = (env("BENCH_WARMUP", 2usize), env("BENCH_STEPS", 10usize));
    let backend: String = env("BENCH_BACKEND", "cpu".to_string());
    let precision: String = env("BENCH_PRECISION", "f32".to_string());
    let r: BenchResult = match backend.as_str() {
        "cpu" => throughput::<cadenza::model::CpuTrainBackend>(
            &model,
            batch,
            warmup,
            steps,
            &Default::default(),
        ),
        "cuda" => cuda(&model, batch, warmup, steps, &precision),
        other => panic!("BENCH_BACKEND must be cpu or cuda, got {other}"),
    };
    assert!(r.tokens_per_sec > 0.0 && r.last_loss.is_finite());
    let mut line = serde_json::to_value(&r).unwrap();
    line["impl"] = "burn".into();
    line["backend"] = backend.into();
    line["precision"] = precision.into();
    line["preset"] = preset.into();
    println!("{line}");
}

/// bf16 only: each CUDA precision instantiated here adds minutes to the build on 2 cores, and
/// the GPU smoke test needs just this one (`pipeline run train` supports all three).
#[cfg(feature = "cuda")]
fn cuda(
    model: &cadenza::model::TransformerXlConfig,
    batch: usize,
    warmup: usize,
    steps: usize,
    precision: &str,
) -> BenchResult {
    use burn::backend::Autodiff;
    use burn::tensor::bf16;
    use cadenza::model::CudaBackend;
    let d = burn::backend::cuda::CudaDevice::default();
    match precision {
        "bf16" => throughput::<Autodiff<CudaBackend<bf16>>>(model, batch, warmup, steps, &d),
        p => panic!("the benchmark runs CUDA in bf16 only, got BENCH_PRECISION={p}"),
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda(
    _: &cadenza::model::TransformerXlConfig,
    _: usize,
    _: usize,
    _: usize,
    _: &str,
) -> BenchResult {
    panic!("BENCH_BACKEND=cuda needs a build with --features cuda")
}
