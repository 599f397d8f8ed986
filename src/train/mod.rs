//! Training: the stream loader, schedule, AdamW, global-norm clipping, the loop, what a resume
//! needs, and TensorBoard scalars. The model and its checkpoint format live in [`crate::model`].

pub mod adamw;
pub mod clip;
pub mod loader;
pub mod logger;
pub mod loss_scale;
pub mod monitor;
pub mod resume;
pub mod schedule;
mod session;
pub mod trainer;

pub use monitor::MonitorConfig;
pub use trainer::{TrainReport, TrainSpec, cross_entropy, train};

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::check::check;
use crate::model::Compute;
use crate::model::backend::{BackendWork, CHECKPOINTING, on_backend};

/// Trains on the backend and precision that `spec.train` names.
pub fn train_on_configured_backend(spec: &TrainSpec) -> Result<TrainReport> {
    struct Work<'a>(&'a TrainSpec<'a>);
    impl BackendWork for Work<'_> {
        type Output = TrainReport;
        fn run<B: AutodiffBackend>(self, device: &B::Device) -> Result<TrainReport> {
            train::<B>(self.0, device)
        }
    }
    let t = &spec.train;
    on_backend(&t.backend, &t.checkpointing, Work(spec))
}

/// The updates after which the budget's speed measurement starts (the first ones are slower).
pub const MEASURE_FROM: usize = 5;

/// The `train.precision` values.
pub const PRECISIONS: [&str; 3] = ["f32", "bf16-mixed", "f16-mixed"];

