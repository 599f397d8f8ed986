//! `pipeline bench train` measures the configured backend; the full figures come from
//! `make bench` (beside PyTorch).

use cadenza::bench::train::bench_on_configured_backend;
use cadenza::model::TransformerXlConfig;
use cadenza::remi::Vocab;
use cadenza::train::TrainConfig;

#[test]
fn the_train_benchmark_runs_real_steps() {
    // The benchmark seeds Burn's generator and draws its model's weights.
    let _seeded = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let model = TransformerXlConfig::tiny(Vocab::SIZE);
    let train = TrainConfig {
        batch_size: 2,
        ..TrainConfig::default()
    };
    let r = bench_on_configured_backend(&train, &model, 1, 3).unwrap();
    assert_eq!((r.steps, r.batch_size, r.tgt_len), (3, 2, model.tgt_len));
    assert!(r.tokens_per_sec > 0.0);
    // Uniform random tokens: the loss starts near ln(vocab).
    let uniform = (Vocab::SIZE as f64).ln();
    assert!((r.last_loss - uniform).abs() < 0.5, "loss {}", r.last_loss);
}

#[cfg(not(feature = "cuda"))]
#[test]
fn benchmarking_cuda_without_the_feature_is_a_clear_error() {
    let train = TrainConfig {
        backend: "cuda".into(),
        precision: "bf16".into(),
        ..TrainConfig::default()
    };
    let err = bench_on_configured_backend(&train, &TransformerXlConfig::tiny(Vocab::SIZE), 0, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--features cuda"), "{err}");
}
