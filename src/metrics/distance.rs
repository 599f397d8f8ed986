//! `distance` with its uncertainty, and which rows the data cannot tell from the best.
//!
//! A joint bootstrap: each resample draws a row's pieces once for all of H1, H4 and GS (their
//! means move together, as H1 and H4 do), and draws the reference's pieces once per resample
//! index for every row compared with it, so two rows' distances are set against the same
//! reference draw. `distance_ci` is the percentile interval of a row's distance; `gap_ci`, of
//! its distance minus the distance of the best row (lowest distance) with the same reference.
//! A gap interval that includes 0 means the row is not distinguishable from the best.

use std::collections::BTreeMap;

use super::pieces::{Group, ScoredPiece};
use super::stats::{percentile_interval, std};
use super::summary::{CONFIDENCE, DISTANCE_FEATURES, SummaryOptions, SummaryRow};
use crate::rng::Rng;

/// Per piece, the values of [`DISTANCE_FEATURES`] (NaN where undefined).
type Values = Vec<[f64; 3]>;

/// Sets `distance_ci` and `gap_ci` of every compared row of `out`.
pub fn add_intervals(out: &mut [SummaryRow], pieces: &[ScoredPiece], opts: &SummaryOptions) {
    let mut values: BTreeMap<&Group, Values> = BTreeMap::new();
    for p in pieces.iter().filter(|p| p.is_compared()) {
        if let Ok(m) = &p.metrics {
            values
                .entry(&p.group)
                .or_default()
                .push(DISTANCE_FEATURES.map(|f| m[f]));
        }
    }
    let boot = |g: &Group| {
        let mut rng = Rng::new(Rng::derive(opts.seed, &[&g.task, &g.sampler, "distance"]));
        values
            .get(g)
            .map(|v| resampled_means(v, opts.resamples, &mut rng))
    };
    // Each reference is drawn once; every row compared with it uses those draws (paired).
    let mut references: BTreeMap<Group, Option<(Vec<[f64; 3]>, [f64; 3])>> = BTreeMap::new();
    let mut draws: Vec<Option<Vec<f64>>> = Vec::with_capacity(out.len());
    for row in out.iter() {
        if row.group.is_reference() || row.distance.is_none() {
            draws.push(None);
            continue;
        }
        let reference = references
            .entry(row.reference.clone())
            .or_insert_with(|| Some((boot(&row.reference)?, scales(values.get(&row.reference)?))));
        draws.push(
            reference
                .as_ref()
                .zip(boot(&row.group))
                .map(|((r, scale), own)| distances(&own, r, *scale)),
        );
    }
    for (row, d) in out.iter_mut().zip(&draws) {
        row.distance_ci = d.as_ref().and_then(|d| interval(d.clone()));
    }
    // The best row of each reference, by its distance.
    let mut best: BTreeMap<Group, usize> = BTreeMap::new();
    for (i, row) in out.iter().enumerate() {
        let (Some(d), true) = (row.distance, draws[i].is_some()) else {
            continue;
        };
        let b = best.entry(row.reference.clone()).or_insert(i);
        if out[*b].distance.is_some_and(|bd| d < bd) {
            *b = i;
        }
    }
    for i in 0..out.len() {
        let Some(&b) = best.get(&out[i].reference) else {
            continue;
        };
        if let (Some(own), Some(theirs)) = (&draws[i], &draws[b]) {
            let gaps: Vec<f64> = own.iter().zip(theirs).map(|(a, b)| a - b).collect();
            out[i].gap_ci = interval(gaps);
        }
    }
}

/// Per resample, the mean of each metric over one draw of the pieces (NaN where a draw has
/// no defined value).
fn resampled_means(values: &Values, resamples: usize, rng: &mut Rng) -> Vec<[f64; 3]> {
    if values.is_empty() {
        return Vec::new();
    }
    let n = values.len();
    (0..resamples)
        .map(|_| {
            let (mut sum, mut count) = ([0.0; 3], [0u32; 3]);
            for _ in 0..n {
                let v = &values[rng.below(n as u64) as usize];
                for k in 0..3 {
                    if !v[k].is_nan() {
                        sum[k] += v[k];
                        count[k] += 1;
                    }
                }
            }
            std::array::from_fn(|k| sum[k] / f64::from(count[k]))
        })
        .collect()
}

/// The reference's std of each metric, as `distance` divides by (1 where undefined or 0).
fn scales(reference: &Values) -> [f64; 3] {
    std::array::from_fn(|k| {
        let v: Vec<f64> = reference
            .iter()
            .map(|x| x[k])
            .filter(|x| !x.is_nan())
            .collect();
        std(&v)
            .filter(|sd| *sd > 0.0 && sd.is_finite())
            .unwrap_or(1.0)
    })
}

fn distances(own: &[[f64; 3]], reference: &[[f64; 3]], scale: [f64; 3]) -> Vec<f64> {
    own.iter()
        .zip(reference)
        .map(|(a, r)| (0..3).map(|k| (a[k] - r[k]).abs() / scale[k]).sum())
        .collect()
}

/// The percentile interval of the defined draws.
fn interval(mut draws: Vec<f64>) -> Option<(f64, f64)> {
    draws.retain(|x| !x.is_nan());
    percentile_interval(draws, CONFIDENCE)
}
