//! H1, H4, GS and per-piece statistics; the evaluate tables; queries and the report plot.
//!
//! - [`score`]: the metric definitions on a note list.
//! - [`pieces`], [`summary`], [`store`]: the tables and the metrics folder on disk.
//! - [`inputs`], [`run`]: what gets scored, in parallel, and the evaluate entry points.
//! - [`query`], [`report`]: `pipeline query` and `pipeline report`.
//! - [`bench`]: `pipeline bench evaluate` against a plain-Python peer.
//!
//! On disk (`<run_dir>/metrics/`, replaced as a whole on each write):
//! - `pieces/task=T/sampler=S/part-0.parquet`: one row per file (piece, file, h1, h4, gs,
//!   n_bars, n_notes, notes_per_bar, pitch_range, mean_velocity, mean_duration_beats,
//!   empty_bar_share, error). `task`/`sampler` live only in the folder names (a hive scan adds
//!   them). Undefined values (no pair of bars for GS, ...) and the metrics of unreadable files
//!   are null; `error` says why a file could not be read.
//! - Groups: generated pieces (task and sampler from `generated/task=…/sampler=…/`, piece = file
//!   stem), `reference/real` (the real songs of `evaluate.reference_split`, piece = song id) and
//!   `external/<label>` (`pipeline evaluate --midi-dir`, piece = relative path).
//! - `summary.parquet`: per group n, errors, mean/std of H1/H4/GS, |Δ mean| to the reference,
//!   distance and rank (see [`summary`]).

pub mod bench;
pub mod inputs;
pub mod pieces;
pub mod query;
pub mod report;
pub mod run;
pub mod score;
pub mod store;
pub mod summary;

pub use pieces::{Group, PieceJob, PieceRow};
pub use query::{OutputFormat, format_frame, query, write_result};
pub use report::report;
pub use run::{EvaluateOutcome, evaluate_dir, evaluate_run, metrics_dir};
pub use score::{PieceMetrics, piece_metrics};
pub use summary::{SummaryRow, summarize};

use serde::{Deserialize, Serialize};

/// `[evaluate]` section of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateConfig {
    /// The token-shard split whose songs are the real reference rows (train, valid or test).
    #[serde(default = "default_reference_split")]
    pub reference_split: String,
}

fn default_reference_split() -> String {
    "test".into()
}

impl Default for EvaluateConfig {
    fn default() -> Self {
        EvaluateConfig {
            reference_split: default_reference_split(),
        }
    }
}

impl EvaluateConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::config::check(
            crate::shards::Split::parse(&self.reference_split).is_some(),
            "evaluate.reference_split",
            format!(
                "is {:?}: must be train, valid or test",
                self.reference_split
            ),
        )
    }
}
