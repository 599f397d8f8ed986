//! A row against its reference as a whole: `distance` and `oa_mean` with their intervals, and
//! which rows the data cannot tell from the best one of their comparison.
//!
//! Every interval comes from the rows' own draws ([`super::resample`]): per draw, the distance
//! of the drawn pieces' means from the reference draw's of the same index (so two rows of one
//! comparison are set against the same reference draw), and the overlap of the two drawn
//! samples. `gap_ci` is the interval of a row's distance minus the best row's (lowest
//! distance) over the same draws; an interval that includes 0 means the row is not
//! distinguishable from the best.

use rayon::prelude::*;
use std::collections::BTreeMap;

use super::pieces::{Group, Scope};
use super::stats::{mean, overlap_area_weighted, std};
use super::summary::{CellKey, DISTANCE_FEATURES, Sample, SummaryRow, compared_features, interval};

/// Per draw, a row's distance and mean overlap (NaN where undefined).
struct RowDraws {
    distance: Vec<f64>,
    oa_mean: Vec<f64>,
}

/// Sets `distance`, `oa_mean`, their intervals and `gap_ci` of every row of `out`.
pub fn add_comparisons(out: &mut [SummaryRow], samples: &BTreeMap<CellKey, Sample>) {
    let features = compared_features();
    let distance_k: Vec<usize> = DISTANCE_FEATURES
        .iter()
        .filter_map(|f| features.iter().position(|g| g == f))
        .collect();
    for row in out.iter_mut() {
        let scales = samples
            .get(&(&row.reference, row.scope))
            .map(|r| scales(r, &distance_k));
        row.distance = scales.and_then(|scales| {
            distance_k
                .iter()
                .zip(scales)
                .map(|(&k, scale)| Some(row.metrics[k].delta? / scale))
                .sum()
        });
        let oas: Vec<f64> = row.metrics.iter().filter_map(|m| m.oa).collect();
        row.oa_mean = mean(&oas);
    }
    let draws: Vec<Option<RowDraws>> = out
        .par_iter()
        .map(|row| {
            if row.group.is_reference() || row.distance.is_none() {
                return None;
            }
            let own = &samples[&(&row.group, row.scope)];
            let reference = samples.get(&(&row.reference, row.scope))?;
            Some(row_draws(row, own, reference, &distance_k))
        })
        .collect();
    for (row, d) in out.iter_mut().zip(&draws) {
        if let Some(d) = d {
            row.distance_ci = interval(d.distance.clone());
            row.oa_mean_ci = row.oa_mean.and_then(|oa| centred_interval(oa, &d.oa_mean));
        }
    }
    // The best row of each comparison, by its distance.
    let mut best: BTreeMap<(Group, Scope), usize> = BTreeMap::new();
    for (i, row) in out.iter().enumerate() {
        let (Some(d), true) = (row.distance, draws[i].is_some()) else {
            continue;
        };
        let b = best.entry((row.reference.clone(), row.scope)).or_insert(i);
        if out[*b].distance.is_some_and(|bd| d < bd) {
            *b = i;
        }
    }
    for i in 0..out.len() {
        let Some(&b) = best.get(&(out[i].reference.clone(), out[i].scope)) else {
            continue;
        };
        if let (Some(own), Some(theirs)) = (&draws[i], &draws[b]) {
            let gaps = own.distance.iter().zip(&theirs.distance);
            out[i].gap_ci = interval(gaps.map(|(a, b)| a - b).collect());
        }
    }
}

/// The percentile interval of the draws, moved by their bias (their mean minus `estimate`) so
/// that it is centred on the estimate: the overlap of a resample, whose pieces repeat, is
/// systematically below the overlap of the pieces themselves, and the plain percentile interval
/// would then sit below the estimate. What is left is the spread at this number of pieces.
fn centred_interval(estimate: f64, draws: &[f64]) -> Option<(f64, f64)> {
    let defined: Vec<f64> = draws.iter().copied().filter(|x| !x.is_nan()).collect();
    let bias = mean(&defined)? - estimate;
    let (lo, hi) = interval(defined)?;
    Some(((lo - bias).max(0.0), (hi - bias).min(1.0)))
}

/// The reference's std of each distance metric, as `distance` divides by (1 where undefined
/// or 0).
fn scales(reference: &Sample, distance_k: &[usize]) -> Vec<f64> {
    distance_k
        .iter()
        .map(|&k| {
            std(&reference.defined(k))
                .filter(|sd| *sd > 0.0 && sd.is_finite())
                .unwrap_or(1.0)
        })
        .collect()
}

fn row_draws(row: &SummaryRow, own: &Sample, reference: &Sample, distance_k: &[usize]) -> RowDraws {
    let scales = scales(reference, distance_k);
    let resamples = own.draws.resamples().min(reference.draws.resamples());
    let distance = (0..resamples)
        .map(|r| {
            distance_k
                .iter()
                .zip(&scales)
                .map(|(&k, scale)| (own.boot[k][r] - reference.boot[k][r]).abs() / scale)
                .sum()
        })
        .collect();
    // The metrics whose overlap the row's oa_mean averages.
    let with_oa: Vec<usize> = (0..row.metrics.len())
        .filter(|&k| row.metrics[k].oa.is_some())
        .collect();
    let oa_mean = (0..resamples)
        .map(|r| {
            let oas: Vec<f64> = with_oa
                .iter()
                .filter_map(|&k| {
                    overlap_area_weighted(
                        &own.draws.weighted(r, &own.values[k]),
                        &reference.draws.weighted(r, &reference.values[k]),
                    )
                })
                .collect();
            mean(&oas).unwrap_or(f64::NAN)
        })
        .collect();
    RowDraws { distance, oa_mean }
}
