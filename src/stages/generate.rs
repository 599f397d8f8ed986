//! generate: a checkpoint (+ prompts from the run's split) -> generated/task=…/sampler=…/
//! (`crate::generate`).

use anyhow::Result;
use std::path::PathBuf;

use super::{Ctx, checkpoint_content, config_hash, content};
use crate::audio::AudioConfig;
use crate::generate::partition::soundfont_identity;
use crate::generate::store::store_fingerprint;
use crate::generate::{GenerateConfig, GenerateJob, generate};
use crate::pipeline::{Counts, Inputs, Job, Stage, StageOutput, Upstream};

pub struct Generate;

#[derive(serde::Serialize)]
struct Sections<'a> {
    generate: &'a GenerateConfig,
    audio: &'a AudioConfig,
    seed: u64,
    /// The split of the continuation prompts.
    split: &'a str,
}

/// The stages whose outputs this one reads.
const UPSTREAM: &[Upstream] = &[Upstream::required("train"), Upstream::required("tokenize")];

impl Stage<Ctx> for Generate {
    fn name(&self) -> &'static str {
        "generate"
    }
    fn upstream(&self) -> &'static [Upstream] {
        UPSTREAM
    }
    fn in_place(&self) -> bool {
        true
    }
    fn output_dir(&self, ctx: &Ctx) -> PathBuf {
        ctx.layout.generated_dir()
    }
    fn config_hash(&self, ctx: &Ctx) -> String {
        let c = &ctx.cfg;
        config_hash(&Sections {
            generate: &c.generate,
            audio: &c.audio,
            seed: c.run.seed,
            split: &c.run.split,
        })
    }

    /// The SoundFont itself: installed (or replaced) after a run, it makes the stage stale, and
    /// the rerun renders the missing audio without sampling again. The files of
    /// `generate.prompt_dir` and of an external `generate.checkpoint` by content, since no
    /// stage's fingerprint covers them.
    fn own_inputs(&self, ctx: &Ctx) -> Result<Inputs> {
        let g = &ctx.cfg.generate;
        let mut inputs = Inputs::from([(
            "soundfont".to_string(),
            soundfont_identity(&ctx.cfg.audio.soundfont),
        )]);
        if let Some(dir) = &g.prompt_dir {
            inputs.insert("prompt_dir".into(), content(dir));
        }
        if let Some(path) = &g.checkpoint {
            inputs.insert("checkpoint".into(), checkpoint_content(path));
        }
        Ok(inputs)
    }

    fn run(&self, ctx: &Ctx, job: &Job) -> Result<StageOutput> {
        let (g, layout) = (&ctx.cfg.generate, &ctx.layout);
        let started = std::time::Instant::now();
        // `generate.checkpoint` when set, else the newest checkpoint of this run.
        let checkpoint = g.checkpoint.clone().unwrap_or_else(|| layout.train_dir());
        let gen_job = GenerateJob {
            generate: g,
            audio: &ctx.cfg.audio,
            seed: ctx.cfg.run.seed,
            split: ctx.cfg.run.split(),
            tokens_dir: layout.tokens_dir(),
            checkpoint: &checkpoint,
        };
        let s = generate(&gen_job, job.out, job.force)?;
        let counts = Counts::from([
            ("partitions_written".into(), s.partitions_written.into()),
            (
                "partitions_rerendered".into(),
                s.partitions_rerendered.into(),
            ),
            ("partitions_skipped".into(), s.partitions_skipped.into()),
            (
                "partitions_removed".into(),
                s.partitions_removed.len().into(),
            ),
            ("pieces".into(), s.pieces.into()),
            ("tokens".into(), s.tokens.into()),
            ("audio_files".into(), s.audio_files.into()),
        ]);
        let secs = started.elapsed().as_secs_f64();
        Ok(StageOutput {
            counts,
            fingerprint: store_fingerprint(job.out, g),
            summary: s.line(secs),
        })
    }
}
