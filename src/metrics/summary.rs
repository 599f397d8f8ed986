//! The summary table: per task × sampler and metric, the mean with its bootstrap interval, the
//! distance to the reference with its interval, and the overlap of the two distributions; per
//! row a distance, the mean overlap and a rank (docs/design.md, "Metrics").
//!
//! - Each group is summarised in one scope against one reference ([`Group::compared_in`]):
//!   continuations on their generated bars against the real continuations
//!   (`continuation/real`), everything else on whole pieces against the real songs of the
//!   reference split (`reference/real`).
//! - `n_pieces` counts the group's files, `n_errors` those that could not be read; per metric,
//!   `n` counts the pieces where it is defined (errors and NaN, e.g. GS of a one-bar piece,
//!   are left out).
//! - Intervals: percentile bootstrap over `resamples` resamples of the pieces, seeded from (run
//!   seed, task, sampler, metric); `delta` = |mean − reference mean| with both sets resampled
//!   independently; `diff_lo`/`diff_hi` bound the signed difference, and `differs` says that
//!   interval excludes 0.
//! - `distance` = Σ over H1, H4, GS of delta / reference std (the delta alone where that std is
//!   undefined or 0); `oa_mean` = mean overlap over all compared metrics; `rank` orders the
//!   non-reference rows by distance (1 = closest). Reference rows have delta and distance 0 and
//!   no rank; without their reference, deltas, overlap, distance and rank are null.
//! - `distance_lo`/`distance_hi` and `gap_lo`/`gap_hi` (distance minus the best row's with the
//!   same reference), from a joint bootstrap ([`super::distance`]); `tied_with_best` says the
//!   gap interval includes 0.

use anyhow::Result;
use polars::prelude::{Column, DataFrame};
use rayon::prelude::*;
use std::collections::BTreeMap;

use super::pieces::{Group, Scope, ScoredPiece};
use super::stats::{bootstrap_means, mean, overlap_area, percentile_interval, std};
use crate::features::Feature;
use crate::rng::Rng;

/// How the summary's intervals are drawn (`[evaluate]` and `run.seed`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryOptions {
    pub seed: u64,
    pub resamples: usize,
}

/// The coverage of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// One metric of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary {
    pub feature: Feature,
    pub n: u32,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub mean_ci: Option<(f64, f64)>,
    pub delta: Option<f64>,
    pub delta_ci: Option<(f64, f64)>,
    /// Interval of mean − reference mean.
    pub diff_ci: Option<(f64, f64)>,
    pub oa: Option<f64>,
}

impl MetricSummary {
    /// Whether the difference to the reference is larger than its interval (it excludes 0).
    pub fn differs(&self) -> Option<bool> {
        self.diff_ci.map(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// One task × sampler.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub group: Group,
    pub scope: Scope,
    /// The group it is compared with.
    pub reference: Group,
    pub n_pieces: u32,
    pub n_errors: u32,
    /// Every compared [`Feature`], in column order.
    pub metrics: Vec<MetricSummary>,
    pub distance: Option<f64>,
    /// Bootstrap interval of `distance` ([`super::distance`]).
    pub distance_ci: Option<(f64, f64)>,
    /// Interval of `distance` minus the distance of the best row with the same reference.
    pub gap_ci: Option<(f64, f64)>,
    pub oa_mean: Option<f64>,
    pub rank: Option<u32>,
}

impl SummaryRow {
    /// Whether the data cannot tell this row from the best one with the same reference (its
    /// gap interval includes 0; the best row is tied with itself).
    pub fn tied_with_best(&self) -> Option<bool> {
        self.gap_ci.map(|(lo, hi)| lo <= 0.0 && hi >= 0.0)
    }

    pub fn metric(&self, f: Feature) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.feature == f)
    }
}

/// The metrics the summary compares, in column order.
pub fn compared_features() -> Vec<Feature> {
    Feature::ALL.into_iter().filter(|f| f.compared()).collect()
}

