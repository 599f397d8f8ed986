//! train: token shards -> Transformer-XL checkpoints and TensorBoard scalars (`crate::train`).

use anyhow::Result;
use serde_json::json;
use std::path::PathBuf;

use super::{Ctx, checkpoint_content, config_hash};
use crate::model::{Checkpoint, ModelConfig};
use crate::pipeline::{Counts, Inputs, Job, Stage, StageOutput, Upstream};
use crate::train::{TrainSpec, loader, train_on_configured_backend};

pub struct Train;

#[derive(serde::Serialize)]
struct Sections<'a> {
    model: &'a ModelConfig,
    train: serde_json::Value,
    seed: u64,
}

/// `[train]` keys that change when and what the run logs and keeps, never the weights it
/// trains (resumes are exact): a change neither makes the stage stale nor stops a resume.
const BOOKKEEPING: [&str; 4] = [
    "log_every",
    "eval_every",
    "checkpoint_every",
    "keep_checkpoints",
];

/// The hash of the sections training reads, without `[train.monitor]` (it only logs: changing
/// it neither makes the checkpoints stale nor stops a resume) and the `[train]` keys `left_out`.
fn sections_hash(ctx: &Ctx, left_out: &[&str]) -> String {
    let c = &ctx.cfg;
    let mut train = serde_json::to_value(&c.train).unwrap_or_default();
    if let Some(t) = train.as_object_mut() {
        for key in left_out.iter().chain(&["monitor"]) {
            t.remove(*key);
        }
    }
    config_hash(&Sections {
        model: &c.model,
        train,
        seed: c.run.seed,
    })
}

/// The stages whose outputs this one reads.
const UPSTREAM: &[Upstream] = &[Upstream::required("tokenize")];

impl Stage<Ctx> for Train {
    fn name(&self) -> &'static str {
        "train"
    }
    fn upstream(&self) -> &'static [Upstream] {
        UPSTREAM
    }
    fn in_place(&self) -> bool {
        true
    }
    fn output_dir(&self, ctx: &Ctx) -> PathBuf {
        ctx.layout.train_dir()
    }
    fn config_hash(&self, ctx: &Ctx) -> String {
        sections_hash(ctx, &BOOKKEEPING)
    }

    /// The checkpoint a fine-tune starts from, by content: retraining it makes this run stale.
    fn own_inputs(&self, ctx: &Ctx) -> Result<Inputs> {
        Ok(match &ctx.cfg.train.init_from {
            Some(path) => Inputs::from([("init_from".to_string(), checkpoint_content(path))]),
            None => Inputs::new(),
        })
    }

    fn run(&self, ctx: &Ctx, job: &Job) -> Result<StageOutput> {
        let model = ctx.model();
        let (train_songs, valid_songs) =
            loader::split_songs(ctx.layout.tokens_dir(), model.vocab_size)?;
        // A checkpoint resumes only into the run that made it: same sections, inputs and shape.
        // `max_minutes` is left out: raising it makes the stage stale and the rerun continues.
        let key = format!(
            "{}|{}|{}",
            sections_hash(ctx, &[BOOKKEEPING.as_slice(), &["max_minutes"]].concat()),
            serde_json::to_string(job.inputs)?,
            serde_json::to_string(&model)?
        );
        let spec = TrainSpec {
            model,
            train: ctx.cfg.train.clone(),
            seed: ctx.cfg.run.seed,
            resume_key: crate::hash::sha256_hex(key.as_bytes()),
            train_songs: &train_songs,
            valid_songs: &valid_songs,
            transposer: crate::remi::transpose,
            tempo_shifter: crate::remi::shift_tempo,
            out_dir: job.out.to_path_buf(),
            // The runner hands us the output folder itself: checkpoints there survive a crash.
            resume_dirs: vec![],
            force: job.force,
            session_steps: None,
            inject_overflow: None,
            progress: true,
        };
        let r = train_on_configured_backend(&spec)?;
        let mut counts = Counts::from([
            ("steps".into(), r.step.into()),
            ("planned_steps".into(), r.planned_steps.into()),
            (
                "stopped_by".into(),
                if r.time_capped() {
                    "train.max_minutes"
                } else if r.plan.is_some() {
                    "train.budget_minutes"
                } else {
                    "train.max_steps"
                }
                .into(),
            ),
            ("tokens_seen".into(), r.tokens_seen.into()),
            ("train_songs".into(), train_songs.len().into()),
            ("valid_songs".into(), valid_songs.len().into()),
            ("train_loss".into(), json!(r.train_loss)),
            ("valid_loss".into(), json!(r.valid_loss)),
            ("unigram_entropy".into(), json!(r.unigram_entropy)),
            ("tokens_per_sec".into(), json!(r.tokens_per_sec)),
            ("monitor_seconds".into(), json!(r.monitor_secs)),
        ]);
        if let Some(p) = r.plan {
            counts.insert("planned_tokens_per_sec".into(), json!(p.tokens_per_sec));
        }
        Ok(StageOutput {
            counts,
            fingerprint: Checkpoint::resolve(&r.checkpoint)?.fingerprint()?,
            summary: r.summary(),
        })
    }
}
