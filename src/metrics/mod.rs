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

mod compare;
pub mod evaluate;
pub mod inputs;
pub mod pieces;
pub mod plot;
pub mod query;
pub mod resample;
pub mod stats;
pub mod store;
pub mod summary;
pub mod summary_frame;
pub mod table;

pub use evaluate::{EvaluateOutcome, RunInputs, Scoring, evaluate_dir, evaluate_run, score_all};
pub use pieces::{Group, PieceJob, Scope, ScopeBars, ScoredPiece};
pub use query::{OutputFormat, format_frame, query, write_result};
pub use summary::{MetricSummary, SummaryOptions, SummaryRow, summarize};

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// `[evaluate]` section of the config (the split it reports on is `run.split`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateConfig {
    /// Bootstrap resamples behind every interval of the summary.
    #[serde(default = "default_resamples")]
    pub resamples: usize,
}

fn default_resamples() -> usize {
    2000
}

impl Default for EvaluateConfig {
    fn default() -> Self {
        EvaluateConfig {
            resamples: default_resamples(),
        }
    }
}

impl EvaluateConfig {
    /// The summary's options with the run's seed.
    pub fn summary_options(&self, seed: u64) -> SummaryOptions {
        SummaryOptions {
            seed,
            resamples: self.resamples,
        }
    }

    pub fn validate(&self) -> Result<()> {
        crate::check::check(
            (100..=1_000_000).contains(&self.resamples),
            "evaluate.resamples",
            format!("is {}: must be between 100 and 1000000", self.resamples),
        )
    }
}
