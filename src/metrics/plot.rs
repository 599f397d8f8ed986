//! The summary as text and the H4-vs-GS plot (mean with its bootstrap interval per task ×
//! sampler), for `pipeline report` and the listening page.

use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;
use polars::prelude::{ParquetReader, SerReader};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::store::{PLOT_FILE, SUMMARY_FILE};
use super::summary::{DISTANCE_FEATURES, SummaryRow};
use super::summary_frame::rows_from_frame;
use crate::features::Feature;

/// One group's point in the plot: means with their intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotPoint {
    pub label: String,
    pub reference: bool,
    pub h4: f64,
    pub h4_ci: (f64, f64),
    pub gs: f64,
    pub gs_ci: (f64, f64),
}

/// Prints the summary of a metrics folder and writes its `h4_gs.svg`; returns the plot's path.
pub fn print_and_plot(metrics: &Path) -> Result<PathBuf> {
    let summary = read_summary(metrics)?;
    print!("{}", summary_text(&summary));
    let path = metrics.join(PLOT_FILE);
    draw(&plot_points(&summary), &path)?;
    println!("plot: {}", path.display());
    Ok(path)
}

/// The rows as the report shows them: by comparison (reference and scope, in the order the
/// groups are compared), the reference first, then by rank, unranked last.
pub fn report_order(summary: &[SummaryRow]) -> Vec<&SummaryRow> {
    let mut order: Vec<&SummaryRow> = summary.iter().collect();
    order.sort_by_key(|r| {
        (
            r.scope,
            r.reference.clone(),
            !r.group.is_reference(),
            r.rank.unwrap_or(u32::MAX),
            r.group.clone(),
        )
    });
    order
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.digits$}"))
}

/// "mean [lo, hi]" with a `*` when the mean differs from its reference beyond the interval.
pub fn mean_cell(row: &SummaryRow, f: Feature, digits: usize) -> String {
    let Some(m) = row.metric(f) else {
        return "-".into();
    };
    let ci = m.mean_ci.map_or(String::new(), |(lo, hi)| {
        format!(" [{lo:.digits$}, {hi:.digits$}]")
    });
    let star = if m.differs() == Some(true) { "*" } else { "" };
    format!("{}{ci}{star}", num(m.mean, digits))
}

/// `distance [lo, hi]`, marked `=` when tied with the best row of its comparison.
fn distance_cell(r: &SummaryRow) -> String {
    let ci = r
        .distance_ci
        .map_or(String::new(), |(lo, hi)| format!(" [{lo:.2}, {hi:.2}]"));
    let tied = if r.tied_with_best() == Some(true) {
        "="
    } else {
        ""
    };
    format!("{}{ci}{tied}", num(r.distance, 3))
}

/// `oa_mean [lo, hi]`.
fn oa_cell(r: &SummaryRow) -> String {
    let ci = r
        .oa_mean_ci
        .map_or(String::new(), |(lo, hi)| format!(" [{lo:.2}, {hi:.2}]"));
    format!("{}{ci}", num(r.oa_mean, 3))
}

/// The scope as the tables print it: `excerpt 32`, `continuation 24`, `piece`, and `paired`.
pub fn scope_label(r: &SummaryRow) -> String {
    let bars = r.bars.map_or(String::new(), |b| format!(" {b}"));
    let paired = if r.paired { " paired" } else { "" };
    format!("{}{bars}{paired}", r.scope.as_str())
}

/// The metrics of the drift block: where a model leaves the key, the range, the density or
/// the repetition of real music.
pub const DRIFT_FEATURES: [Feature; 5] = [
    Feature::NotesPerBar,
    Feature::PitchRange,
    Feature::NPitchClasses,
    Feature::RepeatedBarShare,
    Feature::DensityDrift,
];

