//! A small H4-against-GS scatter (mean ± std per task × sampler), drawn when evaluate left no
//! metrics/h4_gs.svg to copy.

use std::fmt::Write as _;

use super::data::SummaryRow;
use super::escape::html;

const W: f64 = 640.0;
const H: f64 = 420.0;
const PAD: f64 = 50.0;

/// The SVG, or None when no row has both an H4 and a GS mean.
pub fn h4_gs_svg(rows: &[SummaryRow]) -> Option<String> {
    let pts: Vec<(&SummaryRow, f64, f64, f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let (h4, gs) = (r.get("h4_mean")?, r.get("gs_mean")?);
            (h4.is_finite() && gs.is_finite()).then(|| {
                let sd = |c| r.get(c).filter(|v: &f64| v.is_finite()).unwrap_or(0.0);
                (r, h4, gs, sd("h4_std"), sd("gs_std"))
            })
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    let range = |lo: f64, hi: f64| {
        let pad = ((hi - lo) * 0.1).max(0.05);
        (lo - pad, hi + pad)
    };
    let (x0, x1) = range(
        pts.iter().map(|p| p.1 - p.3).fold(f64::INFINITY, f64::min),
        pts.iter()
            .map(|p| p.1 + p.3)
            .fold(f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1) = range(
        pts.iter().map(|p| p.2 - p.4).fold(f64::INFINITY, f64::min),
        pts.iter()
            .map(|p| p.2 + p.4)
            .fold(f64::NEG_INFINITY, f64::max),
    );
    let sx = |x: f64| PAD + (x - x0) / (x1 - x0) * (W - 2.0 * PAD);
    let sy = |y: f64| H - PAD - (y - y0) / (y1 - y0) * (H - 2.0 * PAD);
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11"><rect width="{W}" height="{H}" fill="#fff"/>"##
    );
    let _ = write!(
        s,
        r##"<rect x="{PAD}" y="{PAD}" width="{}" height="{}" fill="none" stroke="#888"/><text x="{}" y="{}" text-anchor="middle">H4 (bits)</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">GS</text>"##,
        W - 2.0 * PAD,
        H - 2.0 * PAD,
        W / 2.0,
        H - 12.0,
        H / 2.0,
        H / 2.0
    );
    for i in 0..=4 {
        let (xv, yv) = (
            x0 + (x1 - x0) * i as f64 / 4.0,
            y0 + (y1 - y0) * i as f64 / 4.0,
        );
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle">{xv:.2}</text><text x="{}" y="{}" text-anchor="end">{yv:.2}</text>"##,
            sx(xv),
            H - PAD + 14.0,
            PAD - 4.0,
            sy(yv) + 4.0
        );
    }
    for (r, h4, gs, h4sd, gssd) in pts {
        let color = if r.is_reference() {
            "#1f5fa8"
        } else {
            "#c0392b"
        };
        let (cx, cy) = (sx(h4), sy(gs));
        let _ = write!(
            s,
            r##"<line x1="{}" y1="{cy}" x2="{}" y2="{cy}" stroke="{color}"/><line x1="{cx}" y1="{}" x2="{cx}" y2="{}" stroke="{color}"/><circle cx="{cx}" cy="{cy}" r="4" fill="{color}"/><text x="{}" y="{}">{}</text>"##,
            sx(h4 - h4sd),
            sx(h4 + h4sd),
            sy(gs - gssd),
            sy(gs + gssd),
            cx + 6.0,
            cy - 6.0,
            html(&format!("{}/{}", r.task, r.sampler))
        );
    }
    s.push_str("</svg>\n");
    Some(s)
}
