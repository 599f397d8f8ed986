//! H1, H4, GS and the per-piece statistics, computed from a note list (docs/design.md, "Metrics").
//!
//! Notes are placed on the REMI grid with [`crate::remi::onset_step`]: bar = step / 16,
//! pos = step % 16, n_bars = last onset bar + 1.
//! - H_w: for each window of w bars starting at bar 0..=n_bars-w with at least one note, the
//!   entropy in bits of the pitch-class histogram; H_w is the mean over those windows; if
//!   n_bars < w the whole piece is one window.
//! - GS: mean over all bar pairs i<j of 1 - sum|v_i - v_j| / 16, with v the binary onset vector
//!   of a bar (empty bars are all zero).
//!
//! Undefined values are NaN: a piece without notes has NaN everywhere, and a one-bar piece has
//! GS = NaN because it has no pair of bars to average over.

use crate::midi::{Note, TPB};
use crate::remi::{STEPS_PER_BAR, onset_step};

/// The scores of one piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PieceMetrics {
    pub h1: f64,
    pub h4: f64,
    pub gs: f64,
    pub n_bars: u32,
    pub n_notes: u32,
    pub notes_per_bar: f64,
    /// Highest minus lowest pitch (0 without notes).
    pub pitch_range: u32,
    pub mean_velocity: f64,
    pub mean_duration_beats: f64,
    pub empty_bar_share: f64,
}

/// What one bar contributes: its pitch-class histogram and its onset positions as a bit mask.
#[derive(Debug, Clone, Copy, Default)]
struct Bar {
    pitch_classes: [u32; 12],
    onsets: u16,
    n_notes: u32,
}

fn bars_of(notes: &[Note]) -> Vec<Bar> {
    let Some(last) = notes
        .iter()
        .map(|n| onset_step(n.start) / STEPS_PER_BAR)
        .max()
    else {
        return Vec::new();
    };
    let mut bars = vec![Bar::default(); last as usize + 1];
    for n in notes {
        let step = onset_step(n.start);
        let bar = &mut bars[(step / STEPS_PER_BAR) as usize];
        bar.pitch_classes[(n.pitch % 12) as usize] += 1;
        bar.onsets |= 1 << (step % STEPS_PER_BAR);
        bar.n_notes += 1;
    }
    bars
}

/// Entropy in bits of a histogram, summed in pitch-class order; `None` when it is empty.
fn entropy_bits(hist: &[u32; 12]) -> Option<f64> {
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

/// H_w over the bars, with a sliding window histogram (one add and one remove per step).
fn pitch_class_entropy(bars: &[Bar], w: usize) -> f64 {
    if bars.is_empty() || w == 0 {
        return f64::NAN;
    }
    let w = w.min(bars.len()); // n_bars < w: the whole piece is one window
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

fn add(hist: &mut [u32; 12], bar: &Bar, sign: i32) {
    for (h, &c) in hist.iter_mut().zip(&bar.pitch_classes) {
        *h = (*h as i64 + sign as i64 * c as i64) as u32;
    }
}

/// Grooving similarity. Summed over all pairs, sum|v_i - v_j| splits by position: a position
/// where `k` of the `n` bars have an onset differs in exactly k * (n - k) pairs. So GS is exact
/// in O(16 n) with integer counts, instead of O(n^2) over pairs.
fn grooving_similarity(bars: &[Bar]) -> f64 {
    let n = bars.len() as u64;
    if n < 2 {
        return f64::NAN;
    }
    let mut ones = [0u64; STEPS_PER_BAR as usize];
    for b in bars {
        for (p, o) in ones.iter_mut().enumerate() {
            *o += u64::from((b.onsets >> p) & 1);
        }
    }
    let differing: u64 = ones.iter().map(|&k| k * (n - k)).sum();
    let pairs = n * (n - 1) / 2;
    1.0 - differing as f64 / (STEPS_PER_BAR as u64 * pairs) as f64
}

/// All metrics of one piece. Notes need not be sorted.
pub fn piece_metrics(notes: &[Note]) -> PieceMetrics {
    let bars = bars_of(notes);
    let n_bars = bars.len() as u32;
    let n_notes = notes.len() as u32;
    let per_note_mean = |f: &dyn Fn(&Note) -> f64| {
        if notes.is_empty() {
            f64::NAN
        } else {
            notes.iter().map(f).sum::<f64>() / notes.len() as f64
        }
    };
    let per_bar = |x: f64| {
        if n_bars == 0 {
            f64::NAN
        } else {
            x / n_bars as f64
        }
    };
    let pitch_range = match (
        notes.iter().map(|n| n.pitch).max(),
        notes.iter().map(|n| n.pitch).min(),
    ) {
        (Some(hi), Some(lo)) => u32::from(hi - lo),
        _ => 0,
    };
    let empty_bars = bars.iter().filter(|b| b.n_notes == 0).count();
    PieceMetrics {
        h1: pitch_class_entropy(&bars, 1),
        h4: pitch_class_entropy(&bars, 4),
        gs: grooving_similarity(&bars),
        n_bars,
        n_notes,
        notes_per_bar: per_bar(n_notes as f64),
        pitch_range,
        mean_velocity: per_note_mean(&|n| n.velocity as f64),
        mean_duration_beats: per_note_mean(&|n| n.end.saturating_sub(n.start) as f64 / TPB as f64),
        empty_bar_share: per_bar(empty_bars as f64),
    }
}

/// H_w alone, for any window length (H1 and H4 are `w` = 1 and 4).
pub fn h_w(notes: &[Note], w: usize) -> f64 {
    pitch_class_entropy(&bars_of(notes), w)
}

/// GS alone.
pub fn gs(notes: &[Note]) -> f64 {
    grooving_similarity(&bars_of(notes))
}
