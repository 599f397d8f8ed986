//! One training session: from a fresh start or a checkpoint, updates with periodic logging,
//! validation and checkpoints, until the run is finished or the session's steps are done.

use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use burn::module::{AutodiffModule, Module, ParamId};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::ElementConversion;
use burn::tensor::backend::AutodiffBackend;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::adamw::{AdamWParams, FusedAdamW, Optim, WeightDecay};
use super::clip::{clip_to_norm, grad_norm, scale_grads};
use super::loader::{Augment, Batch, SongPositions, StreamLoader, valid_batches};
use super::logger::{Logger, tags};
use super::loss_scale::LossScale;
use super::monitor::{MONITORED, Monitor};
use super::resume::{self, BudgetPlan, Snapshot, TrainState, resume_first};
use super::trainer::{TrainSpec, cross_entropy, evaluate, tensors};
use crate::model::checkpoint::Checkpoint;
use crate::model::{Memory, Pass, TransformerXl, TransformerXlConfig, dropout};
use crate::remi::BOS;
use crate::rng::Rng;

/// Scalars summed since the last log line.
#[derive(Default)]
struct LogWindow {
    loss: f64,
    norm: f64,
    steps: usize,
    tokens: usize,
}

/// One training session: optimizer, data and bookkeeping between two stops. The model is
/// passed through by value, so each update replaces it without a second reference.
pub(super) struct Session<'a, B: AutodiffBackend> {
    spec: &'a TrainSpec<'a>,
    device: &'a B::Device,
    optim: Optim<B>,
    loader: StreamLoader<'a>,
    pub(super) state: TrainState,
    mems: Option<Memory<B>>,
    valid: Vec<Batch>,
    monitor: Option<Monitor>,
    /// Seconds spent decoding monitor pieces: not training time (the time budget and tok/s
    /// leave it out, so the monitor cannot change how far training gets).
    pub(super) monitor_secs: f64,
    logger: Logger,
    bar: Bar,
    ckpts: PathBuf,
    pub(super) resumed_from: Option<usize>,
    /// When this session started, and the training time of earlier sessions.
    pub(super) clock: Instant,
    elapsed_before: f64,
    /// Tokens trained on in this session.
    pub(super) tokens: usize,
    window: LogWindow,
    window_clock: Instant,
    /// The budget's speed measurement: (step, training time) where it starts.
    measure_from: Option<(usize, f64)>,
    /// The position biases: 2-D parameters that weight decay leaves alone (their ids do not
    /// change across steps or a resume).
    no_decay: HashSet<ParamId>,
}

impl<'a, B: AutodiffBackend> Session<'a, B> {
    /// The state of the first of `candidates` (newest first) that loads, with a warning for each
    /// damaged one before it; else a fresh model, and what an older run left is removed.
    pub(super) fn start(
        spec: &'a TrainSpec<'a>,
        device: &'a B::Device,
        ckpts: PathBuf,
        candidates: Vec<(Checkpoint, TrainState)>,
    ) -> Result<(Self, TransformerXl<B>)> {
        let tc = &spec.train;
        B::seed(device, Rng::derive(spec.seed, &["train", "init"]));
        let mut model = spec.model.init::<B>(device);
        let mut optim = FusedAdamW::init::<B, TransformerXl<B>>(AdamWParams {
            beta_1: tc.beta1 as f32,
            beta_2: tc.beta2 as f32,
            epsilon: tc.eps as f32,
            // Decay is applied before each step by WeightDecay, to weight matrices only.
            weight_decay: 0.0,
        });
        let mut loader = train_loader(spec)?;
        let mut state = TrainState {
            step: 0,
            loader: loader.state.clone(),
            resume_key: spec.resume_key.clone(),
            elapsed_secs: 0.0,
            tokens_seen: 0,
            finished: false,
            last_train_loss: None,
            last_valid_loss: None,
            song_positions: (!tc.memory_across_songs).then(|| SongPositions::new(tc.batch_size)),
            loss_scale: tc.scales_loss().then(|| LossScale::new(tc.loss_scale)),
            plan: None,
        };
        let mut mems = None;
        let mut resumed_from = None;
        match resume_first(candidates, device, &model, &optim, &loader) {
            Some(r) => {
                (model, optim, mems, loader, state) = r;
                resumed_from = Some(state.step);
            }
            None => {
                remove_outputs(&[&ckpts, &spec.out_dir.join("tensorboard")])?;
                if let Some(from) = &tc.init_from {
                    model = init_from(model, from, &spec.model, device)?;
                }
            }
        }
        let no_decay = model.position_bias_ids().into_iter().collect();
        let valid = valid_batches(
            spec.valid_songs,
            tc.batch_size,
            spec.model.tgt_len,
            tc.valid_tokens,
        );
        let logger = Logger::new(&spec.out_dir.join("tensorboard"))?;
        let planned = state.plan.map_or(tc.max_steps, |p| p.steps);
        let bar = progress_bar(spec.progress, planned, state.step);
        let session = Session {
            spec,
            device,
            optim,
            loader,
            elapsed_before: state.elapsed_secs,
            state,
            mems,
            valid,
            monitor: Monitor::new(&tc.monitor, spec.seed, &spec.model, spec.valid_songs),
            monitor_secs: 0.0,
            logger,
            bar,
            ckpts,
            resumed_from,
            clock: Instant::now(),
            tokens: 0,
            window: LogWindow::default(),
            window_clock: Instant::now(),
            measure_from: None,
            no_decay,
        };
        Ok((session, model))
    }

