//! Pitch features: H_w (windowed pitch-class entropy), the whole piece's pitch-class entropy
//! and count, scale consistency, pitch range and the mean jump between consecutive notes.

use super::grid::{Bar, GridNote};

/// Entropy in bits of a histogram, summed in pitch-class order; `None` when it is empty.
pub fn entropy_bits(hist: &[u32; 12]) -> Option<f64> {
    let total: u32 = hist.iter().sum();
    if total == 0 {
        return None;
    }
    let total = total as f64;
    let h = hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum::<f64>();
    Some(h)
}

/// H_w: the mean over windows of `w` bars (starting at every bar, step one bar) that hold a
/// note of the window's pitch-class entropy; the whole piece is one window when it has fewer
/// than `w` bars. A sliding histogram makes it one add and one remove per bar.
pub fn windowed_entropy(bars: &[Bar], w: usize) -> f64 {
    if bars.is_empty() || w == 0 {
        return f64::NAN;
    }
    let w = w.min(bars.len());
    let mut hist = [0u32; 12];
    for b in &bars[..w] {
        add(&mut hist, b, 1);
    }
    let (mut sum, mut count) = (0.0, 0usize);
    for start in 0..=bars.len() - w {
        if start > 0 {
            add(&mut hist, &bars[start - 1], -1);
            add(&mut hist, &bars[start + w - 1], 1);
        }
        if let Some(h) = entropy_bits(&hist) {
            sum += h;
            count += 1;
        }
    }
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

fn add(hist: &mut [u32; 12], bar: &Bar, sign: i64) {
    for (h, &c) in hist.iter_mut().zip(&bar.pitch_classes) {
        *h = (*h as i64 + sign * c as i64) as u32;
    }
}

/// Notes per pitch class.
pub fn histogram(notes: &[GridNote]) -> [u32; 12] {
    let mut hist = [0u32; 12];
    for n in notes {
        hist[(n.pitch % 12) as usize] += 1;
    }
    hist
}

/// pc_entropy: the entropy of the whole piece's pitch-class histogram.
pub fn piece_entropy(notes: &[GridNote]) -> f64 {
    entropy_bits(&histogram(notes)).unwrap_or(f64::NAN)
}

/// n_pitch_classes: distinct pitch classes used (0 without notes).
pub fn n_pitch_classes(notes: &[GridNote]) -> u32 {
    histogram(notes).iter().filter(|&&c| c > 0).count() as u32
}

const MAJOR: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];
const NATURAL_MINOR: [u8; 7] = [0, 2, 3, 5, 7, 8, 10];

/// scale_consistency: the largest share of notes inside one scale, over the 12 roots of the
/// major and the natural minor scale.
pub fn scale_consistency(notes: &[GridNote]) -> f64 {
    if notes.is_empty() {
        return f64::NAN;
    }
    let hist = histogram(notes);
    let best = (0..12u8)
        .flat_map(|root| [MAJOR, NATURAL_MINOR].map(move |scale| (root, scale)))
        .map(|(root, scale)| {
            scale
                .iter()
                .map(|d| hist[((root + d) % 12) as usize])
                .sum::<u32>()
        })
        .max()
        .unwrap_or(0);
    best as f64 / notes.len() as f64
}

/// Highest minus lowest pitch (0 without notes).
pub fn range(notes: &[GridNote]) -> u32 {
    let hi = notes.iter().map(|n| n.pitch).max();
    let lo = notes.iter().map(|n| n.pitch).min();
    match (hi, lo) {
        (Some(hi), Some(lo)) => u32::from(hi - lo),
        _ => 0,
    }
}

/// mean_pitch_jump: notes in (step, pitch) order, the mean |pitch difference| of neighbours.
/// `notes` must be sorted that way (as [`super::grid::grid_notes`] returns them).
pub fn mean_pitch_jump(notes: &[GridNote]) -> f64 {
    if notes.len() < 2 {
        return f64::NAN;
    }
    let total: u64 = notes
        .windows(2)
        .map(|w| u64::from(w[0].pitch.abs_diff(w[1].pitch)))
        .sum();
    total as f64 / (notes.len() - 1) as f64
}
