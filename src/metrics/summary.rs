//! The summary table: per task × sampler × scope and metric, the mean with its bootstrap
//! interval, the difference to the reference with its interval, and the overlap of the two
//! distributions; per row a distance, the mean overlap, their intervals, and a rank
//! (docs/design.md, "Metrics").
//!
//! - Like with like ([`Group::compared_scopes`]): continuations on their generated bars against
//!   the real continuations (`continuation/real`); everything else on its first W bars against
//!   the real songs cut to W bars (`reference/real`, scope `excerpt`); the real songs and
//!   external folders also whole (scope `piece`). `bars` says how many bars each row covers.
//! - `n_pieces` counts the row's files, `n_errors` those that could not be read; per metric,
//!   `n` counts the pieces where it is defined (errors and NaN are left out).
//! - Intervals: percentile bootstrap, `resamples` draws per row ([`super::resample`]), the same
//!   draws for every statistic of the row. A continuation row whose pieces cover the real
//!   continuations' prompts is `paired`: each draw takes prompts, and the row and its
//!   reference both take the pieces of those prompts. Otherwise the row and its reference are
//!   drawn independently. `delta` = |mean − reference mean|; `diff_lo`/`diff_hi` bound the
//!   signed difference, and `differs` says that interval excludes 0.
//! - `distance` = Σ over H1, H4, GS of delta / reference std (the delta alone where that std is
//!   undefined or 0); `oa_mean` = mean overlap over the compared metrics; `rank` orders the
//!   rows with the same reference and scope by distance (1 = closest). Reference rows have
//!   delta and distance 0 and no rank; without their reference, deltas, overlap, distance and
//!   rank are null.
//! - `distance_lo`/`distance_hi`, `oa_mean_lo`/`oa_mean_hi` (centred on the estimate) and
//!   `gap_lo`/`gap_hi` (distance minus the best row's of the same comparison) come from the
//!   same draws ([`super::compare`]); `tied_with_best` says the gap interval includes 0.

use rayon::prelude::*;
use std::collections::BTreeMap;

use super::pieces::{Group, Scope, ScoredPiece};
use super::resample::{Draws, unit_of_pieces, units};
use super::stats::{mean, overlap_area, percentile_interval, std};
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

/// One task × sampler in one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub group: Group,
    pub scope: Scope,
    /// The bars every piece was cut to (`None`: whole pieces).
    pub bars: Option<u32>,
    /// The group it is compared with (in the same scope).
    pub reference: Group,
    /// Whether the intervals resample prompts, keeping each piece with the real continuation
    /// of its prompt.
    pub paired: bool,
    pub n_pieces: u32,
    pub n_errors: u32,
    /// Every compared [`Feature`], in column order.
    pub metrics: Vec<MetricSummary>,
    pub distance: Option<f64>,
    pub distance_ci: Option<(f64, f64)>,
    /// Interval of `distance` minus the distance of the best row of the same comparison.
    pub gap_ci: Option<(f64, f64)>,
    pub oa_mean: Option<f64>,
    pub oa_mean_ci: Option<(f64, f64)>,
    pub rank: Option<u32>,
}

impl SummaryRow {
    /// Whether the data cannot tell this row from the best one of its comparison (its gap
    /// interval includes 0; the best row is tied with itself).
    pub fn tied_with_best(&self) -> Option<bool> {
        self.gap_ci.map(|(lo, hi)| lo <= 0.0 && hi >= 0.0)
    }

    pub fn metric(&self, f: Feature) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.feature == f)
    }

    /// The reference and scope it is compared in: rows with the same key rank together.
    pub fn comparison(&self) -> (&Group, Scope) {
        (&self.reference, self.scope)
    }
}

/// The metrics the summary compares, in column order.
pub fn compared_features() -> Vec<Feature> {
    Feature::ALL.into_iter().filter(|f| f.compared()).collect()
}

/// The metrics that make up `distance`.
pub const DISTANCE_FEATURES: [Feature; 3] = [Feature::H1, Feature::H4, Feature::Gs];

/// A group in one scope.
pub type CellKey<'a> = (&'a Group, Scope);

/// One row's pieces as the summary sees them.
pub struct Sample {
    /// Per compared feature, per piece: the value (NaN where undefined or unreadable).
    pub values: Vec<Vec<f64>>,
    /// Per compared feature, per draw: the mean of the drawn pieces.
    pub boot: Vec<Vec<f64>>,
    pub draws: Draws,
    pub paired: bool,
}

impl Sample {
    /// The defined values of feature `k`.
    pub fn defined(&self, k: usize) -> Vec<f64> {
        self.values[k]
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .collect()
    }
}

