//! Training loop: exact resume, schedule boundaries, global-norm clipping, TensorBoard scalars.

use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor, TensorData};
use cadenza::model::Checkpoint;
use cadenza::model::{CpuBackend, CpuTrainBackend, TransformerXl, TransformerXlConfig};
use cadenza::train::TrainConfig;
use cadenza::train::clip::{clip_grad_norm, grad_norm};
use cadenza::train::trainer::{TrainSpec, cross_entropy, train};
use std::path::{Path, PathBuf};

use super::events::read_scalars;

/// Burn's CPU generator is global to the process: tests that seed it run one at a time.

const VOCAB: usize = 30;

pub(super) fn songs(n: usize, salt: u64) -> Vec<Vec<u16>> {
    let mut rng = cadenza::rng::Rng::new(salt);
    (0..n)
        .map(|_| {
            let len = 20 + rng.below(30) as usize;
            let mut s = vec![1u16];
            s.extend((0..len).map(|_| 3 + rng.below(VOCAB as u64 - 3) as u16));
            s.push(2);
            s
        })
        .collect()
}

fn shift(tokens: &[u16], k: i32) -> Option<Vec<u16>> {
    tokens
        .iter()
        .map(|&t| {
            if t < 3 {
                Some(t)
            } else {
                u16::try_from(t as i32 + k)
                    .ok()
                    .filter(|&v| v >= 3 && (v as usize) < VOCAB)
            }
        })
        .collect()
}

fn train_config(max_steps: usize) -> TrainConfig {
    TrainConfig {
        batch_size: 2,
        lr: 3e-3,
        min_lr: 1e-4,
        warmup_steps: 3,
        max_steps,
        clip_norm: 0.5,
        transpose: 2,
        eval_every: 4,
        valid_tokens: 200,
        log_every: 2,
        checkpoint_every: 3,
        keep_checkpoints: 2,
        ..TrainConfig::default()
    }
}

pub(super) fn spec<'a>(
    train_songs: &'a [Vec<u16>],
    valid_songs: &'a [Vec<u16>],
    out: &Path,
    max_steps: usize,
) -> TrainSpec<'a> {
    TrainSpec {
        model: TransformerXlConfig::tiny(VOCAB)
            .with_tgt_len(8)
            .with_mem_len(8)
            .with_dropout(0.1),
        train: train_config(max_steps),
        seed: 42,
        resume_key: "test".into(),
        train_songs,
        valid_songs,
        transposer: shift,
        tempo_shifter: |t, _| t.to_vec(),
        out_dir: out.to_path_buf(),
        resume_dirs: vec![],
        force: false,
        session_steps: None,
        inject_overflow: None,
        progress: false,
    }
}

pub(super) fn params(dir: &Path) -> Vec<f32> {
    let model = Checkpoint::resolve(dir)
        .unwrap()
        .load_model::<CpuBackend>(&Default::default())
        .unwrap();
    crate::support::flatten(&model)
}

#[test]
fn resumed_run_matches_straight_run_and_logs_scalars() {
    // train() seeds Burn's generator and draws the weights: no other test may draw meanwhile.
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (tr, va) = (songs(6, 1), songs(2, 2));
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("straight"), tmp.path().join("resumed"));

    let straight = train::<CpuTrainBackend>(&spec(&tr, &va, &a, 10), &Default::default()).unwrap();
    assert!(straight.finished && straight.step == 10 && straight.resumed_from.is_none());

    let mut half = spec(&tr, &va, &b, 10);
    half.session_steps = Some(5);
    let first = train::<CpuTrainBackend>(&half, &Default::default()).unwrap();
    assert!(!first.finished && first.step == 5);
    let second = train::<CpuTrainBackend>(&spec(&tr, &va, &b, 10), &Default::default()).unwrap();
    assert_eq!(second.resumed_from, Some(5));
    assert!(second.finished && second.step == 10);

    assert_eq!(straight.train_loss, second.train_loss);
    assert_eq!(straight.valid_loss, second.valid_loss);
    let (pa, pb) = (params(&a), params(&b));
    assert_eq!(pa.len(), pb.len());
    assert!(
        pa.iter().zip(&pb).all(|(x, y)| x == y),
        "parameters differ after resume"
    );

    // Each session wrote its own event file; both hold scalars.
    let b_scalars = read_scalars(&b.join("tensorboard"));
    let b_steps: Vec<i64> = b_scalars
        .iter()
        .filter(|s| s.0 == "train/loss")
        .map(|s| s.1)
        .collect();
    assert_eq!(b_steps, vec![2, 4, 6, 8, 10]);
    assert_eq!(std::fs::read_dir(b.join("tensorboard")).unwrap().count(), 2);

    // A finished run is not trained again.
    let again = train::<CpuTrainBackend>(&spec(&tr, &va, &b, 10), &Default::default()).unwrap();
    assert_eq!((again.step, again.resumed_from), (10, Some(10)));
    // Old checkpoints are pruned to keep_checkpoints; a different resume key starts over.
    let kept: Vec<PathBuf> = std::fs::read_dir(a.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let mut other = spec(&tr, &va, &b, 2);
    other.resume_key = "changed".into();
    let fresh = train::<CpuTrainBackend>(&other, &Default::default()).unwrap();
    assert_eq!((fresh.step, fresh.resumed_from), (2, None));

    // TensorBoard: decode the event file of the straight run.
    let scalars = read_scalars(&a.join("tensorboard"));
    let steps = |tag: &str| {
        scalars
            .iter()
            .filter(|s| s.0 == tag)
            .map(|s| s.1)
            .collect::<Vec<_>>()
    };
    assert_eq!(steps("train/loss"), vec![2, 4, 6, 8, 10]);
    for tag in ["train/lr", "train/grad_norm", "train/tokens_per_sec"] {
        assert_eq!(steps(tag).len(), 5, "{tag}");
    }
    assert_eq!(steps("valid/loss"), vec![4, 8, 10]);
    let last_valid = scalars
        .iter()
        .rev()
        .find(|s| s.0 == "valid/loss")
        .unwrap()
        .2;
    assert_eq!(last_valid, straight.valid_loss.unwrap() as f32);
    let lr_at_2 = scalars
        .iter()
        .find(|s| s.0 == "train/lr" && s.1 == 2)
        .unwrap()
        .2;
    // The logged lr is the one used by update #2 (0-based step 1): warmup 2/3 of the peak.
    assert!((lr_at_2 - 2e-3).abs() < 1e-9);
    assert!(scalars.iter().all(|s| s.2.is_finite()));
}