/// The metrics that make up `distance`.
pub const DISTANCE_FEATURES: [Feature; 3] = [Feature::H1, Feature::H4, Feature::Gs];

/// The defined values of one metric of one group, with their bootstrap means.
struct Sample {
    values: Vec<f64>,
    boot: Vec<f64>,
}

/// Summarise rows of any groups, sorted by (task, sampler).
pub fn summarize(rows: &[ScoredPiece], opts: &SummaryOptions) -> Vec<SummaryRow> {
    let mut groups: BTreeMap<&Group, Vec<&ScoredPiece>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.is_compared()) {
        groups.entry(&r.group).or_default().push(r);
    }
    let features = compared_features();
    // Every (group, metric) sample with its own seeded bootstrap, in parallel.
    let cells: Vec<(&Group, Feature)> = groups
        .keys()
        .flat_map(|g| features.iter().map(move |&f| (*g, f)))
        .collect();
    let samples: BTreeMap<(&Group, Feature), Sample> = cells
        .par_iter()
        .map(|&(g, f)| {
            let values: Vec<f64> = groups[g]
                .iter()
                .filter_map(|r| r.metrics.as_ref().ok().map(|m| m[f]))
                .filter(|x| !x.is_nan())
                .collect();
            let mut rng = Rng::new(Rng::derive(opts.seed, &[&g.task, &g.sampler, f.name()]));
            let boot = bootstrap_means(&values, opts.resamples, &mut rng);
            ((g, f), Sample { values, boot })
        })
        .collect();
    let mut out: Vec<SummaryRow> = groups
        .iter()
        .map(|(&group, pieces)| {
            let (scope, reference) = group.compared_in();
            let has_reference = groups.contains_key(&reference);
            let metrics = features
                .iter()
                .map(|&f| {
                    let own = &samples[&(group, f)];
                    let other = has_reference.then(|| &samples[&(&reference, f)]);
                    metric_summary(f, own, other, group.is_reference())
                })
                .collect();
            SummaryRow {
                group: group.clone(),
                scope,
                n_pieces: pieces.len() as u32,
                n_errors: pieces.iter().filter(|r| r.metrics.is_err()).count() as u32,
                metrics,
                distance: None,
                distance_ci: None,
                gap_ci: None,
                oa_mean: None,
                rank: None,
                reference,
            }
        })
        .collect();
    for row in &mut out {
        row.distance = distance(row, &samples);
        let oas: Vec<f64> = row.metrics.iter().filter_map(|m| m.oa).collect();
        row.oa_mean = mean(&oas);
    }
    rank(&mut out);
    super::distance::add_intervals(&mut out, rows, opts);
    out
}

fn metric_summary(
    feature: Feature,
    own: &Sample,
    reference: Option<&Sample>,
    is_reference: bool,
) -> MetricSummary {
    let m = mean(&own.values);
    let mut s = MetricSummary {
        feature,
        n: own.values.len() as u32,
        mean: m,
        std: std(&own.values),
        mean_ci: percentile_interval(own.boot.clone(), CONFIDENCE),
        delta: None,
        delta_ci: None,
        diff_ci: None,
        oa: None,
    };
    let Some(r) = reference else { return s };
    if is_reference {
        s.delta = m.map(|_| 0.0);
        return s;
    }
    s.delta = m.zip(mean(&r.values)).map(|(a, b)| (a - b).abs());
    if !own.boot.is_empty() && !r.boot.is_empty() {
        let diffs: Vec<f64> = own.boot.iter().zip(&r.boot).map(|(a, b)| a - b).collect();
        s.delta_ci = percentile_interval(diffs.iter().map(|d| d.abs()).collect(), CONFIDENCE);
        s.diff_ci = percentile_interval(diffs, CONFIDENCE);
    }
    s.oa = overlap_area(&own.values, &r.values);
    s
}

