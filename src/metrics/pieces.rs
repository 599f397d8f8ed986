//! The per-piece table: one [`ScoredPiece`] per scored MIDI file, and its Parquet form.
//!
//! On disk the table is hive-partitioned, `pieces/task=T/sampler=S/part-0.parquet`, and the
//! files do NOT hold `task` and `sampler` columns: the folder names carry them, so a hive scan
//! (Polars, DuckDB, Spark) adds them without a duplicate-column conflict.

use anyhow::{Context, Result, bail};
use polars::prelude::{DataFrame, ParquetWriter, df};
use std::path::Path;

use super::score::{PieceMetrics, piece_metrics};

/// Which group a piece belongs to: a generation task and sampler, or the real reference.
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

    /// The real test-split songs.
    pub fn reference() -> Self {
        Group::new(REFERENCE_TASK, REFERENCE_SAMPLER)
    }

    pub fn is_reference(&self) -> bool {
        self.task == REFERENCE_TASK && self.sampler == REFERENCE_SAMPLER
    }
}

pub const REFERENCE_TASK: &str = "reference";
pub const REFERENCE_SAMPLER: &str = "real";
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

/// One scored file; `metrics` is the reason when it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPiece {
    pub group: Group,
    /// The path relative to the scanned folder, without extension (`000`, `src_001/12`).
    pub piece: String,
    pub file: String,
    pub metrics: std::result::Result<PieceMetrics, String>,
}

/// One MIDI file to score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PieceJob {
    pub group: Group,
    pub piece: String,
    pub path: std::path::PathBuf,
}

/// Read a file from disk (as an outside evaluator would) and score it. A panic while doing so
/// becomes the row's error, so one file never stops the evaluation.
pub fn score_job(job: &PieceJob) -> ScoredPiece {
    let score = || -> std::result::Result<PieceMetrics, String> {
        crate::fsio::fault::file_point("evaluate:file", &job.piece).map_err(|e| e.to_string())?;
        let song = crate::midi::read_file(&job.path).map_err(|e| e.to_string())?;
        Ok(piece_metrics(&song.notes))
    };
    let metrics = std::panic::catch_unwind(score).unwrap_or_else(|panic| {
        Err(format!(
            "internal error: {} (a bug: please report it)",
            crate::fsio::fault::panic_message(&*panic)
        ))
    });
    ScoredPiece {
        group: job.group.clone(),
        piece: job.piece.clone(),
        file: job.path.display().to_string(),
        metrics,
    }
}

/// The columns of a pieces file, in order (`task` and `sampler` come from the folders).
pub const PIECE_COLUMNS: [&str; 13] = [
    "piece",
    "file",
    "h1",
    "h4",
    "gs",
    "n_bars",
    "n_notes",
    "notes_per_bar",
    "pitch_range",
    "mean_velocity",
    "mean_duration_beats",
    "empty_bar_share",
    "error",
];

/// The rows of one partition as a DataFrame (no task/sampler columns). Metrics of a failed
/// file are null, and so are undefined values (NaN in [`PieceMetrics`], e.g. GS of a one-bar
/// piece): SQL aggregates such as `avg(gs)` then skip them, as the summary does, instead of
/// turning NaN. Reading back gives NaN again.
pub fn pieces_frame(rows: &[&ScoredPiece]) -> Result<DataFrame> {
    let ok = |f: fn(&PieceMetrics) -> f64| -> Vec<Option<f64>> {
        rows.iter()
            .map(|r| r.metrics.as_ref().ok().map(f).filter(|x| !x.is_nan()))
            .collect()
    };
    let ok_u32 = |f: fn(&PieceMetrics) -> u32| -> Vec<Option<u32>> {
        rows.iter()
            .map(|r| r.metrics.as_ref().ok().map(f))
            .collect()
    };
    let piece: Vec<&str> = rows.iter().map(|r| r.piece.as_str()).collect();
    let file: Vec<&str> = rows.iter().map(|r| r.file.as_str()).collect();
    let error: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.metrics.as_ref().err().map(|e| e.as_str()))
        .collect();
    let df = df![
        "piece" => piece,
        "file" => file,
        "h1" => ok(|m| m.h1),
        "h4" => ok(|m| m.h4),
        "gs" => ok(|m| m.gs),
        "n_bars" => ok_u32(|m| m.n_bars),
        "n_notes" => ok_u32(|m| m.n_notes),
        "notes_per_bar" => ok(|m| m.notes_per_bar),
        "pitch_range" => ok_u32(|m| m.pitch_range),
        "mean_velocity" => ok(|m| m.mean_velocity),
        "mean_duration_beats" => ok(|m| m.mean_duration_beats),
        "empty_bar_share" => ok(|m| m.empty_bar_share),
        "error" => error,
    ]?;
    Ok(df)
}

/// Rows back from a hive scan of `pieces/` (with `task` and `sampler` columns).
pub fn rows_from_frame(df: &DataFrame) -> Result<Vec<ScoredPiece>> {
    let s = |name: &str| -> Result<Vec<Option<String>>> {
        let col = df
            .column(name)
            .with_context(|| format!("pieces table has no `{name}` column"))?;
        Ok(col.str()?.iter().map(|v| v.map(str::to_string)).collect())
    };
    let f = |name: &str| -> Result<Vec<Option<f64>>> {
        let col = df
            .column(name)
            .with_context(|| format!("pieces table has no `{name}` column"))?;
        Ok(col.f64()?.iter().collect())
    };
    let u = |name: &str| -> Result<Vec<Option<u32>>> {
        let col = df
            .column(name)
            .with_context(|| format!("pieces table has no `{name}` column"))?;
        Ok(col.u32()?.iter().collect())
    };
    let (task, sampler, piece, file, error) = (
        s("task")?,
        s("sampler")?,
        s("piece")?,
        s("file")?,
        s("error")?,
    );
    let (h1, h4, gs) = (f("h1")?, f("h4")?, f("gs")?);
    let (n_bars, n_notes, pitch_range) = (u("n_bars")?, u("n_notes")?, u("pitch_range")?);
    let (npb, vel, dur, empty) = (
        f("notes_per_bar")?,
        f("mean_velocity")?,
        f("mean_duration_beats")?,
        f("empty_bar_share")?,
    );
    let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
    (0..df.height())
        .map(|i| {
            let metrics = match &error[i] {
                Some(e) => Err(e.clone()),
                None => Ok(PieceMetrics {
                    h1: nan(h1[i]),
                    h4: nan(h4[i]),
                    gs: nan(gs[i]),
                    n_bars: n_bars[i].unwrap_or(0),
                    n_notes: n_notes[i].unwrap_or(0),
                    notes_per_bar: nan(npb[i]),
                    pitch_range: pitch_range[i].unwrap_or(0),
                    mean_velocity: nan(vel[i]),
                    mean_duration_beats: nan(dur[i]),
                    empty_bar_share: nan(empty[i]),
                }),
            };
            Ok(ScoredPiece {
                group: Group::new(
                    task[i].clone().unwrap_or_default(),
                    sampler[i].clone().unwrap_or_default(),
                ),
                piece: piece[i].clone().unwrap_or_default(),
                file: file[i].clone().unwrap_or_default(),
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
