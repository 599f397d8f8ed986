//! The evaluate stage: score generated pieces and the real reference split into
//! `<run_dir>/metrics/` (see `crate::metrics`).

use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::metrics::inputs::generated_fingerprint;
use crate::metrics::run::{evaluate_run, generated_dir, metrics_dir};
use crate::metrics::store::tables_fingerprint;
use crate::pipeline::manifest::Manifest;
use crate::pipeline::stage::{Counts, Stage, StageCtx, StageOutput};

pub struct Evaluate;

impl Stage for Evaluate {
    fn name(&self) -> &'static str {
        "evaluate"
    }

    /// The `[evaluate]` section and the raw folder the reference songs are re-read from.
    fn config_hash(&self, cfg: &Config) -> String {
        let section = Config::section_hash(&cfg.evaluate);
        let raw = cfg.run.raw_dir.to_string_lossy();
        crate::hash::sha256_hex(format!("{section}\n{raw}").as_bytes())
    }

    fn output_dir(&self, cfg: &Config) -> PathBuf {
        metrics_dir(cfg)
    }

    /// The tokenize manifest (it names the reference songs) and the generated MIDI files
    /// (paths and contents); no generated folder is fine: then only reference rows are made.
    fn inputs(&self, cfg: &Config) -> Result<BTreeMap<String, String>> {
        let mut inputs = BTreeMap::new();
        inputs.insert(
            "tokenize".to_string(),
            crate::pipeline::upstream_fingerprint(cfg, "tokenize")?,
        );
        // The generate stage is optional upstream: without it evaluate scores the reference alone.
        // The file hash also catches pieces added or edited by hand.
        if let Some(m) = Manifest::read(&generated_dir(cfg))? {
            inputs.insert("generate".to_string(), m.fingerprint);
        }
        inputs.insert(
            "generated".to_string(),
            generated_fingerprint(&generated_dir(cfg))?,
        );
        Ok(inputs)
    }

    fn run(&self, ctx: &StageCtx, out: &Path) -> Result<StageOutput> {
        let outcome = evaluate_run(ctx.cfg, out)?;
        let mut counts = Counts::new();
        counts.insert("files".into(), outcome.files.into());
        counts.insert("errors".into(), outcome.errors.into());
        counts.insert("groups".into(), outcome.summary.len().into());
        Ok(StageOutput {
            counts,
            fingerprint: tables_fingerprint(out)?,
            summary: outcome.line(),
        })
    }
}