/// `[train]` section of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// "cpu" (Burn's flex backend), "cuda" or "wgpu" (each needs a binary built with that
    /// feature).
    pub backend: String,
    /// "f32", "bf16-mixed" or "f16-mixed": the float type of the forward and backward passes.
    /// Mixed keeps f32 master weights and AdamW state, and LayerNorm statistics, softmax, loss
    /// and gradient norm in f32; f16 adds dynamic loss scaling.
    pub precision: String,
    /// f16-mixed: the initial loss scale.
    pub loss_scale: f64,
    /// f16-mixed: good steps in a row after which the loss scale doubles.
    pub loss_scale_window: u32,
    /// "none" or "balanced": Burn's gradient checkpointing (recompute some activations in the
    /// backward pass instead of keeping them), for GPU memory. On the CPU, "balanced" runs the
    /// unfused Burn compositions.
    pub checkpointing: String,
    /// Number of parallel token streams.
    pub batch_size: usize,
    /// Peak learning rate (after warmup).
    pub lr: f64,
    /// Learning rate at the end of the cosine decay.
    pub min_lr: f64,
    pub warmup_steps: usize,
    /// The steps of the schedule (with `budget_minutes`: the most it may plan).
    pub max_steps: usize,
    /// Plans the steps from the measured speed: as many as fit this many minutes of training
    /// (at most `max_steps`), measured over the warmup, before the cosine starts, so the run
    /// follows the schedule of a run with that many steps. The plan is recorded
    /// (`planned_steps`): `max_steps` = it and `budget_minutes = 0` reproduce the run. 0 = off.
    pub budget_minutes: f64,
    /// Wall-time safety cap over all resumes; 0 = none. Training stops at whichever limit
    /// comes first (a cut schedule does not finish its decay).
    pub max_minutes: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Global L2 norm the gradients are clipped to; 0 = no clipping.
    pub clip_norm: f64,
    /// Random transposition per song and epoch, in [-transpose, +transpose] semitones.
    pub transpose: u32,
    /// Random tempo shift per song and epoch, in [-tempo_shift, +tempo_shift] bins of 4 BPM
    /// (clamped to 32..224); 0 = off.
    pub tempo_shift: u32,
    /// true: the memory carries the previous song into the next (as WikiText-103's articles in
    /// the Transformer-XL paper); false (the default): attention stops at each song's Bos, so
    /// training sees every song start the way generation does, with nothing before it.
    pub memory_across_songs: bool,
    /// Validate every this many steps (and at the end).
    pub eval_every: usize,
    /// Cap on validation tokens per evaluation.
    pub valid_tokens: usize,
    /// Log scalars every this many steps.
    pub log_every: usize,
    /// Checkpoint every this many steps (and at the end).
    pub checkpoint_every: usize,
    /// Checkpoints kept on disk (the newest ones).
    pub keep_checkpoints: usize,
    /// Sample pieces scored at every validation (TensorBoard `samples/...`).
    pub monitor: MonitorConfig,
    /// Start from this checkpoint's weights (a checkpoint or a train folder, of a model of the
    /// same shape) with a fresh optimizer and schedule: fine-tuning on another corpus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            backend: "cpu".into(),
            precision: "f32".into(),
            loss_scale: 65536.0,
            loss_scale_window: 2000,
            checkpointing: "none".into(),
            batch_size: 8,
            lr: 1e-3,
            min_lr: 1e-5,
            warmup_steps: 100,
            max_steps: 2000,
            budget_minutes: 0.0,
            max_minutes: 0.0,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            clip_norm: 1.0,
            transpose: 3,
            tempo_shift: 0,
            memory_across_songs: false,
            eval_every: 250,
            valid_tokens: 32_768,
            log_every: 10,
            checkpoint_every: 250,
            keep_checkpoints: 2,
            monitor: MonitorConfig::default(),
            init_from: None,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        self.validate_backend()?;
        check(self.batch_size > 0, "train.batch_size", "must be > 0")?;
        check(self.lr > 0.0, "train.lr", "must be > 0")?;
        check(
            self.min_lr >= 0.0 && self.min_lr <= self.lr,
            "train.min_lr",
            "must be in [0, train.lr]",
        )?;
        check(self.max_steps > 0, "train.max_steps", "must be > 0")?;
        check(
            self.warmup_steps <= self.max_steps,
            "train.warmup_steps",
            "must be <= train.max_steps",
        )?;
        check(
            self.max_minutes >= 0.0,
            "train.max_minutes",
            "must be >= 0 (0 = no limit)",
        )?;
        check(
            self.budget_minutes >= 0.0 && self.budget_minutes.is_finite(),
            "train.budget_minutes",
            "must be >= 0 (0 = off)",
        )?;
        check(
            self.budget_minutes == 0.0 || self.warmup_steps >= MEASURE_FROM + 10,
            "train.warmup_steps",
            format!(
                "must be >= {} with train.budget_minutes: the warmup's steps measure the speed",
                MEASURE_FROM + 10
            ),
        )?;
        check(
            self.weight_decay >= 0.0,
            "train.weight_decay",
            "must be >= 0",
        )?;
        check(
            (0.0..1.0).contains(&self.beta1),
            "train.beta1",
            "must be in [0, 1)",
        )?;
        check(
            (0.0..1.0).contains(&self.beta2),
            "train.beta2",
            "must be in [0, 1)",
        )?;
        check(self.eps > 0.0, "train.eps", "must be > 0")?;
        check(
            self.clip_norm >= 0.0,
            "train.clip_norm",
            "must be >= 0 (0 = no clipping)",
        )?;
        check(
            self.transpose <= 12,
            "train.transpose",
            "must be <= 12 semitones",
        )?;
        check(
            self.tempo_shift <= 48,
            "train.tempo_shift",
            "must be <= 48 tempo bins (the whole 32..224 BPM range)",
        )?;
        check(self.eval_every > 0, "train.eval_every", "must be > 0")?;
        check(self.valid_tokens > 0, "train.valid_tokens", "must be > 0")?;
        check(self.log_every > 0, "train.log_every", "must be > 0")?;
        check(
            self.checkpoint_every > 0,
            "train.checkpoint_every",
            "must be > 0",
        )?;
        check(
            self.keep_checkpoints > 0,
            "train.keep_checkpoints",
            "must be > 0",
        )?;
        check(
            self.init_from
                .as_ref()
                .is_none_or(|p| !p.as_os_str().is_empty()),
            "train.init_from",
            "must name a checkpoint or train folder",
        )?;
        self.monitor.validate()
    }

    /// Backend, precision and checkpointing: the keys that pick the Burn backend.
    fn validate_backend(&self) -> anyhow::Result<()> {
        check(
            crate::model::backend::BACKENDS.contains(&self.backend.as_str()),
            "train.backend",
            format!(
                "must be \"cpu\", \"cuda\" or \"wgpu\", got {:?}",
                self.backend
            ),
        )?;
        check(
            PRECISIONS.contains(&self.precision.as_str()),
            "train.precision",
            format!(
                "must be \"f32\", \"bf16-mixed\" or \"f16-mixed\", got {:?} (pure bf16/f16 \
                 training, without f32 master weights, is gone: use the mixed form)",
                self.precision
            ),
        )?;
        // cubecl's WGSL compiler has no bf16 element: it would panic at the first kernel.
        check(
            !(self.backend == "wgpu" && self.precision == "bf16-mixed"),
            "train.precision",
            "bf16-mixed is not available on wgpu: WGSL, the shader language of Burn's wgpu \
             backend, has no bf16 type (use f16-mixed or f32)",
        )?;
        check(self.loss_scale >= 1.0, "train.loss_scale", "must be >= 1")?;
        check(
            self.loss_scale_window > 0,
            "train.loss_scale_window",
            "must be > 0",
        )?;
        check(
            CHECKPOINTING.contains(&self.checkpointing.as_str()),
            "train.checkpointing",
            format!(
                "must be \"none\" or \"balanced\", got {:?}",
                self.checkpointing
            ),
        )
    }

    /// The compute type `precision` names (f32 for anything unvalidated).
    pub fn compute(&self) -> Compute {
        match self.precision.as_str() {
            "bf16-mixed" => Compute::Bf16,
            "f16-mixed" => Compute::F16,
            _ => Compute::F32,
        }
    }

    /// Whether the loss is scaled (f16's narrow exponent range needs it).
    pub fn scales_loss(&self) -> bool {
        self.compute() == Compute::F16
    }

    /// The schedule of a run of `max_steps` steps (`train.max_steps`, or what the budget planned).
    pub fn schedule(&self, max_steps: usize) -> schedule::LrSchedule {
        schedule::LrSchedule {
            lr: self.lr,
            min_lr: self.min_lr,
            warmup_steps: self.warmup_steps,
            max_steps,
        }
    }

    /// The steps a budget of `budget_minutes` holds at `secs_per_step`, counted from `step`
    /// after `elapsed` seconds: at least one past the warmup, at most `max_steps`.
    pub fn plan_steps(&self, step: usize, elapsed: f64, secs_per_step: f64) -> usize {
        let left = (self.budget_minutes * 60.0 - elapsed).max(0.0);
        let more = (left / secs_per_step.max(1e-9)).floor() as usize;
        (step + more).max(self.warmup_steps + 1).min(self.max_steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_their_key() {
        let err = |c: TrainConfig| c.validate().unwrap_err().to_string();
        assert!(TrainConfig::default().validate().is_ok());
        assert!(
            err(TrainConfig {
                lr: 0.0,
                ..Default::default()
            })
            .contains("train.lr")
        );
        assert!(
            err(TrainConfig {
                backend: "tpu".into(),
                ..Default::default()
            })
            .contains("train.backend")
        );
        assert!(
            err(TrainConfig {
                precision: "bf16".into(),
                ..Default::default()
            })
            .contains("train.precision")
        );
        assert!(
            err(TrainConfig {
                precision: "f16-mixed".into(),
                loss_scale: 0.5,
                ..Default::default()
            })
            .contains("train.loss_scale")
        );
        assert!(
            err(TrainConfig {
                warmup_steps: 10,
                max_steps: 5,
                ..Default::default()
            })
            .contains("train.warmup_steps")
        );
        assert!(
            err(TrainConfig {
                monitor: MonitorConfig {
                    top_p: 0.0,
                    ..Default::default()
                },
                ..Default::default()
            })
            .contains("train.monitor.top_p")
        );
        let unknown = toml::from_str::<TrainConfig>("[monitor]\nsampler = 1")
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("sampler"), "{unknown}");
        let unknown = toml::from_str::<TrainConfig>("learning_rate = 0.1")
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("learning_rate"), "{unknown}");
    }

    /// WGSL has no bf16: the config is refused before any work, whatever the build.
    #[test]
    fn bf16_mixed_on_wgpu_is_refused_with_the_reason() {
        let t = TrainConfig {
            backend: "wgpu".into(),
            precision: "bf16-mixed".into(),
            ..Default::default()
        };
        let msg = format!("{:#}", t.validate().unwrap_err());
        assert!(
            msg.contains("train.precision") && msg.contains("no bf16 type"),
            "{msg}"
        );
        let f16 = TrainConfig {
            precision: "f16-mixed".into(),
            ..t
        };
        assert!(f16.validate().is_ok());
    }

    #[test]
    fn cuda_without_the_feature_is_a_clear_error() {
        if crate::model::backend::CUDA_COMPILED {
            return;
        }
        let songs = vec![vec![1u16, 5, 2]];
        let spec = TrainSpec {
            model: crate::model::TransformerXlConfig::tiny(8),
            train: TrainConfig {
                backend: "cuda".into(),
                ..Default::default()
            },
            seed: 0,
            resume_key: String::new(),
            train_songs: &songs,
            valid_songs: &songs,
            transposer: |t, _| Some(t.to_vec()),
            tempo_shifter: |t, _| t.to_vec(),
            out_dir: std::env::temp_dir().join("cadenza-never-written"),
            resume_dirs: vec![],
            force: false,
            session_steps: None,
            inject_overflow: None,
            progress: false,
        };
        let msg = train_on_configured_backend(&spec).unwrap_err().to_string();
        assert!(msg.contains("--features cuda"), "{msg}");
    }
}
