//! Rhythm features: grooving similarity (all pairs of bars) and consistency (neighbouring
//! bars), polyphony, empty beats and the mean gap between onsets.

use super::grid::{Bar, GridNote};
use crate::remi::{STEPS_PER_BAR, STEPS_PER_BEAT};

/// GS: mean over all bar pairs i<j of 1 − Σ|v_i − v_j| / 16. Summed over all pairs, Σ|v_i − v_j|
/// splits by position: a position where `k` of the `n` bars have an onset differs in exactly
/// k · (n − k) pairs, so GS is exact in O(16 n) instead of O(n²).
pub fn grooving_similarity(bars: &[Bar]) -> f64 {
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

/// groove_consistency: 1 − the mean over neighbouring bars of Σ|v_i − v_{i+1}| / 16.
pub fn groove_consistency(bars: &[Bar]) -> f64 {
    if bars.len() < 2 {
        return f64::NAN;
    }
    let differing: u32 = bars
        .windows(2)
        .map(|w| (w[0].onsets ^ w[1].onsets).count_ones())
        .sum();
    1.0 - differing as f64 / (STEPS_PER_BAR as f64 * (bars.len() - 1) as f64)
}

/// polyphony: over the steps 0..16·n_bars on which a note sounds, the mean number of distinct
/// pitches sounding. A sweep over note starts and ends: O(n log n), whatever the piece's length.
pub fn polyphony(notes: &[GridNote], n_bars: usize) -> f64 {
    let limit = n_bars as u64 * STEPS_PER_BAR as u64;
    let mut events: Vec<(u64, bool, u8)> = Vec::with_capacity(2 * notes.len());
    for n in notes.iter().filter(|n| u64::from(n.step) < limit) {
        events.push((u64::from(n.step), true, n.pitch));
        events.push((u64::from(n.end).min(limit), false, n.pitch));
    }
    events.sort_unstable();
    let mut sounding = [0u32; 256];
    let (mut distinct, mut prev) = (0u64, 0u64);
    let (mut pitch_steps, mut steps) = (0u64, 0u64);
    for (step, starts, pitch) in events {
        if distinct > 0 {
            pitch_steps += distinct * (step - prev);
            steps += step - prev;
        }
        prev = step;
        let c = &mut sounding[pitch as usize];
        if starts {
            distinct += u64::from(*c == 0);
            *c += 1;
        } else {
            *c -= 1;
            distinct -= u64::from(*c == 0);
        }
    }
    if steps == 0 {
        f64::NAN
    } else {
        pitch_steps as f64 / steps as f64
    }
}

/// empty_beat_rate: the share of beats 0..4·n_bars on which no note sounds. `notes` sorted by
/// step: each note covers a run of beats, and runs are counted once.
pub fn empty_beat_rate(notes: &[GridNote], n_bars: usize) -> f64 {
    let per_beat = u64::from(STEPS_PER_BEAT);
    let beats = n_bars as u64 * u64::from(STEPS_PER_BAR / STEPS_PER_BEAT);
    if beats == 0 {
        return f64::NAN;
    }
    let limit = beats * per_beat;
    let (mut covered, mut next_uncounted) = (0u64, 0u64);
    for n in notes {
        let (a, c) = (u64::from(n.step), u64::from(n.end).min(limit));
        if a >= c {
            continue;
        }
        let (first, last) = ((a / per_beat).max(next_uncounted), (c - 1) / per_beat);
        if last >= first {
            covered += last - first + 1;
            next_uncounted = last + 1;
        }
    }
    (beats - covered) as f64 / beats as f64
}

/// mean_ioi: the mean gap in beats between consecutive distinct onset steps. The gaps add up
/// to last − first, so the mean is that over (distinct onsets − 1). `notes` sorted by step.
pub fn mean_ioi(notes: &[GridNote]) -> f64 {
    let mut distinct = 0u64;
    let mut last: Option<u32> = None;
    for n in notes {
        if last != Some(n.step) {
            distinct += 1;
            last = Some(n.step);
        }
    }
    match (notes.first(), notes.last()) {
        (Some(a), Some(b)) if distinct >= 2 => {
            (b.step - a.step) as f64 / STEPS_PER_BEAT as f64 / (distinct - 1) as f64
        }
        _ => f64::NAN,
    }
}
