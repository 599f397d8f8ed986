//! The summary table on disk: [`SummaryRow`]s as a long DataFrame (one row per task × sampler
//! × scope × metric) and back.

use anyhow::{Context, Result};
use polars::prelude::{Column, DataFrame};
use std::collections::BTreeMap;

use super::pieces::{Group, Scope};
use super::summary::{MetricSummary, SummaryRow};
use crate::features::Feature;

/// The summary as a long DataFrame: one row per task × sampler × scope × metric, with the
/// row's distance, oa_mean and rank repeated on each (filter on `metric` for one value per
/// row).
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
        count("bars", &|r, _| r.bars),
        text("reference", &|r, _| {
            format!("{}/{}", r.reference.task, r.reference.sampler)
        }),
        Column::new(
            "paired".into(),
            cells.iter().map(|(r, _)| r.paired).collect::<Vec<_>>(),
        ),
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
        real("oa_mean_lo", &|r, _| r.oa_mean_ci.map(|c| c.0)),
        real("oa_mean_hi", &|r, _| r.oa_mean_ci.map(|c| c.1)),
        count("rank", &|r, _| r.rank),
    ];
    Ok(DataFrame::new(cells.len(), cols)?)
}

/// The rows back from a frame written by [`summary_frame`], in file order.
pub fn rows_from_frame(df: &DataFrame) -> Result<Vec<SummaryRow>> {
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
    let (n, bars, n_pieces, n_errors, rank) = (
        count("n")?,
        count("bars")?,
        count("n_pieces")?,
        count("n_errors")?,
        count("rank")?,
    );
    let paired: Vec<Option<bool>> = col("paired")?.bool()?.iter().collect();
    let reals: BTreeMap<&str, Vec<Option<f64>>> = [
        "mean",
        "std",
        "mean_lo",
        "mean_hi",
        "delta",
        "delta_lo",
        "delta_hi",
        "diff_lo",
        "diff_hi",
        "oa",
        "distance",
        "distance_lo",
        "distance_hi",
        "gap_lo",
        "gap_hi",
        "oa_mean",
        "oa_mean_lo",
        "oa_mean_hi",
    ]
    .into_iter()
    .map(|c| Ok((c, real(c)?)))
    .collect::<Result<_>>()?;
    let v = |name: &str, i: usize| reals[name][i];
    let pair = |lo: &str, hi: &str, i: usize| v(lo, i).zip(v(hi, i));
    let mut out: Vec<SummaryRow> = Vec::new();
    for i in 0..df.height() {
        let feature = Feature::parse(&metric[i])
            .with_context(|| format!("summary table: unknown metric {:?}", metric[i]))?;
        let group = Group::new(task[i].clone(), sampler[i].clone());
        let scope = Scope::parse(&scope[i])
            .with_context(|| format!("summary table: unknown scope {:?}", scope[i]))?;
        if out
            .last()
            .is_none_or(|r| r.group != group || r.scope != scope)
        {
            let (ref_task, ref_sampler) = reference[i].split_once('/').unwrap_or_default();
            out.push(SummaryRow {
                scope,
                bars: bars[i],
                paired: paired[i].unwrap_or(false),
                reference: Group::new(ref_task, ref_sampler),
                n_pieces: n_pieces[i].unwrap_or(0),
                n_errors: n_errors[i].unwrap_or(0),
                metrics: Vec::new(),
                distance: v("distance", i),
                distance_ci: pair("distance_lo", "distance_hi", i),
                gap_ci: pair("gap_lo", "gap_hi", i),
                oa_mean: v("oa_mean", i),
                oa_mean_ci: pair("oa_mean_lo", "oa_mean_hi", i),
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