/// The summary as aligned text: one line per row with H1, H4 and GS and their intervals, the
/// distance and the mean overlap; then the drift metrics; then the overlap of every metric
/// with the reference.
pub fn summary_text(summary: &[SummaryRow]) -> String {
    let order = report_order(summary);
    let label = |r: &SummaryRow| format!("{}/{}", r.group.task, r.group.sampler);
    let mut out = format!(
        "{:>2}  {:<28} {:<22} {:>6} {:>3}  {:<25} {:<25} {:<25} {:<23} {:<21} {:>4}\n",
        "#",
        "task/sampler",
        "scope (bars)",
        "pieces",
        "err",
        "H1 mean [CI]",
        "H4 mean [CI]",
        "GS mean [CI]",
        "distance [CI]",
        "oa_mean [CI]",
        "rank"
    );
    for (i, r) in order.iter().enumerate() {
        let cells = DISTANCE_FEATURES.map(|f| mean_cell(r, f, 3));
        let _ = writeln!(
            out,
            "{:>2}  {:<28} {:<22} {:>6} {:>3}  {:<25} {:<25} {:<25} {:<23} {:<21} {:>4}",
            i + 1,
            label(r),
            scope_label(r),
            r.n_pieces,
            r.n_errors,
            cells[0],
            cells[1],
            cells[2],
            distance_cell(r),
            oa_cell(r),
            r.rank.map_or("-".to_string(), |k| k.to_string())
        );
    }
    let _ = writeln!(
        out,
        "every row is compared at the length in its scope: excerpt = the first bars, continuation = \
         the generated bars against the real continuations of the same prompts (paired: the \
         intervals resample prompts)\n\
         distance: Σ over H1, H4, GS of |mean − reference mean| / reference std; = : not \
         distinguishable from the best row of its comparison (the 95% interval of the gap \
         includes 0); oa_mean: the mean overlap over every metric (1 = the same distribution)"
    );
    let _ = write!(out, "\n{:>2}  {:<28}", "#", "drift: mean [CI]");
    for f in DRIFT_FEATURES {
        let _ = write!(out, " {:<25}", f.name());
    }
    out.push('\n');
    for (i, r) in order.iter().enumerate() {
        let _ = write!(out, "{:>2}  {:<28}", i + 1, label(r));
        for f in DRIFT_FEATURES {
            let _ = write!(out, " {:<25}", mean_cell(r, f, 2));
        }
        out.push('\n');
    }
    let compared: Vec<(usize, &&SummaryRow)> = order
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.group.is_reference())
        .collect();
    if compared.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\noverlap with the reference (oa: 1 = same distribution, 0 = disjoint; * = the mean differs beyond its 95% interval)"
    );
    let _ = write!(out, "{:<20}", "metric");
    for (i, _) in &compared {
        let _ = write!(out, " {:>7}", format!("#{}", i + 1));
    }
    out.push('\n');
    for f in super::summary::compared_features() {
        let _ = write!(out, "{:<20}", f.name());
        for (_, r) in &compared {
            let m = r.metric(f);
            let star = if m.and_then(|m| m.differs()) == Some(true) {
                "*"
            } else {
                " "
            };
            let _ = write!(out, " {:>6}{star}", num(m.and_then(|m| m.oa), 3));
        }
        out.push('\n');
    }
    out
}

/// summary.parquet's rows.
pub fn read_summary(metrics: &Path) -> Result<Vec<SummaryRow>> {
    let path = metrics.join(SUMMARY_FILE);
    if !path.is_file() {
        anyhow::bail!("no {}: run `pipeline run evaluate` first", path.display());
    }
    let file =
        std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let df = ParquetReader::new(file)
        .finish()
        .with_context(|| format!("cannot read {}", path.display()))?;
    rows_from_frame(&df).with_context(|| {
        format!(
            "{}: written by another version? run `pipeline run evaluate --force`",
            path.display()
        )
    })
}

/// Groups with a defined H4 and GS mean, each in the scope it is shown in; an undefined
/// interval draws no bar.
pub fn plot_points(summary: &[SummaryRow]) -> Vec<PlotPoint> {
    let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
    summary
        .iter()
        .filter(|r| r.group.compared_scopes().first() == Some(&r.scope))
        .filter_map(|r| {
            let (h4, gs) = (r.metric(Feature::H4)?, r.metric(Feature::Gs)?);
            let (h4_mean, gs_mean) = (finite(h4.mean)?, finite(gs.mean)?);
            Some(PlotPoint {
                reference: r.group.is_reference(),
                label: format!("{}/{}", r.group.task, r.group.sampler),
                h4: h4_mean,
                h4_ci: h4.mean_ci.unwrap_or((h4_mean, h4_mean)),
                gs: gs_mean,
                gs_ci: gs.mean_ci.unwrap_or((gs_mean, gs_mean)),
            })
        })
        .collect()
}

/// Axis range covering every interval, padded; never empty.
fn span(values: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (a, b) in values {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(0.05);
    (lo - pad, hi + pad)
}

/// Dark, distinct colours (readable as text on white).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Writes the SVG (atomically): one point per group with its intervals as error bars; the
/// references are black crosses.
pub fn draw(points: &[PlotPoint], path: &Path) -> Result<()> {
    let mut svg = String::new();
    render(points, &mut svg).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
    crate::fsio::write_file(path, svg.as_bytes())
}

fn render(points: &[PlotPoint], svg: &mut String) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("{e}");
    let (x0, x1) = span(points.iter().map(|p| p.h4_ci));
    let (y0, y1) = span(points.iter().map(|p| p.gs_ci));
    let root = SVGBackend::with_string(svg, (960, 680)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "H4 vs GS per task/sampler (mean, 95% bootstrap interval; × = real music)",
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
            PathElement::new(vec![(p.h4_ci.0, p.gs), (p.h4_ci.1, p.gs)], line),
            PathElement::new(vec![(p.h4, p.gs_ci.0), (p.h4, p.gs_ci.1)], line),
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