/// Σ over [`DISTANCE_FEATURES`] of delta in units of the reference's std.
fn distance(row: &SummaryRow, samples: &BTreeMap<(&Group, Feature), Sample>) -> Option<f64> {
    DISTANCE_FEATURES
        .iter()
        .map(|&f| {
            let delta = row.metric(f)?.delta?;
            let scale = samples
                .get(&(&row.reference, f))
                .and_then(|r| std(&r.values))
                .filter(|sd| *sd > 0.0 && sd.is_finite())
                .unwrap_or(1.0);
            Some(delta / scale)
        })
        .sum()
}

/// Ranks the non-reference rows by distance; ties keep (task, sampler) order.
fn rank(out: &mut [SummaryRow]) {
    let mut order: Vec<usize> = (0..out.len())
        .filter(|&i| !out[i].group.is_reference() && out[i].distance.is_some())
        .collect();
    order.sort_by(|&a, &b| {
        out[a]
            .distance
            .partial_cmp(&out[b].distance)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for (rank, i) in order.into_iter().enumerate() {
        out[i].rank = Some(rank as u32 + 1);
    }
}

/// The summary as a long DataFrame: one row per task × sampler × metric, with the row's
/// distance, oa_mean and rank repeated on each (filter on `metric` for one value per row).
pub fn summary_frame(summary: &[SummaryRow]) -> Result<DataFrame> {
    let cells: Vec<(&SummaryRow, &MetricSummary)> = summary
        .iter()
        .flat_map(|r| r.metrics.iter().map(move |m| (r, m)))
        .collect();
    let text = |name: &str, f: &dyn Fn(&SummaryRow, &MetricSummary) -> String| {
        Column::new(
            name.into(),
            cells.iter().map(|(r, m)| f(r, m)).collect::<Vec<_>>(),
        )
    };
    let real = |name: &str, f: &dyn Fn(&SummaryRow, &MetricSummary) -> Option<f64>| {
        Column::new(
            name.into(),
            cells.iter().map(|(r, m)| f(r, m)).collect::<Vec<_>>(),
        )
    };
    let count = |name: &str, f: &dyn Fn(&SummaryRow, &MetricSummary) -> Option<u32>| {
        Column::new(
            name.into(),
            cells.iter().map(|(r, m)| f(r, m)).collect::<Vec<_>>(),
        )
    };
    let cols = vec![
        text("task", &|r, _| r.group.task.clone()),
        text("sampler", &|r, _| r.group.sampler.clone()),
        text("scope", &|r, _| r.scope.as_str().to_string()),
        text("reference", &|r, _| {
            format!("{}/{}", r.reference.task, r.reference.sampler)
        }),
        text("metric", &|_, m| m.feature.name().to_string()),
        count("n", &|_, m| Some(m.n)),
        real("mean", &|_, m| m.mean),
        real("std", &|_, m| m.std),
        real("mean_lo", &|_, m| m.mean_ci.map(|c| c.0)),
        real("mean_hi", &|_, m| m.mean_ci.map(|c| c.1)),
        real("delta", &|_, m| m.delta),
        real("delta_lo", &|_, m| m.delta_ci.map(|c| c.0)),
        real("delta_hi", &|_, m| m.delta_ci.map(|c| c.1)),
        real("diff_lo", &|_, m| m.diff_ci.map(|c| c.0)),
        real("diff_hi", &|_, m| m.diff_ci.map(|c| c.1)),
        Column::new(
            "differs".into(),
            cells.iter().map(|(_, m)| m.differs()).collect::<Vec<_>>(),
        ),
        real("oa", &|_, m| m.oa),
        count("n_pieces", &|r, _| Some(r.n_pieces)),
        count("n_errors", &|r, _| Some(r.n_errors)),
        real("distance", &|r, _| r.distance),
        real("distance_lo", &|r, _| r.distance_ci.map(|c| c.0)),
        real("distance_hi", &|r, _| r.distance_ci.map(|c| c.1)),
        real("gap_lo", &|r, _| r.gap_ci.map(|c| c.0)),
        real("gap_hi", &|r, _| r.gap_ci.map(|c| c.1)),
        Column::new(
            "tied_with_best".into(),
            cells
                .iter()
                .map(|(r, _)| r.tied_with_best())
                .collect::<Vec<_>>(),
        ),
        real("oa_mean", &|r, _| r.oa_mean),
        count("rank", &|r, _| r.rank),
    ];
    Ok(DataFrame::new(cells.len(), cols)?)
}

/// The rows back from a frame written by [`summary_frame`], in file order.
pub fn rows_from_frame(df: &DataFrame) -> Result<Vec<SummaryRow>> {
    use anyhow::Context;
    let col = |name: &str| {
        df.column(name)
            .with_context(|| format!("summary table has no `{name}` column"))
    };
    let text = |name: &str| -> Result<Vec<String>> {
        Ok(col(name)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let real = |name: &str| -> Result<Vec<Option<f64>>> { Ok(col(name)?.f64()?.iter().collect()) };
    let count = |name: &str| -> Result<Vec<Option<u32>>> { Ok(col(name)?.u32()?.iter().collect()) };
    let (task, sampler, scope, reference, metric) = (
        text("task")?,
        text("sampler")?,
        text("scope")?,
        text("reference")?,
        text("metric")?,
    );
    let (n, n_pieces, n_errors, rank) = (
        count("n")?,
        count("n_pieces")?,
        count("n_errors")?,
        count("rank")?,
    );
    let mut reals: BTreeMap<&str, Vec<Option<f64>>> = [
        "mean", "std", "mean_lo", "mean_hi", "delta", "delta_lo", "delta_hi", "diff_lo", "diff_hi",
        "oa", "distance", "oa_mean",
    ]
    .into_iter()
    .map(|c| Ok((c, real(c)?)))
    .collect::<Result<_>>()?;
    // Added later: a table written before them reads as without intervals.
    for c in ["distance_lo", "distance_hi", "gap_lo", "gap_hi"] {
        let values = real(c).unwrap_or_else(|_| vec![None; df.height()]);
        reals.insert(c, values);
    }
    let v = |name: &str, i: usize| reals[name][i];
    let pair = |lo: &str, hi: &str, i: usize| v(lo, i).zip(v(hi, i));
    let mut out: Vec<SummaryRow> = Vec::new();
    for i in 0..df.height() {
        let feature = Feature::parse(&metric[i])
            .with_context(|| format!("summary table: unknown metric {:?}", metric[i]))?;
        let group = Group::new(task[i].clone(), sampler[i].clone());
        if out.last().is_none_or(|r| r.group != group) {
            let (ref_task, ref_sampler) = reference[i].split_once('/').unwrap_or_default();
            out.push(SummaryRow {
                scope: Scope::parse(&scope[i])
                    .with_context(|| format!("summary table: unknown scope {:?}", scope[i]))?,
                reference: Group::new(ref_task, ref_sampler),
                n_pieces: n_pieces[i].unwrap_or(0),
                n_errors: n_errors[i].unwrap_or(0),
                metrics: Vec::new(),
                distance: v("distance", i),
                distance_ci: pair("distance_lo", "distance_hi", i),
                gap_ci: pair("gap_lo", "gap_hi", i),
                oa_mean: v("oa_mean", i),
                rank: rank[i],
                group,
            });
        }
        let row = out.last_mut().expect("pushed above");
        row.metrics.push(MetricSummary {
            feature,
            n: n[i].unwrap_or(0),
            mean: v("mean", i),
            std: v("std", i),
            mean_ci: pair("mean_lo", "mean_hi", i),
            delta: v("delta", i),
            delta_ci: pair("delta_lo", "delta_hi", i),
            diff_ci: pair("diff_lo", "diff_hi", i),
            oa: v("oa", i),
        });
    }
    Ok(out)
}
