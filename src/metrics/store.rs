//! The metrics folder on disk: `pieces/task=…/sampler=…/part-0.parquet` and `summary.parquet`,
//! replaced as a whole (written into a temporary folder beside it, then renamed into place), so
//! a failure leaves the previous tables intact.

use anyhow::{Context, Result};
use polars::prelude::{
    DataType, Field, HiveOptions, LazyFrame, PlRefPath, ScanArgsParquet, Schema,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fsio::AtomicDir;

use super::pieces::{
    Group, PieceJob, ScoredPiece, check_label, pieces_frame, rows_from_frame, write_parquet,
};
use super::summary::{SummaryOptions, SummaryRow, summarize};
use super::summary_frame::summary_frame;

pub const PIECES_DIR: &str = "pieces";
pub const SUMMARY_FILE: &str = "summary.parquet";
pub const PLOT_FILE: &str = "h4_gs.svg";

/// `pieces/task=T/sampler=S/part-0.parquet` under a metrics folder.
pub fn partition_file(metrics_dir: &Path, group: &Group) -> PathBuf {
    metrics_dir
        .join(PIECES_DIR)
        .join(format!("task={}", group.task))
        .join(format!("sampler={}", group.sampler))
        .join("part-0.parquet")
}

/// A lazy hive scan of `pieces/` that adds `task` and `sampler` (always as strings).
pub fn scan_pieces(metrics_dir: &Path) -> Result<LazyFrame> {
    let dir = metrics_dir.join(PIECES_DIR);
    if !dir.is_dir() {
        anyhow::bail!(
            "no metrics at {}: run `pipeline run evaluate` first",
            dir.display()
        );
    }
    let hive_schema = Schema::from_iter([
        Field::new("task".into(), DataType::String),
        Field::new("sampler".into(), DataType::String),
    ]);
    let args = ScanArgsParquet {
        hive_options: HiveOptions {
            enabled: Some(true),
            hive_start_idx: 0,
            schema: Some(Arc::new(hive_schema)),
            try_parse_dates: false,
        },
        ..Default::default()
    };
    let path = PlRefPath::try_from_path(&dir)?;
    LazyFrame::scan_parquet(path, args).with_context(|| format!("cannot scan {}", dir.display()))
}

/// Every row of an existing metrics folder (none when it does not exist yet).
pub fn read_pieces(metrics_dir: &Path) -> Result<Vec<ScoredPiece>> {
    if !metrics_dir.join(PIECES_DIR).is_dir() {
        return Ok(Vec::new());
    }
    let df = scan_pieces(metrics_dir)?
        .collect()
        .with_context(|| format!("cannot read {}", metrics_dir.join(PIECES_DIR).display()))?;
    rows_from_frame(&df)
}

/// The files behind an existing table (one job per file), for re-scoring a table that an
/// older version wrote with other columns.
pub fn read_piece_jobs(metrics_dir: &Path) -> Result<Vec<PieceJob>> {
    use polars::prelude::cols;
    if !metrics_dir.join(PIECES_DIR).is_dir() {
        return Ok(Vec::new());
    }
    let df = scan_pieces(metrics_dir)?
        .select([cols(["task", "sampler", "piece", "file"]).as_expr()])
        .collect()
        .with_context(|| format!("cannot read {}", metrics_dir.join(PIECES_DIR).display()))?;
    let text = |name: &str| -> Result<Vec<String>> {
        Ok(df
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let (task, sampler, piece, file) = (
        text("task")?,
        text("sampler")?,
        text("piece")?,
        text("file")?,
    );
    let mut jobs: Vec<PieceJob> = (0..df.height())
        .map(|i| PieceJob {
            group: Group::new(task[i].clone(), sampler[i].clone()),
            piece: piece[i].clone(),
            path: PathBuf::from(&file[i]),
            start_bar: None,
            prompt: None,
        })
        .collect();
    jobs.sort_by(|a, b| (&a.group, &a.piece).cmp(&(&b.group, &b.piece)));
    jobs.dedup_by(|a, b| a.group == b.group && a.piece == b.piece);
    Ok(jobs)
}

/// Write the tables for `rows` as the new contents of `metrics_dir`, atomically. Plain files
/// of the old folder that the tables do not replace are carried over; the old plot is dropped
/// since it no longer matches, and so is the manifest, which the caller writes anew. Returns
/// the summary that was written.
pub fn write_tables(
    metrics_dir: &Path,
    rows: &[ScoredPiece],
    opts: &SummaryOptions,
) -> Result<Vec<SummaryRow>> {
    let tmp = AtomicDir::new(metrics_dir)?;
    let summary = fill(tmp.path(), metrics_dir, rows, opts)?;
    crate::fsio::fault::point("evaluate:before-commit")?;
    tmp.commit()?;
    Ok(summary)
}

fn fill(
    tmp: &Path,
    old: &Path,
    rows: &[ScoredPiece],
    opts: &SummaryOptions,
) -> Result<Vec<SummaryRow>> {
    std::fs::create_dir_all(tmp.join(PIECES_DIR))
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut groups: BTreeMap<&Group, Vec<&ScoredPiece>> = BTreeMap::new();
    for r in rows {
        groups.entry(&r.group).or_default().push(r);
    }
    for (group, mut part) in groups {
        check_label("task", &group.task)?;
        check_label("sampler", &group.sampler)?;
        part.sort_by(|a, b| (&a.piece, a.scope).cmp(&(&b.piece, b.scope)));
        write_parquet(&mut pieces_frame(&part)?, &partition_file(tmp, group))?;
    }
    let summary = summarize(rows, opts);
    write_parquet(&mut summary_frame(&summary)?, &tmp.join(SUMMARY_FILE))?;
    if old.is_dir() {
        for entry in
            std::fs::read_dir(old).with_context(|| format!("cannot list {}", old.display()))?
        {
            let entry = entry?;
            let file_name = entry.file_name();
            // The manifest stays behind: until the new one is written the folder is not a
            // finished output (it would describe the old tables).
            let keep = entry.file_type()?.is_file()
                && ![SUMMARY_FILE, PLOT_FILE, "manifest.json"]
                    .contains(&&*file_name.to_string_lossy());
            if keep {
                std::fs::copy(entry.path(), tmp.join(&file_name))
                    .with_context(|| format!("cannot carry over {}", entry.path().display()))?;
            }
        }
    }
    Ok(summary)
}

/// A hash of the written tables (every pieces file and the summary, with their paths), so
/// downstream readers notice when they change.
pub fn tables_fingerprint(metrics_dir: &Path) -> Result<String> {
    let mut files = crate::hash::tree_files(&metrics_dir.join(PIECES_DIR))?;
    files.push(metrics_dir.join(SUMMARY_FILE));
    files.sort();
    crate::hash::files_fingerprint(metrics_dir, &files)
}
