//! Structure and drift: literal repetition of bars, the growth of density from a piece's
//! start to its end, and runs of one repeated pitch (the loops, runaways and drones that
//! H1, H4 and GS do not see).

use std::collections::HashSet;

use super::grid::{Bar, GridNote};
use crate::remi::STEPS_PER_BAR;

/// Bars compared at each end of a piece by [`density_drift`].
pub const DRIFT_BARS: usize = 8;

/// repeated_bar_share: over bars i = 1..n_bars − 1 whose (position, pitch) set B_i is not empty,
/// the share for which an earlier bar j < i has B_j = B_i exactly; NaN without such a bar.
/// `notes` sorted by (step, pitch), so each bar's list comes out sorted.
pub fn repeated_bar_share(notes: &[GridNote], n_bars: usize) -> f64 {
    let mut sets: Vec<Vec<(u32, u8)>> = vec![Vec::new(); n_bars];
    for n in notes {
        let bar = (n.step / STEPS_PER_BAR) as usize;
        if let Some(set) = sets.get_mut(bar) {
            set.push((n.step % STEPS_PER_BAR, n.pitch));
        }
    }
    for set in &mut sets {
        set.dedup();
    }
    let mut seen: HashSet<&[(u32, u8)]> = HashSet::with_capacity(n_bars);
    let (mut eligible, mut repeated) = (0u32, 0u32);
    for (i, set) in sets.iter().enumerate() {
        let set = set.as_slice();
        if i >= 1 && !set.is_empty() {
            eligible += 1;
            repeated += u32::from(seen.contains(set));
        }
        seen.insert(set);
    }
    if eligible == 0 {
        f64::NAN
    } else {
        f64::from(repeated) / f64::from(eligible)
    }
}

/// density_drift: notes with an onset in the last [`DRIFT_BARS`] bars over those in the first
/// as many; NaN below 2 × [`DRIFT_BARS`] bars or when the first bars are empty.
pub fn density_drift(bars: &[Bar]) -> f64 {
    if bars.len() < 2 * DRIFT_BARS {
        return f64::NAN;
    }
    let notes = |b: &[Bar]| b.iter().map(|b| f64::from(b.n_notes)).sum::<f64>();
    let first = notes(&bars[..DRIFT_BARS]);
    if first == 0.0 {
        return f64::NAN;
    }
    notes(&bars[bars.len() - DRIFT_BARS..]) / first
}

/// longest_pitch_run: notes in (step, pitch) order, the longest run of neighbours that share
/// one pitch (1 when none do; 0 without notes). `notes` sorted that way.
pub fn longest_pitch_run(notes: &[GridNote]) -> u32 {
    let (mut best, mut run) = (0u32, 0u32);
    let mut last = None;
    for n in notes {
        run = if last == Some(n.pitch) { run + 1 } else { 1 };
        last = Some(n.pitch);
        best = best.max(run);
    }
    best
}
