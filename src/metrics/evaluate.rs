//! Scoring many files (rayon, a progress bar, warnings for unreadable files) and the two
//! evaluations: a run's generated pieces against the real reference split ([`evaluate_run`]),
//! and any folder of MIDI beside them ([`evaluate_dir`], `pipeline evaluate --midi-dir`).

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

use super::inputs::{folder_jobs, generated_jobs, real_train_jobs, reference_jobs};
use super::pieces::{
    EXTERNAL_TASK, Group, PieceJob, Scope, ScopeBars, ScoredPiece, check_label, score_job,
};
use super::store::{read_piece_jobs, read_pieces, write_tables};
use super::summary::{SummaryOptions, SummaryRow};
use crate::shards::Split;

/// What one evaluation did.
#[derive(Debug, Clone)]
pub struct EvaluateOutcome {
    /// Files scored in this call (reference and generated, or the external folder).
    pub files: usize,
    /// Seconds of the summary (bootstrap intervals and overlaps) within `seconds`.
    pub summary_seconds: f64,
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
            "{} files, {} errors, {} groups, {:.2} s ({:.2} s summary), {:.0} files/s",
            self.files,
            self.errors,
            self.summary.len(),
            self.seconds,
            self.summary_seconds,
            rate
        )
    }
}

/// Score files in parallel, in job order, each in its scopes cut to `bars`. Unreadable files
/// give a row with the error and a warning on stderr; they never stop the run.
pub fn score_all(jobs: &[PieceJob], bars: ScopeBars) -> Vec<ScoredPiece> {
    let bar = crate::progress::Bar::new(
        jobs.len() as u64,
        "evaluate {bar:30} {pos}/{len} files {per_sec} eta {eta}",
        "evaluate",
        "files",
    );
    let rows: Vec<ScoredPiece> = jobs
        .par_iter()
        .flat_map_iter(|job| {
            let rows = score_job(job, bars);
            if let Some(Err(e)) = rows.first().map(|r| &r.metrics) {
                bar.suspend(|| {
                    eprintln!(
                        "warning: {}: {e} (recorded in the error column)",
                        job.path.display()
                    )
                });
            }
            bar.inc(1);
            rows
        })
        .collect();
    bar.finish_and_clear();
    rows
}

/// What the evaluation of a run reads.
pub struct RunInputs<'a> {
    /// The token shards: which songs are in the reference split, and their source files.
    pub tokens_dir: &'a Path,
    /// The raw corpus the reference songs are re-read from.
    pub raw_dir: &'a Path,
    /// The generated store (`task=…/sampler=…/*.mid`); missing is fine: reference rows only.
    pub generated_dir: &'a Path,
    pub reference_split: Split,
    /// Training songs scored as a row of their own ([`Group::real_train`]): as many as a
    /// generated row has pieces; 0 = none.
    pub real_train: usize,
    /// The lengths every comparison is made at.
    pub bars: ScopeBars,
    pub summary: SummaryOptions,
}

/// The evaluate stage's work: score the generated pieces and the real reference split, and
/// write the tables into `out`. Rows of external folders already in `out` (task=external) are
/// kept, so they stay comparable after a rerun.
pub fn evaluate_run(inputs: &RunInputs, out: &Path) -> Result<EvaluateOutcome> {
    let start = Instant::now();
    let songs = crate::shards::read_shards(inputs.tokens_dir).with_context(|| {
        format!(
            "cannot read token shards in {}",
            inputs.tokens_dir.display()
        )
    })?;
    let mut jobs = reference_jobs(&songs, inputs.reference_split, inputs.raw_dir);
    let seed = inputs.summary.seed;
    jobs.extend(real_train_jobs(
        &songs,
        inputs.real_train,
        seed,
        inputs.raw_dir,
    ));
    jobs.extend(generated_jobs(inputs.generated_dir)?);
    let scoring = Scoring {
        bars: inputs.bars,
        summary: inputs.summary,
    };
    score_into(out, &jobs, |g| g.task == EXTERNAL_TASK, &scoring, start)
}

/// How every file of an evaluation is scored and summarised.
#[derive(Debug, Clone, Copy)]
pub struct Scoring {
    pub bars: ScopeBars,
    pub summary: SummaryOptions,
}

/// Scores `jobs` and writes the tables of `metrics` anew: these rows plus the rows already
/// there that `keep` selects.
fn score_into(
    metrics: &Path,
    jobs: &[PieceJob],
    keep: impl Fn(&Group) -> bool,
    scoring: &Scoring,
    start: Instant,
) -> Result<EvaluateOutcome> {
    let mut rows = score_all(jobs, scoring.bars);
    let files = jobs.len();
    // Every file has one whole-piece row.
    let errors = rows
        .iter()
        .filter(|r| r.scope == Scope::Piece && r.metrics.is_err())
        .count();
    rows.extend(previous_rows(metrics, &keep, scoring.bars)?);
    let t = Instant::now();
    let summary = write_tables(metrics, &rows, &scoring.summary)?;
    Ok(EvaluateOutcome {
        files,
        errors,
        summary_seconds: t.elapsed().as_secs_f64(),
        seconds: start.elapsed().as_secs_f64(),
        summary,
    })
}

/// The rows of the previous tables whose group `keep` selects. Tables that an older version
/// wrote (other columns), or cut to other lengths, are re-scored from the files they name, so
/// no group is lost and every row is at today's lengths.
fn previous_rows(
    metrics: &Path,
    keep: &impl Fn(&Group) -> bool,
    bars: ScopeBars,
) -> Result<Vec<ScoredPiece>> {
    let kept = read_pieces(metrics).map(|rows| {
        let rows: Vec<ScoredPiece> = rows.into_iter().filter(|r| keep(&r.group)).collect();
        let current = rows.iter().all(|r| r.bars == bars.of(r.scope));
        (rows, current)
    });
    match kept {
        Ok((rows, true)) => Ok(rows),
        read => {
            let why = match read {
                Ok(_) => "cut to other lengths".to_string(),
                Err(e) => format!("from another version ({e:#})"),
            };
            let jobs: Vec<PieceJob> = read_piece_jobs(metrics)
                .with_context(|| {
                    format!("cannot read the previous tables in {}", metrics.display())
                })?
                .into_iter()
                .filter(|j| keep(&j.group))
                .collect();
            if !jobs.is_empty() {
                eprintln!(
                    "note: the previous tables in {} are {why}; re-scoring their {} kept files",
                    metrics.display(),
                    jobs.len()
                );
            }
            Ok(score_all(&jobs, bars))
        }
    }
}

/// `pipeline evaluate --midi-dir DIR --label NAME`: score every `.mid`/`.midi` under `midi_dir`
/// (at any depth) as task=external, sampler=`label`, on its first W bars and whole, into the
/// metrics folder beside the rows already there (a previous `external/label` partition is
/// replaced), and recompute the summary over all groups, so the folder ranks against the
/// reference and the samplers at equal length. The caller holds the evaluate stage's lock
/// meanwhile.
pub fn evaluate_dir(
    metrics: &Path,
    midi_dir: &Path,
    label: &str,
    scoring: &Scoring,
) -> Result<EvaluateOutcome> {
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
    score_into(metrics, &jobs, |g| *g != group, scoring, start)
}
