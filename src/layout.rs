//! Where every stage's outputs live: the one place that spells out the folders of a run.
//!
//! ```text
//! <raw_dir>/                       the corpus (input)
//! <tokens_dir>/<vocab>/            tokenize: shards, rejects.parquet, vocab.json
//! <artifacts_dir>/<run>/train/     train: checkpoints/, tensorboard/
//! <artifacts_dir>/<run>/generated/ generate: task=…/sampler=…/
//! <artifacts_dir>/<run>/metrics/   evaluate: pieces/, summary.parquet
//! <artifacts_dir>/<run>/report/    report: index.html
//! ```
//! Each of those folders ends with the stage's manifest.json.

use std::path::{Path, PathBuf};

use crate::config::Config;

/// The folders of one run, built from its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLayout {
    raw: PathBuf,
    tokens: PathBuf,
    run: PathBuf,
}

impl RunLayout {
    pub fn new(cfg: &Config) -> RunLayout {
        RunLayout {
            raw: cfg.run.raw_dir.clone(),
            tokens: cfg.run.tokens_dir.join(&cfg.tokenize.vocab),
            run: cfg.run.artifacts_dir.join(&cfg.run.name),
        }
    }

    /// The input corpus.
    pub fn raw_dir(&self) -> &Path {
        &self.raw
    }

    /// tokenize's output: `<tokens_dir>/<vocab>`.
    pub fn tokens_dir(&self) -> &Path {
        &self.tokens
    }

    /// `<artifacts_dir>`: every run's folder.
    pub fn artifacts_dir(&self) -> &Path {
        self.run.parent().unwrap_or(Path::new("."))
    }

    /// `<artifacts_dir>/<run>`.
    pub fn run_dir(&self) -> &Path {
        &self.run
    }

    /// train's output: checkpoints and TensorBoard scalars.
    pub fn train_dir(&self) -> PathBuf {
        self.run.join("train")
    }

    /// generate's output: the artifact store.
    pub fn generated_dir(&self) -> PathBuf {
        self.run.join("generated")
    }

    /// evaluate's output: the metrics tables.
    pub fn metrics_dir(&self) -> PathBuf {
        self.run.join("metrics")
    }

    /// report's output: the listening page.
    pub fn report_dir(&self) -> PathBuf {
        self.run.join("report")
    }
}
