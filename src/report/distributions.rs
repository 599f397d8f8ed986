//! One small plot per metric: each compared row's distribution of per-piece values (a Gaussian
//! kernel density, Scott's bandwidth, as the overlap uses) against its reference's.

use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

use crate::features::Feature;
use crate::metrics::plot::PALETTE;
use crate::metrics::stats::{kde, scott_bandwidth};
use crate::metrics::summary::compared_features;
use crate::metrics::{Group, ScoredPiece};

/// Points on each density curve.
const POINTS: usize = 200;

/// The defined values of `f` per group, in the scope each group is shown in.
fn values(rows: &[ScoredPiece], f: Feature) -> BTreeMap<&Group, Vec<f64>> {
    let mut out: BTreeMap<&Group, Vec<f64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.is_shown()) {
        if let Ok(m) = &r.metrics
            && !m[f].is_nan()
        {
            out.entry(&r.group).or_default().push(m[f]);
        }
    }
    out
}

/// Writes `dist/<metric>.svg` under `out` for every compared metric with values; returns
/// (metric, link) in metric order.
pub fn write_distributions(rows: &[ScoredPiece], out: &Path) -> Result<Vec<(Feature, String)>> {
    let mut links = Vec::new();
    let dir = out.join("dist");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in compared_features() {
        let groups = values(rows, f);
        if groups.is_empty() {
            continue;
        }
        let mut svg = String::new();
        render(f, &groups, &mut svg).map_err(|e| anyhow!("cannot draw {}: {e}", f.name()))?;
        let rel = format!("dist/{}.svg", f.name());
        crate::fsio::write_file(&out.join(&rel), svg.as_bytes())?;
        links.push((f, rel));
    }
    Ok(links)
}

/// A density on `POINTS` points over [lo, hi]; a set without spread is a spike at its value.
fn curve(v: &[f64], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let dx = (hi - lo) / (POINTS - 1) as f64;
    match scott_bandwidth(v) {
        Some(h) => (0..POINTS)
            .map(|k| {
                let x = lo + k as f64 * dx;
                (x, kde(v, h, x))
            })
            .collect(),
        None => Vec::new(),
    }
}

fn render(f: Feature, groups: &BTreeMap<&Group, Vec<f64>>, svg: &mut String) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("{e}");
    let all = groups.values().flatten().copied();
    let (mut lo, mut hi) = all
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    let pad = ((hi - lo) * 0.1).max(1e-3);
    (lo, hi) = (lo - pad, hi + pad);
    let curves: Vec<(&Group, Vec<(f64, f64)>)> = groups
        .iter()
        .map(|(g, v)| (*g, curve(v, lo, hi)))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let top = curves
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.1))
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.05;
    let root = SVGBackend::with_string(svg, (420, 260)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(f.name(), ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(40)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .y_desc("density")
        .draw()
        .map_err(|e| err(&e))?;
    let mut colour = 0;
    for (g, c) in curves {
        let style = if g.is_reference() {
            let grey = if g == &Group::reference() {
                BLACK
            } else {
                RGBColor(128, 128, 128)
            };
            grey.stroke_width(3)
        } else {
            colour += 1;
            PALETTE[(colour - 1) % PALETTE.len()].stroke_width(2)
        };
        let label = format!("{}/{}", g.task, g.sampler);
        chart
            .draw_series(LineSeries::new(c, style))
            .map_err(|e| err(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], style));
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 10))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
