//! The report stage: one static HTML page per run (artifacts/<run>/report/index.html).

use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::pipeline::atomic::AtomicDir;
use crate::pipeline::manifest::upstream_fingerprint;
use crate::pipeline::stage::{Counts, Stage, StageCtx, StageOutput};
use crate::report;

pub struct Report;

/// Bumped when the page's layout changes, so old pages go stale.
const PAGE_VERSION: &str = "report-page-5";

/// The upstream stages whose outputs the page shows.
const UPSTREAM: [&str; 4] = ["tokenize", "train", "generate", "evaluate"];

impl Stage for Report {
    fn name(&self) -> &'static str {
        "report"
    }

    fn config_hash(&self, cfg: &Config) -> String {
        // The page shows the run's paths and the model section; everything else reaches it
        // through the upstream fingerprints.
        let parts = [
            PAGE_VERSION.to_string(),
            Config::section_hash(&cfg.run),
            Config::section_hash(&cfg.model),
            // The SoundFont renders the reference excerpts.
            Config::section_hash(&cfg.audio),
        ];
        crate::hash::sha256_hex(parts.join(",").as_bytes())
    }

    fn output_dir(&self, cfg: &Config) -> PathBuf {
        report::report_dir(cfg)
    }

    fn inputs(&self, cfg: &Config) -> Result<BTreeMap<String, String>> {
        let mut inputs = UPSTREAM
            .iter()
            .map(|s| Ok((s.to_string(), upstream_fingerprint(cfg, s)?)))
            .collect::<Result<BTreeMap<_, _>>>()?;
        // `pipeline evaluate --midi-dir` adds rows outside the runner: the tables themselves
        // decide too.
        let tables = crate::metrics::store::tables_fingerprint(&crate::metrics::metrics_dir(cfg))?;
        inputs.insert("metrics_tables".into(), tables);
        Ok(inputs)
    }

    fn run(&self, ctx: &StageCtx, out: &Path) -> Result<StageOutput> {
        let dir = AtomicDir::new(out)?;
        let stats = report::write_report(ctx.cfg, dir.path(), report::REFERENCE_CARDS)?;
        let fingerprint = crate::hash::tree_fingerprint(dir.path())?;
        dir.commit()?;
        let mut counts = Counts::new();
        counts.insert("cards".into(), stats.cards.into());
        counts.insert("with_wav".into(), stats.with_wav.into());
        counts.insert("reference".into(), stats.reference.into());
        counts.insert("unscored".into(), stats.unscored.into());
        let summary = format!(
            "{} pieces ({} with audio), {} reference songs; open {}",
            stats.cards,
            stats.with_wav,
            stats.reference,
            out.join(report::INDEX).display()
        );
        Ok(StageOutput {
            counts,
            fingerprint,
            summary,
        })
    }
}