    /// The steps of this run: `train.max_steps`, or what the budget planned.
    pub(super) fn max_steps(&self) -> usize {
        self.state
            .plan
            .map_or(self.spec.train.max_steps, |p| p.steps)
    }

    /// With `train.budget_minutes`: measures the speed over the warmup and, where it ends,
    /// plans the run's steps (before the cosine, the only part of the schedule they change).
    fn plan_budget(&mut self) {
        let tc = &self.spec.train;
        let step = self.state.step;
        if tc.budget_minutes <= 0.0 || self.state.plan.is_some() {
            return;
        }
        if self.measure_from.is_none() && step >= super::MEASURE_FROM {
            self.measure_from = Some((step, self.elapsed()));
        }
        if step < tc.warmup_steps {
            return;
        }
        let now = self.elapsed();
        // Resumed right at the warmup's end: the run's average so far.
        let (from, t0) = match self.measure_from {
            Some((from, t0)) if from < step => (from, t0),
            _ => (0, 0.0),
        };
        let secs_per_step = (now - t0) / (step - from).max(1) as f64;
        let steps = tc.plan_steps(step, now, secs_per_step);
        let tokens_per_step = (tc.batch_size * self.spec.model.tgt_len) as f64;
        self.state.plan = Some(BudgetPlan {
            steps,
            tokens_per_sec: tokens_per_step / secs_per_step.max(1e-9),
        });
        self.bar.set_length(steps as u64);
        self.bar.println(format!(
            "train.budget_minutes = {}: {steps} steps at {:.0} tok/s (train.max_steps = {steps} reproduces this run)",
            tc.budget_minutes,
            tokens_per_step / secs_per_step.max(1e-9)
        ));
    }

    /// Training time over all sessions (monitoring left out).
    fn elapsed(&self) -> f64 {
        self.elapsed_before + self.session_secs()
    }

    /// Training time of this session (monitoring left out).
    pub(super) fn session_secs(&self) -> f64 {
        self.clock.elapsed().as_secs_f64() - self.monitor_secs
    }

    /// Updates until the run is finished or this session's steps are done; returns the last
    /// checkpoint.
    pub(super) fn run(&mut self, mut model: TransformerXl<B>) -> Result<PathBuf> {
        let tc = &self.spec.train;
        let session_end = self.spec.session_steps.map(|n| self.state.step + n);
        loop {
            let elapsed = self.elapsed();
            let out_of_time = tc.max_minutes > 0.0 && elapsed >= tc.max_minutes * 60.0;
            if self.state.step >= self.max_steps() || out_of_time {
                self.state.finished = true;
            }
            let pause = session_end.is_some_and(|e| self.state.step >= e);
            if self.state.finished || pause {
                if self.state.finished && self.state.step > 0 {
                    self.validate(&model);
                }
                let last = self.save(&model, elapsed)?;
                self.logger.flush();
                self.bar.finish_and_clear();
                return Ok(last);
            }
            model = self.update(model)?;
            self.plan_budget();
            let step = self.state.step;
            if step % tc.eval_every == 0 && step < self.max_steps() {
                if let Some(v) = self.validate(&model) {
                    self.bar.println(format!(
                        "step {step:>6}  valid loss {v:.4} (ppl {:.2})",
                        v.exp()
                    ));
                }
                self.logger.flush();
            }
            if step % tc.checkpoint_every == 0 && step < self.max_steps() {
                self.save(&model, self.elapsed())?;
                crate::fsio::fault::point("train:after-checkpoint")?;
            }
            self.bar.set_position(step as u64);
        }
    }

