//! The summary as text and the H4-vs-GS plot (mean ± std per task x sampler), for
//! `pipeline report` and the listening page.

use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;
use polars::prelude::{DataFrame, ParquetReader, SerReader};
use std::path::{Path, PathBuf};

use super::pieces::{REFERENCE_SAMPLER, REFERENCE_TASK};
use super::store::{PLOT_FILE, SUMMARY_FILE};

/// One group's point in the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotPoint {
    pub label: String,
    pub reference: bool,
    pub h4: f64,
    pub h4_std: f64,
    pub gs: f64,
    pub gs_std: f64,
}

/// Prints the summary of a metrics folder and writes its `h4_gs.svg`; returns the plot's path.
pub fn print_and_plot(metrics: &Path) -> Result<PathBuf> {
    let summary = read_summary(metrics)?;
    print!("{}", summary_text(&summary)?);
    let points = plot_points(&summary)?;
    let path = metrics.join(PLOT_FILE);
    draw(&points, &path)?;
    println!("plot: {}", path.display());
    Ok(path)
}

/// The summary as an aligned text table: one line per task x sampler, best rank first after
/// the reference.
pub fn summary_text(summary: &DataFrame) -> Result<String> {
    let s = |n: &str| -> Result<Vec<String>> {
        Ok(summary
            .column(n)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect())
    };
    let f =
        |n: &str| -> Result<Vec<Option<f64>>> { Ok(summary.column(n)?.f64()?.iter().collect()) };
    let u =
        |n: &str| -> Result<Vec<Option<u32>>> { Ok(summary.column(n)?.u32()?.iter().collect()) };
    let (task, sampler) = (s("task")?, s("sampler")?);
    let (n, errors, rank) = (u("n")?, u("n_errors")?, u("rank")?);
    let distance = f("distance")?;
    let stats: Vec<(Vec<Option<f64>>, Vec<Option<f64>>)> = ["h1", "h4", "gs"]
        .iter()
        .map(|m| Ok((f(&format!("{m}_mean"))?, f(&format!("{m}_std"))?)))
        .collect::<Result<_>>()?;
    let num =
        |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |x| format!("{x:.digits$}"));
    let mut order: Vec<usize> = (0..summary.height()).collect();
    order.sort_by_key(|&i| {
        (
            task[i] != REFERENCE_TASK,
            rank[i].unwrap_or(u32::MAX),
            task[i].clone(),
            sampler[i].clone(),
        )
    });
    let mut out = format!(
        "{:<32} {:>5} {:>4}  {:>15}  {:>15}  {:>15}  {:>8} {:>4}\n",
        "task/sampler", "n", "err", "H1 mean±std", "H4 mean±std", "GS mean±std", "distance", "rank"
    );
    for i in order {
        let cells: Vec<String> = stats
            .iter()
            .map(|(mean, std)| format!("{}±{}", num(mean[i], 3), num(std[i], 3)))
            .collect();
        out += &format!(
            "{:<32} {:>5} {:>4}  {:>15}  {:>15}  {:>15}  {:>8} {:>4}\n",
            format!("{}/{}", task[i], sampler[i]),
            n[i].unwrap_or(0),
            errors[i].unwrap_or(0),
            cells[0],
            cells[1],
            cells[2],
            num(distance[i], 3),
            rank[i].map_or("-".to_string(), |r| r.to_string())
        );
    }
    Ok(out)
}

/// summary.parquet as a DataFrame.
pub fn read_summary(metrics: &Path) -> Result<DataFrame> {
    let path = metrics.join(SUMMARY_FILE);
    if !path.is_file() {
        anyhow::bail!("no {}: run `pipeline run evaluate` first", path.display());
    }
    let file =
        std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Groups with a defined H4 and GS mean; an undefined std draws no bar.
pub fn plot_points(summary: &DataFrame) -> Result<Vec<PlotPoint>> {
    let s = |n: &str| -> Result<Vec<Option<String>>> {
        Ok(summary
            .column(n)?
            .str()?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    };
    let f =
        |n: &str| -> Result<Vec<Option<f64>>> { Ok(summary.column(n)?.f64()?.iter().collect()) };
    let (task, sampler) = (s("task")?, s("sampler")?);
    let (h4, h4_std, gs, gs_std) = (f("h4_mean")?, f("h4_std")?, f("gs_mean")?, f("gs_std")?);
    let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
    Ok((0..summary.height())
        .filter_map(|i| {
            let (t, sm) = (
                task[i].clone().unwrap_or_default(),
                sampler[i].clone().unwrap_or_default(),
            );
            Some(PlotPoint {
                reference: t == REFERENCE_TASK && sm == REFERENCE_SAMPLER,
                label: format!("{t}/{sm}"),
                h4: finite(h4[i])?,
                h4_std: finite(h4_std[i]).unwrap_or(0.0),
                gs: finite(gs[i])?,
                gs_std: finite(gs_std[i]).unwrap_or(0.0),
            })
        })
        .collect())
}

/// Axis range covering every point with its bars, padded; never empty.
fn span(values: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (v, sd) in values {
        lo = lo.min(v - sd);
        hi = hi.max(v + sd);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(0.05);
    (lo - pad, hi + pad)
}

/// Dark, distinct colours (readable as text on white).
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Writes the SVG (atomically): one point with ±std bars per group; the reference is a black
/// cross.
pub fn draw(points: &[PlotPoint], path: &Path) -> Result<()> {
    let mut svg = String::new();
    render(points, &mut svg).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
    crate::fsio::write_file(path, svg.as_bytes())
}

fn render(points: &[PlotPoint], svg: &mut String) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("{e}");
    let (x0, x1) = span(points.iter().map(|p| (p.h4, p.h4_std)));
    let (y0, y1) = span(points.iter().map(|p| (p.gs, p.gs_std)));
    let root = SVGBackend::with_string(svg, (960, 680)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "H4 vs GS per task/sampler (mean ± std; × = real reference)",
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("H4 (bits, pitch-class entropy over 4 bars)")
        .y_desc("GS (grooving similarity)")
        .draw()
        .map_err(|e| err(&e))?;
    for (i, p) in points.iter().enumerate() {
        let color: RGBAColor = if p.reference {
            BLACK.to_rgba()
        } else {
            PALETTE[i % PALETTE.len()].to_rgba()
        };
        let line = color.mix(0.55).stroke_width(2);
        let bars = [
            PathElement::new(vec![(p.h4 - p.h4_std, p.gs), (p.h4 + p.h4_std, p.gs)], line),
            PathElement::new(vec![(p.h4, p.gs - p.gs_std), (p.h4, p.gs + p.gs_std)], line),
        ];
        chart.draw_series(bars).map_err(|e| err(&e))?;
        let label = Text::new(
            p.label.clone(),
            (10, -16),
            ("sans-serif", 14).into_font().color(&color),
        );
        if p.reference {
            let mark = EmptyElement::at((p.h4, p.gs))
                + Cross::new((0, 0), 9, color.stroke_width(4))
                + label;
            chart
                .draw_series(std::iter::once(mark))
                .map_err(|e| err(&e))?;
        } else {
            let mark =
                EmptyElement::at((p.h4, p.gs)) + Circle::new((0, 0), 6, color.filled()) + label;
            chart
                .draw_series(std::iter::once(mark))
                .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
