//! H1, H4, GS and per-piece statistics; the evaluate tables; queries and the report plot.
//!
//! - [`score`]: the metric definitions on a note list.
//! - [`pieces`], [`summary`], [`store`]: the tables and the metrics folder on disk.
//! - [`inputs`], [`evaluate`]: what gets scored, in parallel, and the two evaluations.
//! - [`query`], [`plot`]: `pipeline query`, and the summary printout and H4/GS plot of
//!   `pipeline report`.
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

pub mod evaluate;
pub mod inputs;
pub mod pieces;
pub mod plot;
pub mod query;
pub mod score;
pub mod store;
pub mod summary;

pub use evaluate::{EvaluateOutcome, RunInputs, evaluate_dir, evaluate_run, score_all};
pub use pieces::{Group, PieceJob, ScoredPiece};
pub use query::{OutputFormat, format_frame, query, write_result};
pub use score::{PieceMetrics, piece_metrics};
pub use summary::{SummaryRow, summarize};

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
    /// The split that serves as the reference.
    pub fn split(&self) -> Result<Split> {
        Split::parse(&self.reference_split).with_context(|| {
            format!(
                "`evaluate.reference_split` = {:?}: expected train, valid or test",
                self.reference_split
            )
        })
    }

    pub fn validate(&self) -> Result<()> {
        crate::check::check(
            Split::parse(&self.reference_split).is_some(),
            "evaluate.reference_split",
            format!(
                "is {:?}: must be train, valid or test",
                self.reference_split
            ),
        )
    }
}
