//! `pipeline bench evaluate`: read + score every MIDI file of the raw corpus (rayon, all cores,
//! then one core) against a plain-Python implementation of the same definitions with mido
//! (scripts/bench/evaluate_peer.py), in the same run; the peer's values double as an
//! independent cross-check.

use anyhow::{Result, bail};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use crate::features::Feature;
use crate::metrics::inputs::folder_jobs;
use crate::metrics::pieces::EXTERNAL_TASK;
use crate::metrics::{
    EvaluateConfig, Group, PieceJob, Scope, ScopeBars, ScoredPiece, SummaryOptions, score_all,
    summarize,
};

/// One timed pass over a folder.
#[derive(Debug, Clone)]
pub struct BenchPass {
    pub files: usize,
    pub errors: usize,
    /// Wall time of reading and scoring (the file list is made before).
    pub seconds: f64,
    pub threads: usize,
    pub rows: Vec<ScoredPiece>,
}

impl BenchPass {
    pub fn files_per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.files as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// The lengths of the default config's pieces.
const BARS: ScopeBars = ScopeBars {
    excerpt: 32,
    continuation: 24,
};

/// One pass: every file read and scored (whole and on its first 32 bars, as evaluate does);
/// the whole-piece rows are kept.
fn pass(jobs: &[PieceJob]) -> BenchPass {
    let t0 = Instant::now();
    let mut rows = score_all(jobs, BARS);
    rows.retain(|r| r.scope == Scope::Piece);
    BenchPass {
        files: rows.len(),
        errors: rows.iter().filter(|r| r.metrics.is_err()).count(),
        seconds: t0.elapsed().as_secs_f64(),
        threads: rayon::current_num_threads(),
        rows,
    }
}

/// The best of `repeats` passes (after one warm-up) over every `.mid`/`.midi` under `dir`, on
/// `threads` threads (0 = rayon's default pool).
pub fn bench_dir(dir: &Path, threads: usize, repeats: usize) -> Result<BenchPass> {
    let jobs = folder_jobs(dir, &Group::new(EXTERNAL_TASK, "bench"))?;
    if jobs.is_empty() {
        bail!("no .mid or .midi files under {}", dir.display());
    }
    let run = || {
        let mut best = pass(&jobs);
        for _ in 0..repeats {
            let p = pass(&jobs);
            if p.seconds < best.seconds {
                best = p;
            }
        }
        best
    };
    if threads == 0 {
        Ok(run())
    } else {
        Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?
            .install(run))
    }
}

/// Largest differences between our values and the peer's (JSON lines from evaluate_peer.py,
/// one object per file with every feature by its column name).
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    pub compared: usize,
    /// Per feature, the largest |ours − peer| over the files where both are defined.
    pub max_abs_diff: BTreeMap<Feature, f64>,
    /// Values where one side is defined and the other NaN/null, and files only one side read.
    pub defined_mismatch: usize,
}

