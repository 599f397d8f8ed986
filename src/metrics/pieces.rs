//! The per-piece table: one [`ScoredPiece`] per scored MIDI file and scope, and its Parquet
//! form.
//!
//! On disk the table is hive-partitioned, `pieces/task=T/sampler=S/part-0.parquet`, and the
//! files do NOT hold `task` and `sampler` columns: the folder names carry them, so a hive scan
//! (Polars, DuckDB, Spark) adds them without a duplicate-column conflict.

use anyhow::{Context, Result, bail};
use polars::prelude::{Column, DataFrame, ParquetWriter};
use std::path::Path;

use crate::features::{Feature, Features, features_of_bars};

/// Which group a piece belongs to: a generation task and sampler, or a real reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Group {
    pub task: String,
    pub sampler: String,
}

impl Group {
    pub fn new(task: impl Into<String>, sampler: impl Into<String>) -> Self {
        Group {
            task: task.into(),
            sampler: sampler.into(),
        }
    }

    /// The real songs of the reference split.
    pub fn reference() -> Self {
        Group::new(REFERENCE_TASK, REAL_SAMPLER)
    }

    /// The real continuations of the continuation prompts (written by generate).
    pub fn real_continuation() -> Self {
        Group::new(CONTINUATION_TASK, REAL_SAMPLER)
    }

    /// Real training songs, as many as a row has pieces, compared like a generated row: what
    /// "indistinguishable from the reference" scores at that number of pieces.
    pub fn real_train() -> Self {
        Group::new(REFERENCE_TASK, TRAIN_SAMPLER)
    }

    /// Real music that other groups are compared with.
    pub fn is_reference(&self) -> bool {
        self.sampler == REAL_SAMPLER
            && (self.task == REFERENCE_TASK || self.task == CONTINUATION_TASK)
    }

    /// The scopes the summary compares this group in, the first one being the one a piece is
    /// shown in: continuations on their generated bars; everything else on its first W bars
    /// (the length of an unconditional piece); the real songs and external folders also whole.
    pub fn compared_scopes(&self) -> &'static [Scope] {
        if self.task == CONTINUATION_TASK {
            &[Scope::Continuation]
        } else if self.task == EXTERNAL_TASK || *self == Group::reference() {
            &[Scope::Excerpt, Scope::Piece]
        } else {
            &[Scope::Excerpt]
        }
    }

    /// The scopes a file of this group is scored in: always whole, and in its compared scopes.
    pub fn scored_scopes(&self) -> Vec<Scope> {
        let mut scopes = vec![Scope::Piece];
        scopes.extend(
            self.compared_scopes()
                .iter()
                .filter(|s| **s != Scope::Piece),
        );
        scopes
    }
}

pub const REFERENCE_TASK: &str = "reference";
/// The sampler name of the real training songs in [`Group::real_train`].
pub const TRAIN_SAMPLER: &str = "train";
/// The sampler name of real music: the reference songs, and the real continuations.
pub use crate::samples::REAL_SAMPLER;
/// The task whose pieces continue a prompt.
pub const CONTINUATION_TASK: &str = "continuation";
/// Task name of folders scored with `pipeline evaluate --midi-dir`.
pub const EXTERNAL_TASK: &str = "external";

/// A task or sampler name must be a safe single hive path component.
pub fn check_label(what: &str, name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '=' | '%' | '*') || c.is_control());
    if bad {
        bail!("{what} name {name:?} cannot be a partition folder: use no '/', '\\', '=', '%', '*'");
    }
    Ok(())
}

/// What part of a piece was scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// The first W bars: a piece cut to an unconditional piece's length.
    Excerpt,
    /// The bars from `start_bar` on, re-based to bar 0: what a continuation adds to its prompt.
    Continuation,
    /// The whole file.
    Piece,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Piece => "piece",
            Scope::Continuation => "continuation",
            Scope::Excerpt => "excerpt",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "piece" => Some(Scope::Piece),
            "continuation" => Some(Scope::Continuation),
            "excerpt" => Some(Scope::Excerpt),
            _ => None,
        }
    }

    /// The group a row in this scope is compared with.
    pub fn reference(self) -> Group {
        match self {
            Scope::Continuation => Group::real_continuation(),
            Scope::Piece | Scope::Excerpt => Group::reference(),
        }
    }
}