#[test]
fn schedule_hits_peak_after_warmup_and_min_at_the_end() {
    let s = train_config(100).schedule(100);
    assert!(
        (s.at(2) - 3e-3).abs() < 1e-15,
        "last warmup step is at peak"
    );
    assert!((s.at(3) - 3e-3).abs() < 1e-15, "decay starts at peak");
    assert!(s.at(1) < s.at(2));
    assert!((s.at(100) - 1e-4).abs() < 1e-15);
    assert!(s.at(99) > 1e-4 && s.at(99) < 1e-4 + 1e-6);
}

#[test]
fn clipping_caps_the_global_gradient_norm() {
    let device = Default::default();
    let model: TransformerXl<CpuTrainBackend> =
        crate::support::model(&TransformerXlConfig::tiny(VOCAB), 12);
    let x = Tensor::<CpuTrainBackend, 2, Int>::from_data(
        TensorData::new((0..16).collect::<Vec<i32>>(), [2, 8]),
        &device,
    );
    let y = Tensor::<CpuTrainBackend, 2, Int>::from_data(
        TensorData::new((1..17).collect::<Vec<i32>>(), [2, 8]),
        &device,
    );
    let grads = || {
        GradientsParams::from_grads(
            cross_entropy(model.forward(x.clone(), None).0, y.clone()).backward(),
            &model,
        )
    };

    let mut g = grads();
    let before = grad_norm::<CpuTrainBackend, _>(&model, &g);
    assert!(before > 0.1, "norm {before}");
    let reported = clip_grad_norm::<CpuTrainBackend, _>(&model, &mut g, 0.05);
    assert_eq!(reported, before);
    let after = grad_norm::<CpuTrainBackend, _>(&model, &g);
    assert!((after - 0.05).abs() < 1e-4, "clipped norm {after}");

    // Under the cap nothing changes (compared with these gradients' own norm: a second backward
    // may round differently in the threaded kernels).
    let mut g = grads();
    let unclipped = grad_norm::<CpuTrainBackend, _>(&model, &g);
    clip_grad_norm::<CpuTrainBackend, _>(&model, &mut g, before * 2.0);
    assert_eq!(grad_norm::<CpuTrainBackend, _>(&model, &g), unclipped);
}

/// REMI songs of random notes.
fn remi_songs(n: usize, salt: u64) -> Vec<Vec<u16>> {
    let mut rng = cadenza::rng::Rng::new(salt);
    (0..n)
        .map(|_| {
            let song = cadenza::midi::Song {
                notes: crate::features::brute::random_notes(&mut rng),
                ..Default::default()
            };
            cadenza::remi::encode(&song).unwrap().tokens
        })
        .collect()
}

