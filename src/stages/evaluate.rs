//! evaluate: the generated pieces and the real reference split -> metrics tables
//! (`crate::metrics`).

use anyhow::{Result, bail};
use std::path::PathBuf;

use super::{Ctx, config_hash};
use crate::metrics::inputs::generated_fingerprint;
use crate::metrics::store::tables_fingerprint;
use crate::metrics::{EvaluateConfig, RunInputs, ScopeBars, evaluate_run};
use crate::pipeline::{Counts, Inputs, Job, Stage, StageOutput, Upstream};

pub struct Evaluate;

#[derive(serde::Serialize)]
struct Sections<'a> {
    evaluate: &'a EvaluateConfig,
    /// Seeds the bootstrap.
    seed: u64,
    /// The reference songs are re-read from here.
    raw_dir: &'a std::path::Path,
    /// The split of the reference songs.
    split: &'a str,
    /// The lengths the pieces are compared at.
    bars: ScopeBars,
    /// How many training songs make the real-music row.
    real_train: usize,
}

/// The lengths of the generated pieces: every comparison is made at them.
pub fn scope_bars(cfg: &crate::config::Config) -> ScopeBars {
    ScopeBars {
        excerpt: cfg.generate.unconditional_bars,
        continuation: cfg.generate.continuation_bars,
    }
}

/// Whether any partition under `generated` was written by the generate stage.
fn written_by_generate(generated: &std::path::Path) -> bool {
    crate::hash::tree_files(generated).is_ok_and(|files| {
        files.iter().any(|f| {
            f.file_name()
                .is_some_and(|n| n == crate::samples::FINGERPRINT_FILE)
        })
    })
}

/// The stages whose outputs this one reads.
const UPSTREAM: &[Upstream] = &[
    Upstream::required("tokenize"),
    Upstream::optional("generate"),
];

impl Stage<Ctx> for Evaluate {
    fn name(&self) -> &'static str {
        "evaluate"
    }
    /// The tokenize manifest names the reference songs; without a finished generate stage the
    /// reference rows are scored alone.
    fn upstream(&self) -> &'static [Upstream] {
        UPSTREAM
    }
    fn output_dir(&self, ctx: &Ctx) -> PathBuf {
        ctx.layout.metrics_dir()
    }
    fn config_hash(&self, ctx: &Ctx) -> String {
        config_hash(&Sections {
            evaluate: &ctx.cfg.evaluate,
            seed: ctx.cfg.run.seed,
            raw_dir: ctx.layout.raw_dir(),
            split: &ctx.cfg.run.split,
            bars: scope_bars(&ctx.cfg),
            real_train: ctx.cfg.generate.pieces_per_sampler,
        })
    }
    /// The generated MIDI files themselves (paths and contents): pieces added or edited by
    /// hand count too.
    fn own_inputs(&self, ctx: &Ctx) -> Result<Inputs> {
        let generated = generated_fingerprint(&ctx.layout.generated_dir())?;
        Ok(Inputs::from([("generated".to_string(), generated)]))
    }

    fn run(&self, ctx: &Ctx, job: &Job) -> Result<StageOutput> {
        let generated = ctx.layout.generated_dir();
        // Partitions that generate wrote (their fingerprint.txt) without a finished generate
        // are a store being rewritten, or a killed run's; pieces put there by hand are scored.
        if !job.inputs.contains_key("generate") && written_by_generate(&generated) {
            bail!(
                "{} holds pieces but no finished generate output (a generate run was interrupted): \
                 run `pipeline run generate` first, or score a folder of your own with \
                 `pipeline evaluate --midi-dir`",
                generated.display()
            );
        }
        let inputs = RunInputs {
            tokens_dir: ctx.layout.tokens_dir(),
            raw_dir: ctx.layout.raw_dir(),
            generated_dir: &generated,
            reference_split: ctx.cfg.run.split(),
            real_train: ctx.cfg.generate.pieces_per_sampler,
            bars: scope_bars(&ctx.cfg),
            summary: ctx.cfg.evaluate.summary_options(ctx.cfg.run.seed),
        };
        let outcome = evaluate_run(&inputs, job.out)?;
        let counts = Counts::from([
            ("files".into(), outcome.files.into()),
            ("errors".into(), outcome.errors.into()),
            ("groups".into(), outcome.summary.len().into()),
        ]);
        Ok(StageOutput {
            counts,
            fingerprint: tables_fingerprint(job.out)?,
            summary: outcome.line(),
        })
    }
}