/// How many bars the cut scopes cover: the generated lengths, so that every comparison is made
/// at equal length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ScopeBars {
    /// Bars of an excerpt (`generate.unconditional_bars`).
    pub excerpt: u32,
    /// Bars of a continuation after its prompt (`generate.continuation_bars`).
    pub continuation: u32,
}

impl ScopeBars {
    /// The bars `scope` covers; `None` for the whole piece.
    pub fn of(self, scope: Scope) -> Option<u32> {
        match scope {
            Scope::Piece => None,
            Scope::Continuation => Some(self.continuation),
            Scope::Excerpt => Some(self.excerpt),
        }
    }
}

/// One scored file in one scope; `metrics` is the reason when it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPiece {
    pub group: Group,
    /// The path relative to the scanned folder, without extension (`000`, `src_001/12`).
    pub piece: String,
    pub file: String,
    pub scope: Scope,
    /// The bars the scope covers (`None`: the whole piece).
    pub bars: Option<u32>,
    /// The bar where generated music starts (after a prompt), when known.
    pub start_bar: Option<u32>,
    /// The continuation's prompt (samples.parquet's prompt_source): pairs a generated
    /// continuation with the real one of the same prompt.
    pub prompt: Option<String>,
    pub metrics: std::result::Result<Features, String>,
}

impl ScoredPiece {
    /// Whether the summary compares this row ([`Group::compared_scopes`]).
    pub fn is_compared(&self) -> bool {
        self.group.compared_scopes().contains(&self.scope)
    }

    /// Whether this is the row a piece is shown by (its group's first compared scope).
    pub fn is_shown(&self) -> bool {
        self.group.compared_scopes().first() == Some(&self.scope)
    }
}

/// One MIDI file to score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PieceJob {
    pub group: Group,
    pub piece: String,
    pub path: std::path::PathBuf,
    /// Where generated music starts (samples.parquet); a continuation is also scored from there.
    pub start_bar: Option<u32>,
    /// The prompt a continuation continues (samples.parquet).
    pub prompt: Option<String>,
}

/// Read a file from disk (as an outside evaluator would) and score it in each of its scopes
/// ([`Group::scored_scopes`]). A panic while doing so becomes the rows' error, so one file
/// never stops the evaluation.
pub fn score_job(job: &PieceJob, bars: ScopeBars) -> Vec<ScoredPiece> {
    let scopes = job.group.scored_scopes();
    let score = || -> std::result::Result<Vec<Features>, String> {
        crate::fsio::fault::file_point("evaluate:file", &job.piece).map_err(|e| e.to_string())?;
        let song = crate::midi::read_file(&job.path).map_err(|e| e.to_string())?;
        Ok(scopes
            .iter()
            .map(|&scope| {
                // A continuation without samples.parquet is scored from bar 0.
                let start = match scope {
                    Scope::Continuation => job.start_bar.unwrap_or(0),
                    Scope::Piece | Scope::Excerpt => 0,
                };
                features_of_bars(&song.notes, start, bars.of(scope))
            })
            .collect())
    };
    let scored = std::panic::catch_unwind(score).unwrap_or_else(|panic| {
        Err(format!(
            "internal error: {} (a bug: please report it)",
            crate::fsio::fault::panic_message(&*panic)
        ))
    });
    scopes
        .iter()
        .enumerate()
        .map(|(i, &scope)| ScoredPiece {
            group: job.group.clone(),
            piece: job.piece.clone(),
            file: job.path.display().to_string(),
            scope,
            bars: bars.of(scope),
            start_bar: job.start_bar,
            prompt: job.prompt.clone(),
            metrics: scored.as_ref().map(|f| f[i]).map_err(Clone::clone),
        })
        .collect()
}

/// The columns of a pieces file, in order (`task` and `sampler` come from the folders).
pub fn piece_columns() -> Vec<&'static str> {
    let mut cols = vec!["piece", "file", "scope", "bars", "start_bar", "prompt"];
    cols.extend(Feature::ALL.map(Feature::name));
    cols.push("error");
    cols
}