impl Agreement {
    /// The feature with the largest difference, and that difference.
    pub fn worst(&self) -> Option<(Feature, f64)> {
        self.max_abs_diff
            .iter()
            .map(|(&f, &d)| (f, d))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

pub fn agreement(rows: &[ScoredPiece], peer_values: &str) -> Result<Agreement> {
    let ours: HashMap<&str, &ScoredPiece> = rows.iter().map(|r| (r.piece.as_str(), r)).collect();
    let mut a = Agreement::default();
    for line in peer_values.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let Some(row) = v["piece"].as_str().and_then(|p| ours.get(p)) else {
            a.defined_mismatch += 1;
            continue;
        };
        let (Ok(m), true) = (&row.metrics, v["error"].is_null()) else {
            a.defined_mismatch += usize::from(row.metrics.is_ok() != v["error"].is_null());
            continue;
        };
        a.compared += 1;
        for (f, ours) in m.iter() {
            match v[f.name()].as_f64() {
                Some(peer) if !ours.is_nan() => {
                    let d = a.max_abs_diff.entry(f).or_insert(0.0);
                    *d = d.max((peer - ours).abs());
                }
                None if ours.is_nan() => {}
                _ => a.defined_mismatch += 1,
            }
        }
    }
    Ok(a)
}

/// Runs the benchmark on the corpus in `dir` and returns the printable report.
pub fn bench(dir: &Path) -> Result<String> {
    let all = bench_dir(dir, 0, 3)?;
    let one = bench_dir(dir, 1, 1)?;
    let mut report = format!(
        "evaluate: {} files ({} errors), read + every metric: {:.3} s on {} threads = {:.0} files/s; {:.3} s on 1 thread = {:.0} files/s",
        all.files,
        all.errors,
        all.seconds,
        all.threads,
        all.files_per_s(),
        one.seconds,
        one.files_per_s()
    );
    let values = std::env::temp_dir().join(format!(
        "cadenza-evaluate-peer-{}.jsonl",
        std::process::id()
    ));
    let dir_s = dir.to_string_lossy();
    let values_s = values.to_string_lossy();
    match super::python_peer(
        &["mido"],
        "evaluate_peer.py",
        &[&dir_s, "--values", &values_s],
    ) {
        Ok(v) => {
            let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
            let peer = v["files"].as_f64().unwrap_or(f64::NAN) / secs;
            report += &format!(
                "\n  plain Python + mido: {secs:.2} s = {peer:.1} files/s (1 core, read {:.2} s); ratio {:.0}x ({} threads), {:.0}x (1 thread)",
                v["read_seconds"].as_f64().unwrap_or(f64::NAN),
                all.files_per_s() / peer,
                all.threads,
                one.files_per_s() / peer
            );
            let text = std::fs::read_to_string(&values).unwrap_or_default();
            std::fs::remove_file(&values).ok();
            let a = agreement(&all.rows, &text)?;
            let (worst, diff) = a.worst().unwrap_or((Feature::H1, f64::NAN));
            report += &format!(
                "\n  agreement with the peer on {} files, {} metrics: max |diff| {diff:.1e} ({}); {} defined/undefined mismatches",
                a.compared,
                a.max_abs_diff.len(),
                worst.name(),
                a.defined_mismatch
            );
        }
        Err(e) => report += &format!("\n  Python peer not measured: {e:#}"),
    }
    match super::python_peer(&["muspy"], "muspy_metrics.py", &[&dir_s]) {
        Ok(v) => {
            let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
            let peer = v["files"].as_f64().unwrap_or(f64::NAN) / secs;
            report += &format!(
                "\n  MusPy, its own {} comparable metrics (speed only: definitions differ): {secs:.2} s = {peer:.1} files/s (1 core, read {:.2} s); ratio {:.0}x ({} threads), {:.0}x (1 thread)",
                v["metrics"].as_array().map_or(0, Vec::len),
                v["read_seconds"].as_f64().unwrap_or(f64::NAN),
                all.files_per_s() / peer,
                all.threads,
                one.files_per_s() / peer
            );
        }
        Err(e) => report += &format!("\n  MusPy not measured: {e:#}"),
    }
    let opts = EvaluateConfig::default().summary_options(1);
    let (secs, groups) = summary_seconds(&all.rows, &opts);
    report += &format!(
        "\n  summary of a full run's shape ({groups} rows, {} resamples, every metric): {secs:.3} s",
        opts.resamples
    );
    Ok(report)
}

/// Times the summary of a run's shape made from the scored files: the first 100 as the
/// reference, then rows of 20 pieces (a generate run's samplers, baseline, real continuations).
fn summary_seconds(rows: &[ScoredPiece], opts: &SummaryOptions) -> (f64, usize) {
    let mut run = Vec::new();
    for (i, r) in rows.iter().take(100 + 10 * 20).enumerate() {
        let group = if i < 100 {
            Group::reference()
        } else {
            Group::new("unconditional", format!("s{}", (i - 100) / 20))
        };
        let scope = group.compared_scopes()[0];
        run.push(ScoredPiece {
            group,
            scope,
            bars: BARS.of(scope),
            ..r.clone()
        });
    }
    let t0 = Instant::now();
    let summary = summarize(&run, opts);
    (t0.elapsed().as_secs_f64(), summary.len())
}
