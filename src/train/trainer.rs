//! The training loop, generic over the autodiff backend.

use anyhow::{Context, Result, bail};
use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::TrainConfig;
use super::adamw::{AdamWParams, FusedAdamW};
use super::checkpoint::{self, Snapshot, TrainState};
use super::clip::clip_grad_norm;
use super::data::{Batch, StreamLoader, Transposer, unigram_entropy, valid_batches};
use super::logger::{Logger, tags};
use crate::model::{Memory, TransformerXl, TransformerXlConfig, dropout};
use crate::rng::Rng;

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
    /// Output folder: `checkpoints/` and `tensorboard/` go here.
    pub out_dir: PathBuf,
    /// Other train folders to look in for a checkpoint to resume (e.g. the previous output).
    pub resume_dirs: Vec<PathBuf>,
    /// Ignore existing checkpoints.
    pub force: bool,
    /// Stop after this many updates in this session (tests of resume); None = run to the end.
    pub session_steps: Option<usize>,
    pub progress: bool,
}

#[derive(Debug, Clone)]
pub struct TrainReport {
    pub step: usize,
    pub finished: bool,
    pub resumed_from: Option<usize>,
    pub tokens_seen: u64,
    pub train_loss: Option<f64>,
    pub valid_loss: Option<f64>,
    /// Entropy (nats) of the train split's unigram distribution: the loss of a model that
    /// ignores context.
    pub unigram_entropy: f64,
    /// Mean training throughput of this session.
    pub tokens_per_sec: f64,
    pub checkpoint: PathBuf,
    pub wall_secs: f64,
}

/// Mean cross-entropy (nats) of `logits [B, T, V]` against `targets [B, T]`.
pub fn cross_entropy<B: Backend>(logits: Tensor<B, 3>, targets: Tensor<B, 2, Int>) -> Tensor<B, 1> {
    log_softmax(logits, 2)
        .gather(2, targets.unsqueeze_dim(2))
        .mean()
        .neg()
}

fn tensors<B: Backend>(
    batch: &Batch,
    device: &B::Device,
) -> (Tensor<B, 2, Int>, Tensor<B, 2, Int>) {
    let shape = [batch.batch, batch.len];
    (
        Tensor::from_data(TensorData::new(batch.inputs.clone(), shape), device),
        Tensor::from_data(TensorData::new(batch.targets.clone(), shape), device),
    )
}

/// Mean validation loss (nats per token) with the memory carried across segments.
pub fn evaluate<B: Backend>(
    model: &TransformerXl<B>,
    batches: &[Batch],
    device: &B::Device,
) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    let mut mems: Option<Memory<B>> = None;
    for batch in batches {
        let (x, y) = tensors::<B>(batch, device);
        let (logits, new) = model.forward(x, mems.as_ref());
        sum += cross_entropy(logits, y).into_scalar().elem::<f64>() * batch.tokens() as f64;
        n += batch.tokens();
        mems = Some(new);
    }
    (n > 0).then(|| sum / n as f64)
}

fn find_resumable(spec: &TrainSpec) -> Result<Option<(PathBuf, TrainState)>> {
    if spec.force {
        return Ok(None);
    }
    let mut best: Option<(PathBuf, TrainState)> = None;
    for dir in std::iter::once(&spec.out_dir).chain(&spec.resume_dirs) {
        for (_, ckpt) in checkpoint::list(&checkpoint::checkpoints_dir(dir))? {
            let Ok(state) = checkpoint::read_state(&ckpt) else {
                continue;
            };
            if state.resume_key == spec.resume_key
                && best.as_ref().is_none_or(|(_, b)| state.step > b.step)
            {
                best = Some((ckpt, state));
            }
        }
    }
    Ok(best)
}