#[test]
fn the_sample_monitor_logs_musical_metrics_and_leaves_training_unchanged() {
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (tr, va) = (remi_songs(6, 3), remi_songs(3, 4));
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, pieces: usize| {
        let out = tmp.path().join(name);
        let mut s = spec(&tr, &va, &out, 8);
        s.model = TransformerXlConfig::tiny(cadenza::remi::Vocab::SIZE)
            .with_tgt_len(16)
            .with_mem_len(16)
            .with_dropout(0.1);
        s.transposer = cadenza::remi::transpose;
        s.train.monitor = cadenza::train::MonitorConfig {
            pieces,
            bars: 2,
            max_tokens: 96,
            ..Default::default()
        };
        let report = train::<CpuTrainBackend>(&s, &Default::default()).unwrap();
        (report, out)
    };
    let (on, on_dir) = run("on", 3);
    let (off, off_dir) = run("off", 0);
    assert!(on.monitor_secs > 0.0 && off.monitor_secs == 0.0);
    assert_eq!(on.valid_loss, off.valid_loss);
    let (a, b) = (params(&on_dir), params(&off_dir));
    assert!(
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
        "the monitor changed the weights"
    );

    let scalars = read_scalars(&on_dir.join("tensorboard"));
    for metric in ["h1", "h4", "gs"] {
        for tag in [
            format!("samples/{metric}"),
            format!("samples/{metric}_delta"),
        ] {
            let steps: Vec<i64> = scalars.iter().filter(|s| s.0 == tag).map(|s| s.1).collect();
            // GS needs two bars with notes; H1 and H4 are defined on any piece with a note.
            if metric != "gs" {
                assert_eq!(steps, vec![4, 8], "{tag}");
            }
            assert!(
                scalars
                    .iter()
                    .filter(|s| s.0 == tag)
                    .all(|s| s.2.is_finite() && s.2 >= 0.0)
            );
        }
    }
    let h1: Vec<f32> = scalars
        .iter()
        .filter(|s| s.0 == "samples/h1")
        .map(|s| s.2)
        .collect();
    assert!(
        h1.iter().all(|v| (0.0..=12f32.log2()).contains(v)),
        "{h1:?}"
    );
    let off_scalars = read_scalars(&off_dir.join("tensorboard"));
    assert!(off_scalars.iter().all(|s| !s.0.starts_with("samples/")));
}

#[test]
fn gradient_checkpointing_trains_the_same_model() {
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (tr, va) = (songs(6, 5), songs(2, 6));
    let tmp = tempfile::tempdir().unwrap();
    let run = |checkpointing: &str| {
        let out = tmp.path().join(checkpointing);
        let mut s = spec(&tr, &va, &out, 8);
        // Dropout off: Burn's compositions draw their masks from another generator.
        s.model = s.model.with_dropout(0.0);
        s.train.checkpointing = checkpointing.into();
        let report = cadenza::train::train_on_configured_backend(&s).unwrap();
        (report.valid_loss.unwrap(), params(&out))
    };
    let (none, balanced) = (run("none"), run("balanced"));
    // Balanced checkpointing runs Burn's compositions on the CPU (see model::burn_path): the
    // same model up to float rounding.
    assert!(
        (none.0 - balanced.0).abs() < 1e-5,
        "{} vs {}",
        none.0,
        balanced.0
    );
    let diff = crate::support::max_abs_diff(&none.1, &balanced.1);
    assert!(diff < 1e-4, "weights differ by {diff}");
    // ... but not bitwise: the key did pick the other autodiff type.
    assert_ne!(none.1, balanced.1);
    let mut bad = spec(&tr, &va, &tmp.path().join("bad"), 8);
    bad.train.checkpointing = "full".into();
    let err = bad.train.validate().unwrap_err().to_string();
    assert!(err.contains("train.checkpointing"), "{err}");
}

/// `train.budget_minutes` plans the steps from the warmup's speed and records the plan; a run
/// with `train.max_steps` set to the plan (no budget) gives the same weights, bit for bit.
#[test]
fn a_budgeted_run_is_reproduced_by_its_planned_steps() {
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (tr, va) = (songs(6, 1), songs(2, 2));
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("budget"), tmp.path().join("steps"));
    let mut budget = spec(&tr, &va, &a, 400);
    budget.train.warmup_steps = 20;
    // A fraction of a second: fewer steps than the cap of 400, more than the warmup.
    budget.train.budget_minutes = 0.004;
    budget.train.validate().unwrap();
    let planned = train::<CpuTrainBackend>(&budget, &Default::default()).unwrap();
    let plan = planned.plan.expect("the budget made a plan");
    assert!(planned.finished && planned.step == plan.steps);
    assert_eq!(planned.planned_steps, plan.steps);
    assert!(plan.steps > 20 && plan.tokens_per_sec > 0.0, "{plan:?}");
    assert!(
        planned.summary().contains("train.budget_minutes"),
        "{}",
        planned.summary()
    );

    let mut fixed = spec(&tr, &va, &b, plan.steps);
    fixed.train.warmup_steps = 20;
    let same = train::<CpuTrainBackend>(&fixed, &Default::default()).unwrap();
    assert_eq!((same.step, same.plan), (plan.steps, None));
    assert_eq!(planned.valid_loss, same.valid_loss);
    assert!(
        params(&a) == params(&b),
        "the planned run and its reproduction differ"
    );

    // Too short a warmup cannot measure the speed: refused, naming the key.
    budget.train.warmup_steps = 10;
    let err = format!("{:#}", budget.train.validate().unwrap_err());
    assert!(err.contains("train.warmup_steps"), "{err}");
}
