//! Scoring many files (rayon, a progress bar, warnings for unreadable files) and the two entry
//! points: the evaluate stage's work ([`evaluate_run`]) and `pipeline evaluate --midi-dir`
//! ([`evaluate_dir`]).

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

use super::inputs::{folder_jobs, generated_jobs, reference_jobs};
use super::pieces::{EXTERNAL_TASK, Group, PieceJob, PieceRow, check_label, score_job};
use super::store::{read_pieces, write_tables};
use super::summary::SummaryRow;
use crate::config::Config;
use crate::shards::Split;

/// What one evaluation did.
#[derive(Debug, Clone)]
pub struct EvaluateOutcome {
    /// Files scored in this call (reference and generated, or the external folder).
    pub files: usize,
    pub errors: usize,
    pub seconds: f64,
    /// The summary table as written (all groups in the metrics folder).
    pub summary: Vec<SummaryRow>,
}

impl EvaluateOutcome {
    /// The one-line summary printed at the end (the runner prefixes the stage name).
    pub fn line(&self) -> String {
        let rate = if self.seconds > 0.0 {
            self.files as f64 / self.seconds
        } else {
            0.0
        };
        format!(
            "{} files, {} errors, {} groups, {:.2} s, {:.0} files/s",
            self.files,
            self.errors,
            self.summary.len(),
            self.seconds,
            rate
        )
    }
}

/// Score files in parallel, in job order. Unreadable files give a row with the error and a
/// warning on stderr; they never stop the run.
pub fn score_all(jobs: &[PieceJob]) -> Vec<PieceRow> {
    let bar = ProgressBar::new(jobs.len() as u64);
    if let Ok(style) =
        ProgressStyle::with_template("evaluate {bar:30} {pos}/{len} files {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    let rows: Vec<PieceRow> = jobs
        .par_iter()
        .map(|job| {
            let row = score_job(job);
            if let Err(e) = &row.metrics {
                bar.suspend(|| {
                    eprintln!(
                        "warning: {}: {e} (recorded in the error column)",
                        job.path.display()
                    )
                });
            }
            bar.inc(1);
            row
        })
        .collect();
    bar.finish_and_clear();
    rows
}

/// `<run_dir>/metrics`.
pub fn metrics_dir(cfg: &Config) -> std::path::PathBuf {
    cfg.run_dir().join("metrics")
}

/// `<run_dir>/generated`.
pub fn generated_dir(cfg: &Config) -> std::path::PathBuf {
    cfg.run_dir().join("generated")
}

/// The evaluate stage's work: score the generated pieces and the real reference split, and
/// write the tables into `out` (normally [`metrics_dir`]). Rows of external folders already
/// in `out` (task=external) are kept, so they stay comparable after a rerun.
pub fn evaluate_run(cfg: &Config, out: &Path) -> Result<EvaluateOutcome> {
    let start = Instant::now();
    let split = cfg.evaluate.split()?;
    let songs = crate::shards::read_shards(&cfg.tokens_dir())
        .with_context(|| format!("cannot read token shards in {}", cfg.tokens_dir().display()))?;
    let mut jobs = reference_jobs(&songs, split, &cfg.run.raw_dir);
    jobs.extend(generated_jobs(&generated_dir(cfg))?);
    let mut rows = score_all(&jobs);
    let files = rows.len();
    let errors = rows.iter().filter(|r| r.metrics.is_err()).count();
    let kept = read_pieces(out)
        .with_context(|| format!("cannot read the previous tables in {}", out.display()))?
        .into_iter()
        .filter(|r| r.group.task == EXTERNAL_TASK);
    rows.extend(kept);
    let summary = write_tables(out, &rows)?;
    Ok(EvaluateOutcome {
        files,
        errors,
        seconds: start.elapsed().as_secs_f64(),
        summary,
    })
}

/// `pipeline evaluate --midi-dir DIR --label NAME`: score every `.mid`/`.midi` under `midi_dir`
/// (at any depth) as task=external, sampler=`label`, into the run's metrics folder beside the
/// rows already there (a previous `external/label` partition is replaced), and recompute the
/// summary over all groups, so the folder ranks against the reference and the samplers.
/// Holds the stage's lock meanwhile, so it never races `pipeline run evaluate`.
pub fn evaluate_dir(cfg: &Config, midi_dir: &Path, label: &str) -> Result<EvaluateOutcome> {
    let out = metrics_dir(cfg);
    let _lock = crate::pipeline::lock::Lock::acquire(&out)?;
    evaluate_dir_into(&out, midi_dir, label)
}

/// [`evaluate_dir`] with an explicit metrics folder.
pub fn evaluate_dir_into(metrics: &Path, midi_dir: &Path, label: &str) -> Result<EvaluateOutcome> {
    let start = Instant::now();
    check_label("label", label)?;
    if !midi_dir.is_dir() {
        bail!("{} is not a folder", midi_dir.display());
    }
    let group = Group::new(EXTERNAL_TASK, label);
    let jobs = folder_jobs(midi_dir, &group)?;
    if jobs.is_empty() {
        bail!("no .mid or .midi files under {}", midi_dir.display());
    }
    let mut rows = score_all(&jobs);
    let files = rows.len();
    let errors = rows.iter().filter(|r| r.metrics.is_err()).count();
    let kept = read_pieces(metrics)
        .with_context(|| format!("cannot read the previous tables in {}", metrics.display()))?
        .into_iter()
        .filter(|r| r.group != group);
    rows.extend(kept);
    let summary = write_tables(metrics, &rows)?;
    Ok(EvaluateOutcome {
        files,
        errors,
        seconds: start.elapsed().as_secs_f64(),
        summary,
    })
}

impl crate::metrics::EvaluateConfig {
    /// The split that serves as the reference.
    pub fn split(&self) -> Result<Split> {
        Split::parse(&self.reference_split).with_context(|| {
            format!(
                "`evaluate.reference_split` = {:?}: expected train, valid or test",
                self.reference_split
            )
        })
    }
}