pub fn train<B: AutodiffBackend>(spec: &TrainSpec, device: &B::Device) -> Result<TrainReport> {
    let tc = &spec.train;
    let started = Instant::now();
    let entropy = unigram_entropy(spec.train_songs);
    let ckpts = checkpoint::checkpoints_dir(&spec.out_dir);
    let resume = find_resumable(spec)?;
    if let Some((ckpt, state)) = &resume
        && state.finished
    {
        // Nothing left to do: the newest checkpoint is the finished run.
        let dst = if ckpt.starts_with(&ckpts) {
            ckpt.clone()
        } else {
            copy_checkpoint(ckpt, &ckpts)?
        };
        return Ok(TrainReport {
            step: state.step,
            finished: true,
            resumed_from: Some(state.step),
            tokens_seen: state.tokens_seen,
            train_loss: state.last_train_loss,
            valid_loss: state.last_valid_loss,
            unigram_entropy: entropy,
            tokens_per_sec: 0.0,
            checkpoint: dst,
            wall_secs: started.elapsed().as_secs_f64(),
        });
    }

    B::seed(device, Rng::derive(spec.seed, &["train", "init"]));
    let mut model = spec.model.init::<B>(device);
    let mut optim = FusedAdamW::init::<B, TransformerXl<B>>(AdamWParams {
        beta_1: tc.beta1 as f32,
        beta_2: tc.beta2 as f32,
        epsilon: tc.eps as f32,
        weight_decay: tc.weight_decay as f32,
    });
    let loader_seed = Rng::derive(spec.seed, &["train", "loader"]);
    let mut loader = StreamLoader::new(
        spec.train_songs,
        tc.batch_size,
        spec.model.tgt_len,
        tc.transpose as i32,
        spec.transposer,
        loader_seed,
    )?;
    let mut state = TrainState {
        step: 0,
        loader: loader.state.clone(),
        resume_key: spec.resume_key.clone(),
        elapsed_secs: 0.0,
        tokens_seen: 0,
        finished: false,
        last_train_loss: None,
        last_valid_loss: None,
    };
    let mut mems: Option<Memory<B>> = None;
    let resumed_from = if let Some((ckpt, saved)) = resume {
        model = checkpoint::load_weights(model, &ckpt, device)?;
        optim = optim.load_record(checkpoint::load_optim(&ckpt, device)?);
        mems = checkpoint::read_memory::<B>(&ckpt, device)?;
        loader = loader.resume(saved.loader.clone())?;
        state = saved;
        Some(state.step)
    } else {
        // Starting over (--force, a changed config or a first run): drop what an older run left.
        for stale in [ckpts.clone(), spec.out_dir.join("tensorboard")] {
            if stale.exists() {
                std::fs::remove_dir_all(&stale)
                    .with_context(|| format!("cannot remove {}", stale.display()))?;
            }
        }
        None
    };

    let valid = valid_batches(
        spec.valid_songs,
        tc.batch_size,
        spec.model.tgt_len,
        tc.valid_tokens,
    );
    let mut logger = Logger::new(&spec.out_dir.join("tensorboard"))?;
    let schedule = tc.schedule();
    let bar = progress_bar(spec.progress, tc.max_steps, state.step);
    let session_start = Instant::now();
    let elapsed_before = state.elapsed_secs;
    let session_end = spec.session_steps.map(|n| state.step + n);
    let (mut log_loss, mut log_norm, mut log_n, mut log_tokens) = (0.0, 0.0, 0usize, 0usize);
    let mut log_clock = Instant::now();
    let mut session_tokens = 0usize;
    let last_ckpt: PathBuf;

    loop {
        let elapsed = elapsed_before + session_start.elapsed().as_secs_f64();
        let out_of_time = tc.max_minutes > 0.0 && elapsed >= tc.max_minutes * 60.0;
        if state.step >= tc.max_steps || out_of_time {
            state.finished = true;
        }
        let pause = session_end.is_some_and(|e| state.step >= e);
        if state.finished || pause {
            if state.finished && state.step > 0 {
                state.last_valid_loss = evaluate(&model.valid(), &valid, device);
                if let Some(v) = state.last_valid_loss {
                    logger.scalar(tags::VALID_LOSS, v, state.step);
                    logger.scalar(tags::VALID_PPL, v.exp(), state.step);
                }
            }
            state.elapsed_secs = elapsed;
            state.loader = loader.state.clone();
            let snap = Snapshot {
                model: &model,
                model_config: &spec.model,
                optim: optim.to_record(),
                memory: mems.as_ref(),
                state: &state,
            };
            last_ckpt = checkpoint::save(&ckpts, snap, tc.keep_checkpoints)?;
            break;
        }

        // Dropout masks come from the backend's generator (CUDA) or a host one (CPU): reseed
        // both per step so a resumed run draws the same masks.
        let dropout_seed = Rng::derive(spec.seed, &["train", "dropout", &state.step.to_string()]);
        B::seed(device, dropout_seed);
        dropout::seed(dropout_seed);
        let batch = loader.next_batch();
        let (x, y) = tensors::<B>(&batch, device);
        let (logits, new_mems) = model.forward(x, mems.as_ref());
        let loss = cross_entropy(logits, y);
        let loss_value = loss.clone().into_scalar().elem::<f64>();
        if !loss_value.is_finite() {
            bail!(
                "training loss is {loss_value} at step {}; lower `train.lr` or raise `train.warmup_steps`",
                state.step
            );
        }
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let norm = if tc.clip_norm > 0.0 {
            clip_grad_norm::<B, _>(&model, &mut grads, tc.clip_norm)
        } else {
            super::clip::grad_norm::<B, _>(&model, &grads)
        };
        let lr = schedule.at(state.step);
        model = optim.step(lr, model, grads);
        mems = Some(new_mems);
        state.step += 1;
        state.tokens_seen += batch.tokens() as u64;
        state.last_train_loss = Some(loss_value);
        session_tokens += batch.tokens();
        (log_loss, log_norm, log_n, log_tokens) = (
            log_loss + loss_value,
            log_norm + norm,
            log_n + 1,
            log_tokens + batch.tokens(),
        );

        if state.step % tc.log_every == 0 {
            let tps = log_tokens as f64 / log_clock.elapsed().as_secs_f64().max(1e-9);
            logger.scalar(tags::TRAIN_LOSS, log_loss / log_n as f64, state.step);
            logger.scalar(tags::LR, lr, state.step);
            logger.scalar(tags::GRAD_NORM, log_norm / log_n as f64, state.step);
            logger.scalar(tags::TOKENS_PER_SEC, tps, state.step);
            bar.set_message(format!(
                "loss {:.3}  {:.0} tok/s",
                log_loss / log_n as f64,
                tps
            ));
            (log_loss, log_norm, log_n, log_tokens) = (0.0, 0.0, 0, 0);
            log_clock = Instant::now();
        }
        if state.step % tc.eval_every == 0 && state.step < tc.max_steps {
            state.last_valid_loss = evaluate(&model.valid(), &valid, device);
            if let Some(v) = state.last_valid_loss {
                logger.scalar(tags::VALID_LOSS, v, state.step);
                logger.scalar(tags::VALID_PPL, v.exp(), state.step);
                bar.println(format!(
                    "step {:>6}  valid loss {v:.4} (ppl {:.2})",
                    state.step,
                    v.exp()
                ));
            }
            logger.flush();
        }
        if state.step % tc.checkpoint_every == 0 && state.step < tc.max_steps {
            state.elapsed_secs = elapsed_before + session_start.elapsed().as_secs_f64();
            state.loader = loader.state.clone();
            let snap = Snapshot {
                model: &model,
                model_config: &spec.model,
                optim: optim.to_record(),
                memory: mems.as_ref(),
                state: &state,
            };
            checkpoint::save(&ckpts, snap, tc.keep_checkpoints)?;
            crate::pipeline::fault::point("train:after-checkpoint")?;
        }
        bar.set_position(state.step as u64);
    }
    logger.flush();
    bar.finish_and_clear();
    let secs = session_start.elapsed().as_secs_f64();
    Ok(TrainReport {
        step: state.step,
        finished: state.finished,
        resumed_from,
        tokens_seen: state.tokens_seen,
        train_loss: state.last_train_loss,
        valid_loss: state.last_valid_loss,
        unigram_entropy: entropy,
        tokens_per_sec: session_tokens as f64 / secs.max(1e-9),
        checkpoint: last_ckpt,
        wall_secs: started.elapsed().as_secs_f64(),
    })
}

fn progress_bar(show: bool, max_steps: usize, at: usize) -> ProgressBar {
    let bar = if show {
        ProgressBar::new(max_steps as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        "train {bar:30} {pos}/{len} steps  {msg}  [{elapsed_precise}<{eta}]",
    ) {
        bar.set_style(style);
    }
    bar.set_position(at as u64);
    bar
}

/// Copies a checkpoint folder into `checkpoints` (resuming from an older output folder).
fn copy_checkpoint(src: &Path, checkpoints: &Path) -> Result<PathBuf> {
    let name = src.file_name().context("checkpoint path has no name")?;
    let tmp = checkpoints.join(format!(".{}.tmp", name.to_string_lossy()));
    let dst = checkpoints.join(name);
    std::fs::create_dir_all(&tmp)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        std::fs::copy(entry.path(), tmp.join(entry.file_name()))
            .with_context(|| format!("cannot copy {}", entry.path().display()))?;
    }
    if dst.exists() {
        std::fs::remove_dir_all(&dst)?;
    }
    std::fs::rename(&tmp, &dst)?;
    Ok(dst)
}
