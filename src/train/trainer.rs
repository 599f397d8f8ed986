//! Training, generic over the autodiff backend: what a run needs and reports, the loss, and
//! the entry point that resumes the newest matching checkpoint or starts over (the loop itself
//! is in `session`).

use anyhow::Result;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use std::path::PathBuf;
use std::time::Instant;

use super::TrainConfig;
use super::loader::{Batch, SongPositions, TempoShifter, Transposer, unigram_entropy};
use super::loss_scale::LossScale;
use super::resume::{self, BudgetPlan, TrainState};
use super::session::Session;
use crate::model::checkpoint::{CHECKPOINTS_DIR, Checkpoint};
use crate::model::{Memory, Pass, TransformerXl, TransformerXlConfig};
use crate::remi::BOS;

/// What a training run needs.
pub struct TrainSpec<'a> {
    pub model: TransformerXlConfig,
    pub train: TrainConfig,
    pub seed: u64,
    /// Hash of everything that defines the run (config sections, seed, input fingerprints):
    /// a checkpoint is resumed only when its key matches.
    pub resume_key: String,
    pub train_songs: &'a [Vec<u16>],
    pub valid_songs: &'a [Vec<u16>],
    pub transposer: Transposer,
    pub tempo_shifter: TempoShifter,
    /// Output folder: `checkpoints/` and `tensorboard/` go here.
    pub out_dir: PathBuf,
    /// Other train folders to look in for a checkpoint to resume (e.g. the previous output).
    pub resume_dirs: Vec<PathBuf>,
    /// Ignore existing checkpoints.
    pub force: bool,
    /// Stop after this many updates in this session (tests of resume); None = run to the end.
    pub session_steps: Option<usize>,
    /// Tests of the loss scaler: the gradients of this update (0-based) are made infinite, as
    /// an f16 overflow makes them.
    pub inject_overflow: Option<usize>,
    pub progress: bool,
}

#[derive(Debug, Clone)]
pub struct TrainReport {
    pub step: usize,
    /// The steps planned: `train.max_steps`, or what `train.budget_minutes` planned.
    pub planned_steps: usize,
    /// The budget's plan, when `train.budget_minutes` made one.
    pub plan: Option<BudgetPlan>,
    pub finished: bool,
    pub resumed_from: Option<usize>,
    pub tokens_seen: u64,
    pub train_loss: Option<f64>,
    pub valid_loss: Option<f64>,
    /// Entropy (nats) of the train split's unigram distribution: the loss of a model that
    /// ignores context.
    pub unigram_entropy: f64,
    /// Mean training throughput of this session (monitoring left out).
    pub tokens_per_sec: f64,
    /// Seconds this session spent decoding and scoring monitor pieces.
    pub monitor_secs: f64,
    /// f16 mixed precision: the loss scale and the steps skipped (over all sessions).
    pub loss_scale: Option<LossScale>,
    pub checkpoint: PathBuf,
    pub wall_secs: f64,
}

impl TrainReport {
    /// Whether `train.max_minutes` ended the run before `train.max_steps`.
    pub fn time_capped(&self) -> bool {
        self.finished && self.step < self.planned_steps
    }

    /// The one-line summary of the stage.
    pub fn summary(&self) -> String {
        let resumed = match self.resumed_from {
            Some(s) if s == self.step => " (already trained: checkpoint reused)".to_string(),
            Some(s) => format!(", resumed from step {s}"),
            None => String::new(),
        };
        let valid = self.valid_loss.map_or("n/a".to_string(), |v| {
            format!("{v:.3} nats (ppl {:.2})", v.exp())
        });
        let scale = self.loss_scale.as_ref().map_or(String::new(), |s| {
            format!(
                "; loss scale {}, {} steps skipped (f16 overflow)",
                s.scale, s.skipped
            )
        });
        let monitor = if self.monitor_secs > 0.0 {
            format!(
                "; monitor {:.1} s ({:.1}% of the stage)",
                self.monitor_secs,
                100.0 * self.monitor_secs / self.wall_secs.max(1e-9)
            )
        } else {
            String::new()
        };
        let capped = if self.time_capped() {
            " (stopped by the time cap train.max_minutes)"
        } else {
            ""
        };
        let planned = self.plan.map_or(String::new(), |p| {
            format!(
                " (planned by train.budget_minutes at {:.0} tok/s; train.max_steps = {} reproduces it)",
                p.tokens_per_sec, p.steps
            )
        });
        format!(
            "{} of {} steps{planned}{capped}{resumed}, {} tokens, {:.0} tok/s; valid loss {valid} vs unigram entropy {:.3} nats{scale}{monitor}; checkpoint {}",
            self.step,
            self.planned_steps,
            self.tokens_seen,
            self.tokens_per_sec,
            self.unigram_entropy,
            self.checkpoint.display()
        )
    }
}

