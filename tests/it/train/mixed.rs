//! Mixed precision on the CPU: f32 master weights; bf16-mixed through the AVX-512 BF16 products
//! (or, on a CPU without them, the f32 path bit for bit); f16-mixed as f16 passes (Burn's flex
//! backend has f16 tensors) with dynamic loss scaling.

use cadenza::model::CpuTrainBackend;
use cadenza::model::fused::{bf16_kernel, f32_fallback};
use cadenza::train::TrainReport;
use cadenza::train::trainer::{TrainSpec, train};
use std::path::Path;

use super::events::read_scalars;
use super::trainer::{params, songs, spec};

fn run(s: &TrainSpec) -> TrainReport {
    train::<CpuTrainBackend>(s, &Default::default()).unwrap()
}

/// The logged train/loss curve: (step, loss).
fn curve(dir: &Path, tag: &str) -> Vec<(i64, f32)> {
    read_scalars(&dir.join("tensorboard"))
        .into_iter()
        .filter(|s| s.0 == tag)
        .map(|s| (s.1, s.2))
        .collect()
}

/// Songs with something to learn: each repeats one of three fixed motifs of 5 tokens (3..30)
/// between Bos (1) and Eos (2).
fn motif_songs(n: usize, salt: u64) -> Vec<Vec<u16>> {
    let mut fixed = cadenza::rng::Rng::new(0);
    let motifs: Vec<Vec<u16>> = (0..3)
        .map(|_| (0..5).map(|_| 3 + fixed.below(27) as u16).collect())
        .collect();
    let mut rng = cadenza::rng::Rng::new(salt);
    (0..n)
        .map(|_| {
            let motif = &motifs[rng.below(3) as usize];
            let mut s = vec![1u16];
            s.extend(motif.iter().cycle().take(40));
            s.push(2);
            s
        })
        .collect()
}

#[test]
fn mixed_precision_follows_the_f32_loss_curve() {
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (tr, va) = (motif_songs(24, 3), motif_songs(4, 4));
    let tmp = tempfile::tempdir().unwrap();
    let steps = 300;
    let mut reports = Vec::new();
    let spec_for = |name: &str, precision: &str| {
        let mut s = spec(&tr, &va, &tmp.path().join(name), steps);
        s.train.precision = precision.into();
        s.train.eval_every = 100;
        s.train.checkpoint_every = steps;
        s.train.log_every = 10;
        s
    };
    for precision in ["f32", "bf16-mixed", "f16-mixed"] {
        let report = run(&spec_for(precision, precision));
        reports.push((
            precision,
            report,
            curve(&tmp.path().join(precision), "train/loss"),
        ));
    }
    // bf16-mixed as on a CPU without AVX-512 BF16: the f32 run, bit for bit.
    let fallback = f32_fallback(|| run(&spec_for("fallback", "bf16-mixed")));
    assert_eq!(fallback.valid_loss, reports[0].1.valid_loss);
    assert_eq!(
        curve(&tmp.path().join("fallback"), "train/loss"),
        reports[0].2
    );
    let (_, f32_run, f32_curve) = &reports[0];
    let f32_valid = f32_run.valid_loss.unwrap();
    // It learns: the loss falls well below the 3.3 nats of a uniform guess among 27 tokens.
    assert!(f32_valid < 2.0, "f32 valid loss {f32_valid}");
    for (precision, report, curve) in &reports[1..] {
        let valid = report.valid_loss.unwrap();
        let gap = f32_curve
            .iter()
            .zip(curve)
            .map(|(a, b)| {
                assert_eq!(a.0, b.0);
                (a.1 - b.1).abs()
            })
            .fold(0f32, f32::max);
        eprintln!(
            "{precision}: final valid loss {valid:.4} (f32 {f32_valid:.4}), largest train-loss gap {gap:.4}, loss scale {:?}",
            report.loss_scale
        );
        assert_eq!(curve.len(), f32_curve.len());
        assert!(
            (valid - f32_valid).abs() < 0.05,
            "{precision}: {valid} vs {f32_valid}"
        );
        assert!(gap < 0.1, "{precision}: largest gap {gap}");
        // The passes did run in the lower precision: not the f32 numbers (bf16-mixed runs the
        // f32 products, and gives its numbers, where the CPU lacks AVX-512 BF16).
        if *precision == "bf16-mixed" && !bf16_kernel() {
            assert_eq!(valid, f32_valid, "{precision} without the kernel");
        } else {
            assert_ne!(valid, f32_valid, "{precision}");
        }
    }
    assert!(reports[1].1.loss_scale.is_none());
    let scale = reports[2].1.loss_scale.as_ref().unwrap();
    assert!(scale.skipped < 10, "f16 skipped {} steps", scale.skipped);
}

#[test]
fn an_overflow_skips_one_step_halves_the_scale_and_resumes_exactly() {
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (tr, va) = (songs(6, 1), songs(2, 2));
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| tmp.path().join(name);
    let f16 = |name: &str, overflow: Option<usize>, session: Option<usize>| {
        let mut s = spec(&tr, &va, &dir(name), 10);
        s.train.precision = "f16-mixed".into();
        s.train.loss_scale = 1024.0;
        s.inject_overflow = overflow;
        s.session_steps = session;
        run(&s)
    };
    let straight = f16("straight", Some(4), None);
    let scale = straight.loss_scale.clone().unwrap();
    assert_eq!((scale.scale, scale.skipped), (512.0, 1));
    // Logged every 2 steps: the update at 0-based step 4 is counted by step 6.
    let skipped = curve(&dir("straight"), "train/skipped_steps");
    assert_eq!(
        skipped.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![0.0, 0.0, 1.0, 1.0, 1.0]
    );
    let logged_scale = curve(&dir("straight"), "train/loss_scale");
    assert_eq!(logged_scale[1].1, 1024.0);
    assert_eq!(logged_scale[2].1, 512.0);
    // Without the overflow nothing is skipped, and the skipped update changes the model.
    let clean = f16("clean", None, None);
    assert_eq!(clean.loss_scale.unwrap().skipped, 0);
    assert_ne!(params(&dir("clean")), params(&dir("straight")));

    // Stopped after the overflow and resumed: the scale and the model continue exactly.
    f16("resumed", Some(4), Some(5));
    let second = f16("resumed", Some(4), None);
    assert_eq!(second.resumed_from, Some(5));
    assert_eq!(second.loss_scale, straight.loss_scale);
    assert_eq!(second.valid_loss, straight.valid_loss);
    assert_eq!(params(&dir("resumed")), params(&dir("straight")));
}