    /// One update: forward with the memory, loss, backward (loss-scaled in f16), clipping,
    /// AdamW; then the log line. Under f16 an update whose gradients overflowed is skipped.
    fn update(&mut self, model: TransformerXl<B>) -> Result<TransformerXl<B>> {
        let tc = &self.spec.train;
        let step = self.state.step;
        // Dropout masks come from the backend's generator (CUDA) or a host one (CPU): reseed
        // both per step so a resumed run draws the same masks.
        let dropout_seed = Rng::derive(self.spec.seed, &["train", "dropout", &step.to_string()]);
        B::seed(self.device, dropout_seed);
        dropout::seed(dropout_seed);
        let batch = self.loader.next_batch();
        let (x, y) = tensors::<B>(&batch, self.device);
        let lookback = self
            .state
            .song_positions
            .as_mut()
            .map(|songs| songs.lookback(&batch, BOS));
        let pass = Pass {
            lookback: lookback.as_ref(),
            compute: tc.compute(),
        };
        let (logits, new_mems) = model.forward_with(x, self.mems.as_ref(), pass);
        let loss = cross_entropy(logits, y);
        let loss_value = loss.clone().into_scalar().elem::<f64>();
        let (mut grads, norm) = self.gradients(&model, loss, step);
        let finite = loss_value.is_finite() && norm.is_finite();
        let apply = match self.state.loss_scale.as_mut() {
            Some(scaler) => scaler.update(finite, tc.loss_scale_window),
            None if !finite => bail!(
                "training loss {loss_value}, gradient norm {norm} at step {step}; lower `train.lr` or raise `train.warmup_steps`"
            ),
            None => true,
        };
        let lr = tc.schedule(self.max_steps()).at(step);
        let model = if apply {
            if tc.clip_norm > 0.0 {
                clip_to_norm::<B, _>(&model, &mut grads, norm, tc.clip_norm);
            }
            let model = if tc.weight_decay > 0.0 {
                model.map(&mut WeightDecay {
                    factor: WeightDecay::factor(lr, tc.weight_decay),
                    skip: &self.no_decay,
                })
            } else {
                model
            };
            self.optim.step(lr, model, grads)
        } else {
            model
        };
        // A forward that overflowed leaves no usable memory.
        self.mems = loss_value.is_finite().then_some(new_mems);
        self.state.step += 1;
        self.state.tokens_seen += batch.tokens() as u64;
        self.tokens += batch.tokens();
        let w = &mut self.window;
        if apply {
            self.state.last_train_loss = Some(loss_value);
            w.loss += loss_value;
            w.norm += norm;
            w.steps += 1;
        }
        w.tokens += batch.tokens();
        if self.state.step % tc.log_every == 0 {
            self.log(lr);
        }
        Ok(model)
    }

    /// The gradients of `loss` (backpropagated times the loss scale, if any, then divided by
    /// it in f32) and their global norm before clipping.
    fn gradients(
        &self,
        model: &TransformerXl<B>,
        loss: burn::tensor::Tensor<B, 1>,
        step: usize,
    ) -> (GradientsParams, f64) {
        let scale = self.state.loss_scale.as_ref().map(|s| s.scale);
        let loss = match scale {
            Some(s) => loss.mul_scalar(s),
            None => loss,
        };
        let mut grads = GradientsParams::from_grads(loss.backward(), model);
        if let Some(s) = scale {
            scale_grads::<B, _>(model, &mut grads, 1.0 / s);
        }
        if self.spec.inject_overflow == Some(step) {
            scale_grads::<B, _>(model, &mut grads, f64::INFINITY);
        }
        let norm = grad_norm::<B, _>(model, &grads);
        (grads, norm)
    }

    /// Writes the window's means to TensorBoard and the progress bar, and starts a new window.
    fn log(&mut self, lr: f64) {
        let (w, step) = (&self.window, self.state.step);
        let tps = w.tokens as f64 / self.window_clock.elapsed().as_secs_f64().max(1e-9);
        // Means over the applied updates (an f16 overflow's loss and norm are not numbers).
        let loss = w.loss / w.steps.max(1) as f64;
        if w.steps > 0 {
            self.logger.scalar(tags::TRAIN_LOSS, loss, step);
            self.logger
                .scalar(tags::GRAD_NORM, w.norm / w.steps as f64, step);
        }
        self.logger.scalar(tags::LR, lr, step);
        self.logger.scalar(tags::TOKENS_PER_SEC, tps, step);
        if let Some(s) = &self.state.loss_scale {
            self.logger.scalar(tags::LOSS_SCALE, s.scale, step);
            self.logger
                .scalar(tags::SKIPPED_STEPS, s.skipped as f64, step);
        }
        self.bar
            .set_message(format!("loss {loss:.3}  {tps:.0} tok/s"));
        self.window = LogWindow::default();
        self.window_clock = Instant::now();
    }