/// Summarise rows of any groups, sorted by (task, sampler, scope).
pub fn summarize(rows: &[ScoredPiece], opts: &SummaryOptions) -> Vec<SummaryRow> {
    let mut cells: BTreeMap<CellKey, Vec<&ScoredPiece>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.is_compared()) {
        cells.entry((&r.group, r.scope)).or_default().push(r);
    }
    let features = compared_features();
    let draws = plan_draws(&cells, opts);
    let samples: BTreeMap<CellKey, Sample> = cells
        .par_iter()
        .map(|(&key, pieces)| {
            let values: Vec<Vec<f64>> = features
                .iter()
                .map(|&f| {
                    pieces
                        .iter()
                        .map(|r| r.metrics.as_ref().map_or(f64::NAN, |m| m[f]))
                        .collect()
                })
                .collect();
            let (draws, paired) = draws[&key].clone();
            let boot = values.iter().map(|v| draws.means(v)).collect();
            (
                key,
                Sample {
                    values,
                    boot,
                    draws,
                    paired,
                },
            )
        })
        .collect();
    let mut out: Vec<SummaryRow> = cells
        .iter()
        .map(|(&(group, scope), pieces)| {
            let reference = scope.reference();
            let own = &samples[&(group, scope)];
            let other = samples.get(&(&reference, scope));
            let metrics = features
                .iter()
                .enumerate()
                .map(|(k, &f)| metric_summary(f, k, own, other, group.is_reference()))
                .collect();
            SummaryRow {
                group: group.clone(),
                scope,
                bars: pieces.first().and_then(|p| p.bars),
                paired: own.paired && !group.is_reference(),
                n_pieces: pieces.len() as u32,
                n_errors: pieces.iter().filter(|r| r.metrics.is_err()).count() as u32,
                metrics,
                distance: None,
                distance_ci: None,
                gap_ci: None,
                oa_mean: None,
                oa_mean_ci: None,
                rank: None,
                reference,
            }
        })
        .collect();
    super::compare::add_comparisons(&mut out, &samples);
    rank(&mut out);
    out
}

/// Each row's draws, and whether they are paired with its reference: a continuation row
/// whose prompts are exactly the real continuations' takes the counts of its prompts in draws
/// of prompts shared by the whole comparison; every other row is drawn on its own.
fn plan_draws<'a>(
    cells: &BTreeMap<CellKey<'a>, Vec<&'a ScoredPiece>>,
    opts: &SummaryOptions,
) -> BTreeMap<CellKey<'a>, (Draws, bool)> {
    let prompts = |pieces: &[&'a ScoredPiece]| -> Vec<Option<&'a str>> {
        pieces.iter().map(|p| p.prompt.as_deref()).collect()
    };
    type Shared = Option<(BTreeMap<String, usize>, Draws)>;
    let mut shared: BTreeMap<Group, Shared> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (&key, pieces) in cells {
        let (group, scope) = key;
        let mut planned = None;
        if scope == Scope::Continuation {
            let reference = scope.reference();
            let prompt_draws = shared.entry(reference.clone()).or_insert_with(|| {
                let units = units(&prompts(cells.get(&(&reference, scope))?))?;
                let labels = [
                    &*reference.task,
                    &reference.sampler,
                    scope.as_str(),
                    "prompts",
                ];
                let mut rng = Rng::new(Rng::derive(opts.seed, &labels));
                let draws = Draws::independent(units.len(), opts.resamples, &mut rng);
                Some((units, draws))
            });
            if let Some((units, draws)) = prompt_draws
                && let Some(of) = unit_of_pieces(&prompts(pieces), units)
            {
                planned = Some((Draws::of_units(&of, draws), true));
            }
        }
        let planned = planned.unwrap_or_else(|| {
            let labels = [&*group.task, &group.sampler, scope.as_str()];
            let mut rng = Rng::new(Rng::derive(opts.seed, &labels));
            (
                Draws::independent(pieces.len(), opts.resamples, &mut rng),
                false,
            )
        });
        out.insert(key, planned);
    }
    out
}

fn metric_summary(
    feature: Feature,
    k: usize,
    own: &Sample,
    reference: Option<&Sample>,
    is_reference: bool,
) -> MetricSummary {
    let values = own.defined(k);
    let m = mean(&values);
    let mut s = MetricSummary {
        feature,
        n: values.len() as u32,
        mean: m,
        std: std(&values),
        mean_ci: interval(own.boot[k].clone()),
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
    let theirs = r.defined(k);
    s.delta = m.zip(mean(&theirs)).map(|(a, b)| (a - b).abs());
    let diffs: Vec<f64> = own.boot[k]
        .iter()
        .zip(&r.boot[k])
        .map(|(a, b)| a - b)
        .collect();
    s.delta_ci = interval(diffs.iter().map(|d| d.abs()).collect());
    s.diff_ci = interval(diffs);
    s.oa = overlap_area(&values, &theirs);
    s
}

/// The percentile interval of the defined draws.
pub fn interval(mut draws: Vec<f64>) -> Option<(f64, f64)> {
    draws.retain(|x| !x.is_nan());
    percentile_interval(draws, CONFIDENCE)
}

/// Ranks the non-reference rows of each comparison by distance; ties keep (task, sampler)
/// order.
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
    let mut next: BTreeMap<(Group, Scope), u32> = BTreeMap::new();
    for i in order {
        let key = (out[i].reference.clone(), out[i].scope);
        let rank = next.entry(key).or_insert(0);
        *rank += 1;
        out[i].rank = Some(*rank);
    }
}