/// Mean cross-entropy (nats) of `logits [B, T, V]` against `targets [B, T]`.
pub fn cross_entropy<B: Backend>(logits: Tensor<B, 3>, targets: Tensor<B, 2, Int>) -> Tensor<B, 1> {
    log_softmax(logits, 2)
        .gather(2, targets.unsqueeze_dim(2))
        .mean()
        .neg()
}

pub(super) fn tensors<B: Backend>(
    batch: &Batch,
    device: &B::Device,
) -> (Tensor<B, 2, Int>, Tensor<B, 2, Int>) {
    let shape = [batch.batch, batch.len];
    (
        Tensor::from_data(TensorData::new(batch.inputs.clone(), shape), device),
        Tensor::from_data(TensorData::new(batch.targets.clone(), shape), device),
    )
}

/// Mean validation loss (nats per token) with the memory carried across segments; with
/// `within_songs`, attention stops at each song's Bos (as in training without memory across
/// songs). Always in f32, whatever the training's precision.
pub fn evaluate<B: Backend>(
    model: &TransformerXl<B>,
    batches: &[Batch],
    within_songs: bool,
    device: &B::Device,
) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    let mut mems: Option<Memory<B>> = None;
    let mut songs = batches
        .first()
        .filter(|_| within_songs)
        .map(|b| SongPositions::new(b.batch));
    for batch in batches {
        let (x, y) = tensors::<B>(batch, device);
        let lookback = songs.as_mut().map(|s| s.lookback(batch, BOS));
        let pass = Pass {
            lookback: lookback.as_ref(),
            ..Pass::default()
        };
        let (logits, new) = model.forward_with(x, mems.as_ref(), pass);
        sum += cross_entropy(logits, y).into_scalar().elem::<f64>() * batch.tokens() as f64;
        n += batch.tokens();
        mems = Some(new);
    }
    (n > 0).then(|| sum / n as f64)
}

/// The checkpoints with this run's resume key, in the output folder or `resume_dirs`, newest
/// first (a checkpoint whose state cannot be read is passed over with a warning).
fn resumable(spec: &TrainSpec) -> Result<Vec<(Checkpoint, TrainState)>> {
    let mut found = Vec::new();
    if spec.force {
        return Ok(found);
    }
    for dir in std::iter::once(&spec.out_dir).chain(&spec.resume_dirs) {
        for ckpt in Checkpoint::list(&dir.join(CHECKPOINTS_DIR))? {
            match resume::read_state(&ckpt) {
                Ok(state) if state.resume_key == spec.resume_key => found.push((ckpt, state)),
                Ok(_) => {}
                Err(e) => eprintln!("warning: passing over a damaged checkpoint: {e:#}"),
            }
        }
    }
    // Stable: at equal steps the output folder's own checkpoint comes first.
    found.sort_by_key(|(_, state)| std::cmp::Reverse(state.step));
    Ok(found)
}

pub fn train<B: AutodiffBackend>(spec: &TrainSpec, device: &B::Device) -> Result<TrainReport> {
    let started = Instant::now();
    let entropy = unigram_entropy(spec.train_songs);
    let ckpts = spec.out_dir.join(CHECKPOINTS_DIR);
    let mut candidates = resumable(spec)?;
    if let Some((ckpt, state)) = candidates.first()
        && state.finished
        && let Err(e) = ckpt.verify()
    {
        eprintln!("warning: {e:#}; resuming from the checkpoint before it");
        candidates.remove(0);
    }
    if let Some((ckpt, state)) = candidates.first()
        && state.finished
    {
        // Nothing left to do: the newest checkpoint is the finished run.
        let dst = if ckpt.dir.starts_with(&ckpts) {
            ckpt.dir.clone()
        } else {
            resume::copy_into(ckpt, &ckpts)?
        };
        return Ok(TrainReport {
            step: state.step,
            planned_steps: state.plan.map_or(spec.train.max_steps, |p| p.steps),
            plan: state.plan,
            finished: true,
            resumed_from: Some(state.step),
            tokens_seen: state.tokens_seen,
            train_loss: state.last_train_loss,
            valid_loss: state.last_valid_loss,
            unigram_entropy: entropy,
            tokens_per_sec: 0.0,
            monitor_secs: 0.0,
            loss_scale: state.loss_scale.clone(),
            checkpoint: dst,
            wall_secs: started.elapsed().as_secs_f64(),
        });
    }
    let (mut session, model) = Session::<B>::start(spec, device, ckpts, candidates)?;
    let checkpoint = session.run(model)?;
    let s = &session.state;
    Ok(TrainReport {
        step: s.step,
        planned_steps: session.max_steps(),
        plan: s.plan,
        finished: s.finished,
        resumed_from: session.resumed_from,
        tokens_seen: s.tokens_seen,
        train_loss: s.last_train_loss,
        valid_loss: s.last_valid_loss,
        unigram_entropy: entropy,
        tokens_per_sec: session.tokens as f64 / session.session_secs().max(1e-9),
        monitor_secs: session.monitor_secs,
        loss_scale: s.loss_scale.clone(),
        checkpoint,
        wall_secs: started.elapsed().as_secs_f64(),
    })
}