    /// The validation loss, recorded in the state and TensorBoard, and the monitor's scalars.
    fn validate(&mut self, model: &TransformerXl<B>) -> Option<f64> {
        let eval_model = model.valid();
        let within_songs = !self.spec.train.memory_across_songs;
        let v = evaluate(&eval_model, &self.valid, within_songs, self.device);
        self.state.last_valid_loss = v;
        if let Some(v) = v {
            self.logger.scalar(tags::VALID_LOSS, v, self.state.step);
            self.logger
                .scalar(tags::VALID_PPL, v.exp(), self.state.step);
        }
        self.monitor(&eval_model);
        v
    }

    /// Decodes and scores the monitor's pieces; a failure is a warning, never a stop.
    fn monitor(&mut self, model: &TransformerXl<B::InnerBackend>) {
        let Some(monitor) = &self.monitor else { return };
        let started = Instant::now();
        match monitor.sample(model) {
            Ok(scores) => {
                let step = self.state.step;
                for (i, f) in MONITORED.iter().enumerate() {
                    let tag = format!("{}/{}", tags::SAMPLES, f.name());
                    if let Some(m) = scores.means[i] {
                        self.logger.scalar(&tag, m, step);
                    }
                    if let Some(d) = scores.deltas[i] {
                        self.logger.scalar(&format!("{tag}_delta"), d, step);
                    }
                }
            }
            Err(e) => self.bar.println(format!("warning: {e:#}")),
        }
        self.monitor_secs += started.elapsed().as_secs_f64();
    }

    /// A checkpoint of the current step, with `elapsed` as the training time so far.
    fn save(&mut self, model: &TransformerXl<B>, elapsed: f64) -> Result<PathBuf> {
        self.state.elapsed_secs = elapsed;
        self.state.loader = self.loader.state.clone();
        let snap = Snapshot {
            model,
            model_config: &self.spec.model,
            optim: self.optim.to_record(),
            memory: self.mems.as_ref(),
            state: &self.state,
        };
        resume::save(&self.ckpts, snap, self.spec.train.keep_checkpoints)
    }
}

/// The training streams with the configured augmentations, seeded from the run seed.
fn train_loader<'a>(spec: &'a TrainSpec<'a>) -> Result<StreamLoader<'a>> {
    let tc = &spec.train;
    let augment = Augment {
        transpose: tc.transpose as i32,
        transposer: spec.transposer,
        tempo_shift: tc.tempo_shift as i32,
        tempo_shifter: spec.tempo_shifter,
    };
    StreamLoader::new(
        spec.train_songs,
        tc.batch_size,
        spec.model.tgt_len,
        augment,
        Rng::derive(spec.seed, &["train", "loader"]),
    )
}

/// Removes folders an older run left (starting over: --force, a changed config, a first run).
fn remove_outputs(dirs: &[&Path]) -> Result<()> {
    for stale in dirs {
        if stale.exists() {
            std::fs::remove_dir_all(stale)
                .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    Ok(())
}

fn progress_bar(show: bool, max_steps: usize, at: usize) -> Bar {
    let bar = if show {
        Bar::new(
            max_steps as u64,
            "train {bar:30} {pos}/{len} steps  {msg}  [{elapsed_precise}<{eta}]",
            "train",
            "steps",
        )
    } else {
        Bar::hidden("train")
    };
    bar.starting_at(at as u64)
}

/// `model` with the weights of the checkpoint at `from` (`train.init_from`), which must have
/// the same shape; segment and memory lengths and dropout may differ.
fn init_from<B: AutodiffBackend>(
    model: TransformerXl<B>,
    from: &Path,
    config: &TransformerXlConfig,
    device: &B::Device,
) -> Result<TransformerXl<B>> {
    let ckpt = Checkpoint::resolve(from).context("train.init_from")?;
    ckpt.verify()?;
    let theirs = ckpt.model_config()?;
    let shape = |c: &TransformerXlConfig| {
        (
            c.vocab_size,
            c.n_layer,
            c.d_model,
            c.n_head,
            c.d_head,
            c.d_inner,
            c.pre_norm,
        )
    };
    anyhow::ensure!(
        shape(&theirs) == shape(config),
        "train.init_from: {} is a model of another shape (vocab, layers, d_model, heads, \
         d_head, d_inner, pre_norm: {:?} against this run's {:?})",
        ckpt.dir.display(),
        shape(&theirs),
        shape(config)
    );
    eprintln!(
        "train     starting from the weights of {}",
        ckpt.dir.display()
    );
    ckpt.load_weights(model, device)
}
