//! `pipeline bench evaluate`: time reading and scoring every MIDI file of a folder (no tables
//! written), for comparison with scripts/bench_evaluate.py.

use anyhow::{Result, bail};
use polars::prelude::{CsvWriter, SerWriter};
use std::path::Path;
use std::time::Instant;

use super::inputs::folder_jobs;
use super::pieces::{EXTERNAL_TASK, Group, PieceRow, pieces_frame};
use super::run::score_all;

/// What one bench run measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub files: usize,
    pub errors: usize,
    /// Wall time of listing, reading and scoring.
    pub seconds: f64,
    pub threads: usize,
    pub rows: Vec<PieceRow>,
}

impl BenchReport {
    pub fn files_per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.files as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// `rust: files=N errors=N seconds=S files_per_s=R threads=T` (parsed by the bench script).
    pub fn line(&self) -> String {
        format!(
            "rust: files={} errors={} seconds={:.3} files_per_s={:.1} threads={}",
            self.files,
            self.errors,
            self.seconds,
            self.files_per_s(),
            self.threads
        )
    }

    /// piece, h1, h4, gs, n_notes, error as CSV, for the cross-check against Python.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let rows: Vec<&PieceRow> = self.rows.iter().collect();
        let mut df =
            pieces_frame(&rows)?.select(["piece", "h1", "h4", "gs", "n_notes", "error"])?;
        let file = std::fs::File::create(path)?;
        CsvWriter::new(file).include_header(true).finish(&mut df)?;
        Ok(())
    }
}

/// Read and score every `.mid`/`.midi` under `dir` with rayon's thread pool.
pub fn bench_evaluate(dir: &Path) -> Result<BenchReport> {
    let start = Instant::now();
    let jobs = folder_jobs(dir, &Group::new(EXTERNAL_TASK, "bench"))?;
    if jobs.is_empty() {
        bail!("no .mid or .midi files under {}", dir.display());
    }
    let rows = score_all(&jobs);
    let seconds = start.elapsed().as_secs_f64();
    Ok(BenchReport {
        files: rows.len(),
        errors: rows.iter().filter(|r| r.metrics.is_err()).count(),
        seconds,
        threads: rayon::current_num_threads(),
        rows,
    })
}
