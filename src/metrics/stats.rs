//! The statistics of the summary (docs/design.md, "Metrics"): mean and sample std, percentile
//! bootstrap intervals, and the overlapping area of two kernel density estimates.

use crate::rng::Rng;

pub fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Sample standard deviation (n − 1); `None` below two values.
pub fn std(v: &[f64]) -> Option<f64> {
    let m = mean(v)?;
    (v.len() >= 2)
        .then(|| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
}

/// The means of `resamples` resamples of `v` (with replacement, same size); none when `v` is
/// empty.
pub fn bootstrap_means(v: &[f64], resamples: usize, rng: &mut Rng) -> Vec<f64> {
    if v.is_empty() {
        return Vec::new();
    }
    let n = v.len() as u64;
    (0..resamples)
        .map(|_| (0..n).map(|_| v[rng.below(n) as usize]).sum::<f64>() / n as f64)
        .collect()
}

/// The `p` quantile of sorted values, interpolating linearly between neighbours (numpy's default).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let pos = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    match sorted.get(lo + 1) {
        Some(next) => sorted[lo] + frac * (next - sorted[lo]),
        None => sorted[lo],
    }
}

/// The central `confidence` interval of bootstrap replicates (percentile method).
pub fn percentile_interval(mut replicates: Vec<f64>, confidence: f64) -> Option<(f64, f64)> {
    if replicates.is_empty() {
        return None;
    }
    replicates.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    Some((
        quantile(&replicates, tail),
        quantile(&replicates, 1.0 - tail),
    ))
}

/// Points of the integration grid of [`overlap_area`].
pub const OA_GRID: usize = 1000;

/// Scott's rule: h = std × n^(−1/5).
pub fn scott_bandwidth(v: &[f64]) -> Option<f64> {
    Some(std(v)? * (v.len() as f64).powf(-0.2)).filter(|h| *h > 0.0 && h.is_finite())
}

/// A Gaussian kernel density estimate with bandwidth `h`, at `x`.
pub fn kde(v: &[f64], h: f64, x: f64) -> f64 {
    let norm = 1.0 / (v.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
    norm * v
        .iter()
        .map(|xi| (-0.5 * ((x - xi) / h).powi(2)).exp())
        .sum::<f64>()
}

/// The overlapping area of the two sets' densities: ∫ min(f_a, f_b), each a Gaussian KDE with
/// its own Scott bandwidth, by the trapezoid rule over [`OA_GRID`] points from min − 3h to
/// max + 3h of both sets (h the larger bandwidth). 1 = the same distribution, 0 = disjoint.
/// `None` when either set has fewer than two distinct values.
pub fn overlap_area(a: &[f64], b: &[f64]) -> Option<f64> {
    let ones = |v: &[f64]| v.iter().map(|&x| (x, 1.0)).collect::<Vec<_>>();
    overlap_area_weighted(&ones(a), &ones(b))
}

/// [`overlap_area`] of two samples given as (value, how often it was drawn): the same as the
/// samples with each value repeated that often (a bootstrap resample), without repeating them.
pub fn overlap_area_weighted(a: &[(f64, f64)], b: &[(f64, f64)]) -> Option<f64> {
    let (ha, hb) = (weighted_bandwidth(a)?, weighted_bandwidth(b)?);
    let h = ha.max(hb);
    let all = a.iter().chain(b).map(|p| p.0);
    let lo = all.clone().fold(f64::INFINITY, f64::min) - 3.0 * h;
    let hi = all.fold(f64::NEG_INFINITY, f64::max) + 3.0 * h;
    let dx = (hi - lo) / (OA_GRID - 1) as f64;
    let (fa, fb) = (kde_grid(a, ha, lo, dx), kde_grid(b, hb, lo, dx));
    let y: Vec<f64> = fa.iter().zip(&fb).map(|(p, q)| p.min(*q)).collect();
    Some(y.windows(2).map(|w| (w[0] + w[1]) / 2.0 * dx).sum())
}

/// Scott's bandwidth of a weighted sample (n = the total weight).
fn weighted_bandwidth(v: &[(f64, f64)]) -> Option<f64> {
    let n: f64 = v.iter().map(|p| p.1).sum();
    if n < 2.0 {
        return None;
    }
    let m = v.iter().map(|p| p.0 * p.1).sum::<f64>() / n;
    let var = v.iter().map(|p| p.1 * (p.0 - m).powi(2)).sum::<f64>() / (n - 1.0);
    Some(var.sqrt() * n.powf(-0.2)).filter(|h| *h > 0.0 && h.is_finite())
}

/// Grid points between two exact evaluations of a kernel in [`kde_grid`].
const ANCHOR_EVERY: usize = 64;

/// The weighted Gaussian KDE at the [`OA_GRID`] points `lo + k·dx`, as [`kde`] gives it, in a few
/// multiplications per point: along the grid, a kernel's value changes by a factor that itself
/// changes by the constant exp(−(dx/h)²), so each kernel is evaluated exactly (exp) only every
/// [`ANCHOR_EVERY`] points and carried between them (relative error below 1e-13). Eight kernels
/// are summed side by side, so the loop vectorises.
fn kde_grid(points: &[(f64, f64)], h: f64, lo: f64, dx: f64) -> Vec<f64> {
    const LANES: usize = 8;
    let n: f64 = points.iter().map(|p| p.1).sum();
    let norm = 1.0 / (n * h * (2.0 * std::f64::consts::PI).sqrt());
    let step = dx / h;
    let q = (-step * step).exp();
    let len = points.len().div_ceil(LANES) * LANES;
    // Padding lanes have weight 0.
    let (mut w, mut t0) = (vec![0.0; len], vec![0.0; len]);
    for (i, p) in points.iter().enumerate() {
        w[i] = p.1;
        t0[i] = (lo - p.0) / h;
    }
    let (mut g, mut r) = (vec![0.0; len], vec![0.0; len]);
    let mut out = vec![0.0; OA_GRID];
    for (k, y) in out.iter_mut().enumerate() {
        if k % ANCHOR_EVERY == 0 {
            for i in 0..len {
                let t = t0[i] + k as f64 * step;
                g[i] = (-0.5 * t * t).exp();
                r[i] = (-t * step - 0.5 * step * step).exp();
            }
        }
        let mut acc = [0.0; LANES];
        for ((w, g), r) in w
            .chunks_exact(LANES)
            .zip(g.chunks_exact_mut(LANES))
            .zip(r.chunks_exact_mut(LANES))
        {
            for l in 0..LANES {
                acc[l] += w[l] * g[l];
                g[l] *= r[l];
                r[l] *= q;
            }
        }
        *y = norm * acc.iter().sum::<f64>();
    }
    out
}
