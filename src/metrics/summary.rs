//! The summary table: per task x sampler, mean and std of H1, H4, GS, their distance to the
//! reference (the real test split) and a rank.
//!
//! - `n` counts the group's files, `n_errors` those that could not be read.
//! - mean / std (sample std, n - 1) are over the pieces where the metric is defined: errors and
//!   NaN (e.g. GS of a one-bar piece) are left out; null when no piece (std: fewer than two) has it.
//! - `<m>_delta` = |mean - reference mean|.
//! - `distance` = sum over H1, H4, GS of delta / reference std (the delta alone where the
//!   reference std is undefined or 0), so each metric counts in units of the real spread.
//! - `rank` orders the non-reference groups by distance, 1 = closest to the real data; the
//!   reference row has distance 0 and no rank. Without reference rows deltas, distance and rank
//!   are null.

use anyhow::Result;
use polars::prelude::{Column, DataFrame};
use std::collections::BTreeMap;

use super::pieces::{Group, ScoredPiece};
use super::score::PieceMetrics;

/// Mean and sample std of one metric in one group.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stat {
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

impl Stat {
    fn of(values: impl Iterator<Item = f64>) -> Stat {
        let v: Vec<f64> = values.filter(|x| !x.is_nan()).collect();
        let n = v.len() as f64;
        let mean = (!v.is_empty()).then(|| v.iter().sum::<f64>() / n);
        let std = match mean {
            Some(m) if v.len() >= 2 => {
                Some((v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
            }
            _ => None,
        };
        Stat { mean, std }
    }
}

/// One row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub group: Group,
    pub n: u32,
    pub n_errors: u32,
    /// H1, H4, GS in that order.
    pub stats: [Stat; 3],
    pub deltas: [Option<f64>; 3],
    pub distance: Option<f64>,
    pub rank: Option<u32>,
}

pub const METRIC_NAMES: [&str; 3] = ["h1", "h4", "gs"];

fn metric(m: &PieceMetrics, i: usize) -> f64 {
    [m.h1, m.h4, m.gs][i]
}

/// Summarise rows of any groups, sorted by (task, sampler).
pub fn summarize(rows: &[ScoredPiece]) -> Vec<SummaryRow> {
    let mut groups: BTreeMap<&Group, Vec<&ScoredPiece>> = BTreeMap::new();
    for r in rows {
        groups.entry(&r.group).or_default().push(r);
    }
    let mut out: Vec<SummaryRow> = groups
        .into_iter()
        .map(|(group, rows)| {
            let ok: Vec<&PieceMetrics> = rows
                .iter()
                .filter_map(|r| r.metrics.as_ref().ok())
                .collect();
            SummaryRow {
                group: group.clone(),
                n: rows.len() as u32,
                n_errors: (rows.len() - ok.len()) as u32,
                stats: std::array::from_fn(|i| Stat::of(ok.iter().map(|m| metric(m, i)))),
                deltas: [None; 3],
                distance: None,
                rank: None,
            }
        })
        .collect();
    let Some(reference) = out.iter().find(|s| s.group.is_reference()).map(|s| s.stats) else {
        return out;
    };
    for s in &mut out {
        s.deltas = std::array::from_fn(|i| Some((s.stats[i].mean? - reference[i].mean?).abs()));
        s.distance = (0..3)
            .map(|i| {
                let scale = reference[i]
                    .std
                    .filter(|sd| *sd > 0.0 && sd.is_finite())
                    .unwrap_or(1.0);
                s.deltas[i].map(|d| d / scale)
            })
            .sum::<Option<f64>>();
    }
    let mut order: Vec<usize> = (0..out.len())
        .filter(|&i| !out[i].group.is_reference() && out[i].distance.is_some())
        .collect();
    // Stable sort: ties keep (task, sampler) order.
    order.sort_by(|&a, &b| {
        out[a]
            .distance
            .partial_cmp(&out[b].distance)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for (rank, i) in order.into_iter().enumerate() {
        out[i].rank = Some(rank as u32 + 1);
    }
    out
}

/// The summary as a DataFrame (one file, so task and sampler are ordinary columns).
pub fn summary_frame(summary: &[SummaryRow]) -> Result<DataFrame> {
    let mut cols: Vec<Column> = vec![
        Column::new(
            "task".into(),
            summary
                .iter()
                .map(|s| s.group.task.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "sampler".into(),
            summary
                .iter()
                .map(|s| s.group.sampler.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("n".into(), summary.iter().map(|s| s.n).collect::<Vec<_>>()),
        Column::new(
            "n_errors".into(),
            summary.iter().map(|s| s.n_errors).collect::<Vec<_>>(),
        ),
    ];
    for (i, name) in METRIC_NAMES.iter().enumerate() {
        cols.push(Column::new(
            format!("{name}_mean").into(),
            summary.iter().map(|s| s.stats[i].mean).collect::<Vec<_>>(),
        ));
        cols.push(Column::new(
            format!("{name}_std").into(),
            summary.iter().map(|s| s.stats[i].std).collect::<Vec<_>>(),
        ));
    }
    for (i, name) in METRIC_NAMES.iter().enumerate() {
        cols.push(Column::new(
            format!("{name}_delta").into(),
            summary.iter().map(|s| s.deltas[i]).collect::<Vec<_>>(),
        ));
    }
    cols.push(Column::new(
        "distance".into(),
        summary.iter().map(|s| s.distance).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "rank".into(),
        summary.iter().map(|s| s.rank).collect::<Vec<_>>(),
    ));
    Ok(DataFrame::new(summary.len(), cols)?)
}