/// The rows of one partition as a DataFrame (no task/sampler columns). Metrics of a failed
/// file are null, and so are undefined values (NaN in [`Features`], e.g. GS of a one-bar
/// piece): SQL aggregates such as `avg(gs)` then skip them, as the summary does, instead of
/// turning NaN. Reading back gives NaN again.
pub fn pieces_frame(rows: &[&ScoredPiece]) -> Result<DataFrame> {
    let text = |name: &str, f: &dyn Fn(&ScoredPiece) -> Option<&str>| {
        Column::new(name.into(), rows.iter().map(|r| f(r)).collect::<Vec<_>>())
    };
    let mut cols = vec![
        text("piece", &|r| Some(r.piece.as_str())),
        text("file", &|r| Some(r.file.as_str())),
        text("scope", &|r| Some(r.scope.as_str())),
        Column::new(
            "bars".into(),
            rows.iter().map(|r| r.bars).collect::<Vec<_>>(),
        ),
        Column::new(
            "start_bar".into(),
            rows.iter().map(|r| r.start_bar).collect::<Vec<_>>(),
        ),
        text("prompt", &|r| r.prompt.as_deref()),
    ];
    for f in Feature::ALL {
        let values = rows.iter().map(|r| {
            r.metrics
                .as_ref()
                .ok()
                .map(|m| m[f])
                .filter(|x| !x.is_nan())
        });
        cols.push(if f.is_count() {
            Column::new(
                f.name().into(),
                values.map(|v| v.map(|x| x as u32)).collect::<Vec<_>>(),
            )
        } else {
            Column::new(f.name().into(), values.collect::<Vec<_>>())
        });
    }
    cols.push(text("error", &|r| {
        r.metrics.as_ref().err().map(String::as_str)
    }));
    Ok(DataFrame::new(rows.len(), cols)?)
}

/// Rows back from a hive scan of `pieces/` (with `task` and `sampler` columns).
pub fn rows_from_frame(df: &DataFrame) -> Result<Vec<ScoredPiece>> {
    let col = |name: &str| {
        df.column(name)
            .with_context(|| format!("pieces table has no `{name}` column"))
    };
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        Ok(col(name)?
            .str()?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    };
    let (task, sampler, piece, file, scope, prompt, error) = (
        text("task")?,
        text("sampler")?,
        text("piece")?,
        text("file")?,
        text("scope")?,
        text("prompt")?,
        text("error")?,
    );
    let start_bar: Vec<Option<u32>> = col("start_bar")?.u32()?.iter().collect();
    let bars: Vec<Option<u32>> = col("bars")?.u32()?.iter().collect();
    let values: Vec<Vec<Option<f64>>> = Feature::ALL
        .iter()
        .map(|f| -> Result<Vec<Option<f64>>> {
            let c = col(f.name())?;
            Ok(if f.is_count() {
                c.u32()?.iter().map(|v| v.map(f64::from)).collect()
            } else {
                c.f64()?.iter().collect()
            })
        })
        .collect::<Result<_>>()?;
    (0..df.height())
        .map(|i| {
            let scope = scope[i].as_deref().unwrap_or_default();
            let scope = Scope::parse(scope)
                .with_context(|| format!("pieces table: unknown scope {scope:?}"))?;
            let metrics = match &error[i] {
                Some(e) => Err(e.clone()),
                None => Ok(Features::from_values(std::array::from_fn(|k| {
                    values[k][i].unwrap_or(f64::NAN)
                }))),
            };
            Ok(ScoredPiece {
                group: Group::new(
                    task[i].clone().unwrap_or_default(),
                    sampler[i].clone().unwrap_or_default(),
                ),
                piece: piece[i].clone().unwrap_or_default(),
                file: file[i].clone().unwrap_or_default(),
                scope,
                bars: bars[i],
                start_bar: start_bar[i],
                prompt: prompt[i].clone(),
                metrics,
            })
        })
        .collect()
}

/// Write one partition file.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    ParquetWriter::new(file)
        .finish(df)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
