//! Shared by the metrics tests: a plain implementation of the metric definitions (docs/design.md),
//! written without the crate's code, and random pieces.

use cadenza::midi::Note;
use cadenza::rng::Rng;

const BAR: u32 = 1920;
const STEP: u32 = 120;

fn bar_pos(n: &Note) -> (usize, usize) {
    let step = (n.start as f64 * 4.0 / 480.0 + 0.5).floor() as usize;
    (step / 16, step % 16)
}

fn entropy(pitches: &[u8]) -> f64 {
    let mut hist = [0usize; 12];
    for p in pitches {
        hist[(*p % 12) as usize] += 1;
    }
    let total = pitches.len() as f64;
    let mut h = 0.0;
    for c in hist {
        if c > 0 {
            let p = c as f64 / total;
            h -= p * p.log2();
        }
    }
    h
}

pub fn h(notes: &[Note], w: usize) -> f64 {
    let n_bars = notes.iter().map(|n| bar_pos(n).0).max().unwrap() + 1;
    if n_bars < w {
        let all: Vec<u8> = notes.iter().map(|n| n.pitch).collect();
        return entropy(&all);
    }
    let mut values = Vec::new();
    for start in 0..=(n_bars - w) {
        let inside: Vec<u8> = notes
            .iter()
            .filter(|n| (start..start + w).contains(&bar_pos(n).0))
            .map(|n| n.pitch)
            .collect();
        if !inside.is_empty() {
            values.push(entropy(&inside));
        }
    }
    values.iter().sum::<f64>() / values.len() as f64
}

pub fn gs(notes: &[Note]) -> f64 {
    let n_bars = notes.iter().map(|n| bar_pos(n).0).max().unwrap() + 1;
    let mut v = vec![[0.0f64; 16]; n_bars];
    for n in notes {
        let (b, p) = bar_pos(n);
        v[b][p] = 1.0;
    }
    let mut sims = Vec::new();
    for i in 0..n_bars {
        for j in i + 1..n_bars {
            let d: f64 = (0..16).map(|k| (v[i][k] - v[j][k]).abs()).sum();
            sims.push(1.0 - d / 16.0);
        }
    }
    if sims.is_empty() {
        f64::NAN
    } else {
        sims.iter().sum::<f64>() / sims.len() as f64
    }
}

/// A random piece: a few bars (some left empty), onsets anywhere in ticks, including exact
/// half-steps, so rounding across bar lines is exercised.
pub fn random_notes(rng: &mut Rng) -> Vec<Note> {
    let bars = rng.range_i64(1, 14) as u32;
    let n = rng.range_i64(1, 80) as usize;
    let empty_bar = rng.range_i64(0, bars as i64 - 1) as u32;
    (0..n)
        .map(|_| {
            let mut bar = rng.range_i64(0, bars as i64 - 1) as u32;
            if bar == empty_bar && bars > 2 {
                bar = (bar + 1) % bars;
            }
            let start = match rng.below(3) {
                0 => bar * BAR + rng.range_i64(0, 15) as u32 * STEP + 60, // exactly half-way
                _ => bar * BAR + rng.range_i64(0, BAR as i64 - 1) as u32,
            };
            let dur = rng.range_i64(1, 2000) as u32;
            Note {
                start,
                end: start + dur,
                pitch: rng.range_i64(21, 108) as u8,
                velocity: rng.range_i64(1, 127) as u8,
            }
        })
        .collect()
}
