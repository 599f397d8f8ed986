//! report: one static listening page per run (`crate::report`).

use anyhow::Result;
use std::path::{Path, PathBuf};

use super::{Ctx, config_hash};
use crate::audio::AudioConfig;
use crate::config::RunConfig;
use crate::fsio::AtomicDir;
use crate::model::ModelConfig;
use crate::pipeline::{Counts, Inputs, Job, Manifest, Stage, StageOutput, Upstream};
use crate::report::{INDEX, REFERENCE_CARDS, ReportStats, Sources, TrainRun, write_report};

pub struct Report;

/// Bumped when the page's layout changes, so old pages go stale.
const PAGE_VERSION: &str = "report-page-5";

/// The page shows the run's paths and the model section, and renders the reference excerpts
/// with the SoundFont; everything else reaches it through the upstream fingerprints.
#[derive(serde::Serialize)]
struct Sections<'a> {
    page: &'a str,
    run: &'a RunConfig,
    model: &'a ModelConfig,
    audio: &'a AudioConfig,
}

/// The stages whose outputs this one reads.
const UPSTREAM: &[Upstream] = &[
    Upstream::required("tokenize"),
    Upstream::required("train"),
    Upstream::required("generate"),
    Upstream::required("evaluate"),
];

impl Stage<Ctx> for Report {
    fn name(&self) -> &'static str {
        "report"
    }
    fn upstream(&self) -> &'static [Upstream] {
        UPSTREAM
    }
    fn output_dir(&self, ctx: &Ctx) -> PathBuf {
        ctx.layout.report_dir()
    }
    fn config_hash(&self, ctx: &Ctx) -> String {
        let c = &ctx.cfg;
        config_hash(&Sections {
            page: PAGE_VERSION,
            run: &c.run,
            model: &c.model,
            audio: &c.audio,
        })
    }
    /// `pipeline evaluate --midi-dir` adds rows outside the runner: the tables decide too.
    fn own_inputs(&self, ctx: &Ctx) -> Result<Inputs> {
        let tables = crate::metrics::store::tables_fingerprint(&ctx.layout.metrics_dir())?;
        Ok(Inputs::from([("metrics_tables".to_string(), tables)]))
    }

    fn run(&self, ctx: &Ctx, job: &Job) -> Result<StageOutput> {
        let dir = AtomicDir::new(job.out)?;
        let stats = write_page(ctx, dir.path(), REFERENCE_CARDS)?;
        let fingerprint = crate::hash::tree_fingerprint(dir.path())?;
        dir.commit()?;
        let counts = Counts::from([
            ("cards".into(), stats.cards.into()),
            ("with_wav".into(), stats.with_wav.into()),
            ("reference".into(), stats.reference.into()),
            ("unscored".into(), stats.unscored.into()),
        ]);
        Ok(StageOutput {
            counts,
            fingerprint,
            summary: stats.line(&job.out.join(INDEX)),
        })
    }
}

/// Writes the run's listening page into `out` (with at most `max_reference` real songs).
pub fn write_page(ctx: &Ctx, out: &Path, max_reference: usize) -> Result<ReportStats> {
    let l = &ctx.layout;
    let (train_dir, generated, metrics) = (l.train_dir(), l.generated_dir(), l.metrics_dir());
    let train = match Manifest::read(&train_dir) {
        Ok(m) => Ok(m.map(|m| TrainRun {
            counts: serde_json::json!(m.counts),
            wall_seconds: m.wall_seconds,
            demo_data: m.demo_data,
        })),
        Err(e) => Err(format!("{e:#}")),
    };
    let src = Sources {
        run_name: &ctx.cfg.run.name,
        split: ctx.cfg.run.split(),
        train_dir: &train_dir,
        generated_dir: &generated,
        metrics_dir: &metrics,
        tokens_dir: l.tokens_dir(),
        raw_dir: l.raw_dir(),
        model: &ctx.model(),
        audio: &ctx.cfg.audio,
        train,
    };
    write_report(&src, out, max_reference)
}
