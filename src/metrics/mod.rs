//! The evaluate stage's tables: every piece scored with [`crate::features`], the summary with
//! intervals and overlaps, queries and the report plot.
//!
//! - [`pieces`], [`summary`], [`stats`], [`store`]: the tables, their statistics and the
//!   metrics folder on disk.
//! - [`inputs`], [`evaluate`]: what gets scored, in parallel, and the two evaluations.
//! - [`query`], [`plot`]: `pipeline query` (this run and every run), and the summary printout
//!   and H4/GS plot of `pipeline report`.
//!
//! On disk (`<run_dir>/metrics/`, replaced as a whole on each write):
//! - `pieces/task=T/sampler=S/part-0.parquet`: one row per file and scope (piece, file, scope,
//!   start_bar, every [`crate::features::Feature`], error). `task`/`sampler` live only in the
//!   folder names (a hive scan adds them). Continuations have two rows: `scope = piece` (the
//!   whole file) and `scope = continuation` (the bars from start_bar on). Undefined values and
//!   the metrics of unreadable files are null; `error` says why a file could not be read.
//! - Groups: generated pieces (task and sampler from `generated/task=…/sampler=…/`, piece = file
//!   stem; `continuation/real` holds the real continuations), `reference/real` (the real songs
//!   of `evaluate.reference_split`, piece = song id) and `external/<label>` (`pipeline evaluate
//!   --midi-dir`, piece = relative path).
//! - `summary.parquet`: one row per group and metric (see [`summary`]).

mod distance;
pub mod evaluate;
pub mod inputs;
pub mod pieces;
pub mod plot;
pub mod query;
pub mod stats;
pub mod store;
pub mod summary;
pub mod table;

pub use evaluate::{EvaluateOutcome, RunInputs, evaluate_dir, evaluate_run, score_all};
pub use pieces::{Group, PieceJob, Scope, ScoredPiece};
pub use query::{OutputFormat, format_frame, query, write_result};
pub use summary::{MetricSummary, SummaryOptions, SummaryRow, summarize};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::shards::Split;

/// `[evaluate]` section of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateConfig {
    /// The token-shard split whose songs are the real reference rows (train, valid or test).
    #[serde(default = "default_reference_split")]
    pub reference_split: String,
    /// Bootstrap resamples behind every interval of the summary.
    #[serde(default = "default_resamples")]
    pub resamples: usize,
}

fn default_resamples() -> usize {
    2000
}

fn default_reference_split() -> String {
    "test".into()
}

impl Default for EvaluateConfig {
    fn default() -> Self {
        EvaluateConfig {
            reference_split: default_reference_split(),
            resamples: default_resamples(),
        }
    }
}

impl EvaluateConfig {
    /// The split that serves as the reference.
    pub fn split(&self) -> Result<Split> {
        Split::parse(&self.reference_split).with_context(|| {
            format!(
                "`evaluate.reference_split` = {:?}: expected train, valid or test",
                self.reference_split
            )
        })
    }

    /// The summary's options with the run's seed.
    pub fn summary_options(&self, seed: u64) -> SummaryOptions {
        SummaryOptions {
            seed,
            resamples: self.resamples,
        }
    }

    pub fn validate(&self) -> Result<()> {
        use crate::check::check;
        check(
            Split::parse(&self.reference_split).is_some(),
            "evaluate.reference_split",
            format!(
                "is {:?}: must be train, valid or test",
                self.reference_split
            ),
        )?;
        check(
            (100..=1_000_000).contains(&self.resamples),
            "evaluate.resamples",
            format!("is {}: must be between 100 and 1000000", self.resamples),
        )
    }
}
