//! A plain implementation of every metric definition (docs/design.md, "Metrics"), written
//! without the crate's code and as directly as the text reads (loops over every step, every
//! pair), and random pieces to compare it on. Shared by the features and metrics tests.

use cadenza::midi::Note;
use cadenza::rng::Rng;

const BAR: u32 = 1920;
const STEP: u32 = 120;

fn step_of(tick: u32) -> usize {
    (tick as f64 * 4.0 / 480.0 + 0.5).floor() as usize
}

fn bar_pos(n: &Note) -> (usize, usize) {
    let step = step_of(n.start);
    (step / 16, step % 16)
}

/// The steps a note sounds on: [s, e) with e = max(s + 1, the rounded offset).
fn sounding(n: &Note) -> std::ops::Range<usize> {
    let s = step_of(n.start);
    s..step_of(n.end).max(s + 1)
}

fn n_bars(notes: &[Note]) -> usize {
    notes
        .iter()
        .map(|n| bar_pos(n).0)
        .max()
        .map_or(0, |b| b + 1)
}

fn onset_vectors(notes: &[Note]) -> Vec<[f64; 16]> {
    let mut v = vec![[0.0f64; 16]; n_bars(notes)];
    for n in notes {
        let (b, p) = bar_pos(n);
        v[b][p] = 1.0;
    }
    v
}

fn mean_or_nan(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Every feature by its column name.
pub fn all(notes: &[Note]) -> Vec<(&'static str, f64)> {
    let bars = n_bars(notes);
    let pitches: Vec<u8> = notes.iter().map(|n| n.pitch).collect();
    let empty = (0..bars)
        .filter(|b| !notes.iter().any(|n| bar_pos(n).0 == *b))
        .count();
    let per_bar = |x: f64| if bars == 0 { f64::NAN } else { x / bars as f64 };
    let range = match (pitches.iter().max(), pitches.iter().min()) {
        (Some(hi), Some(lo)) => (hi - lo) as f64,
        _ => 0.0,
    };
    let velocities: Vec<f64> = notes.iter().map(|n| n.velocity as f64).collect();
    let durations: Vec<f64> = notes
        .iter()
        .map(|n| (n.end - n.start) as f64 / 480.0)
        .collect();
    let mut classes: Vec<u8> = pitches.iter().map(|p| p % 12).collect();
    classes.sort();
    classes.dedup();
    vec![
        (
            "h1",
            if notes.is_empty() {
                f64::NAN
            } else {
                h(notes, 1)
            },
        ),
        (
            "h4",
            if notes.is_empty() {
                f64::NAN
            } else {
                h(notes, 4)
            },
        ),
        (
            "gs",
            if notes.is_empty() {
                f64::NAN
            } else {
                gs(notes)
            },
        ),
        ("n_bars", bars as f64),
        ("n_notes", notes.len() as f64),
        ("notes_per_bar", per_bar(notes.len() as f64)),
        ("pitch_range", range),
        ("mean_velocity", mean_or_nan(&velocities)),
        ("mean_duration_beats", mean_or_nan(&durations)),
        ("empty_bar_share", per_bar(empty as f64)),
        (
            "pc_entropy",
            if notes.is_empty() {
                f64::NAN
            } else {
                entropy(&pitches)
            },
        ),
        ("n_pitch_classes", classes.len() as f64),
        ("scale_consistency", scale_consistency(&pitches)),
        ("groove_consistency", groove_consistency(notes)),
        ("polyphony", polyphony(notes)),
        ("empty_beat_rate", empty_beat_rate(notes)),
        ("mean_ioi", mean_ioi(notes)),
        ("mean_pitch_jump", mean_pitch_jump(notes)),
        ("repeated_bar_share", repeated_bar_share(notes)),
        ("density_drift", density_drift(notes)),
        ("longest_pitch_run", longest_pitch_run(notes) as f64),
    ]
}

/// The set of (position, pitch) of the notes with an onset in `bar`.
fn bar_set(notes: &[Note], bar: usize) -> std::collections::BTreeSet<(usize, u8)> {
    notes
        .iter()
        .filter(|n| bar_pos(n).0 == bar)
        .map(|n| (bar_pos(n).1, n.pitch))
        .collect()
}

pub fn repeated_bar_share(notes: &[Note]) -> f64 {
    let (mut eligible, mut repeated) = (0, 0);
    for i in 1..n_bars(notes) {
        let b = bar_set(notes, i);
        if b.is_empty() {
            continue;
        }
        eligible += 1;
        if (0..i).any(|j| bar_set(notes, j) == b) {
            repeated += 1;
        }
    }
    if eligible == 0 {
        f64::NAN
    } else {
        repeated as f64 / eligible as f64
    }
}

pub fn density_drift(notes: &[Note]) -> f64 {
    let bars = n_bars(notes);
    let count = |range: std::ops::Range<usize>| {
        notes
            .iter()
            .filter(|n| range.contains(&bar_pos(n).0))
            .count() as f64
    };
    let first = count(0..8);
    if bars < 16 || first == 0.0 {
        return f64::NAN;
    }
    count(bars - 8..bars) / first
}

pub fn longest_pitch_run(notes: &[Note]) -> usize {
    let mut order: Vec<(usize, u8)> = notes.iter().map(|n| (step_of(n.start), n.pitch)).collect();
    order.sort();
    let mut best = 0;
    let mut k = 0;
    while k < order.len() {
        let mut j = k;
        while j < order.len() && order[j].1 == order[k].1 {
            j += 1;
        }
        best = best.max(j - k);
        k = j;
    }
    best
}

pub fn scale_consistency(pitches: &[u8]) -> f64 {
    if pitches.is_empty() {
        return f64::NAN;
    }
    let major = [0u8, 2, 4, 5, 7, 9, 11];
    let minor = [0u8, 2, 3, 5, 7, 8, 10];
    let mut best = 0;
    for root in 0..12u8 {
        for scale in [major, minor] {
            let inside = pitches
                .iter()
                .filter(|p| scale.contains(&((*p % 12 + 12 - root) % 12)))
                .count();
            best = best.max(inside);
        }
    }
    best as f64 / pitches.len() as f64
}

pub fn groove_consistency(notes: &[Note]) -> f64 {
    let v = onset_vectors(notes);
    if v.len() < 2 {
        return f64::NAN;
    }
    let d: Vec<f64> = (0..v.len() - 1)
        .map(|i| (0..16).map(|k| (v[i][k] - v[i + 1][k]).abs()).sum::<f64>() / 16.0)
        .collect();
    1.0 - mean_or_nan(&d)
}

pub fn polyphony(notes: &[Note]) -> f64 {
    let mut counts = Vec::new();
    for step in 0..16 * n_bars(notes) {
        let mut sounding_pitches: Vec<u8> = notes
            .iter()
            .filter(|n| sounding(n).contains(&step))
            .map(|n| n.pitch)
            .collect();
        sounding_pitches.sort();
        sounding_pitches.dedup();
        if !sounding_pitches.is_empty() {
            counts.push(sounding_pitches.len() as f64);
        }
    }
    mean_or_nan(&counts)
}

pub fn empty_beat_rate(notes: &[Note]) -> f64 {
    let beats = 4 * n_bars(notes);
    if beats == 0 {
        return f64::NAN;
    }
    let empty = (0..beats)
        .filter(|b| {
            !(4 * b..4 * b + 4).any(|step| notes.iter().any(|n| sounding(n).contains(&step)))
        })
        .count();
    empty as f64 / beats as f64
}

pub fn mean_ioi(notes: &[Note]) -> f64 {
    let mut onsets: Vec<usize> = notes.iter().map(|n| step_of(n.start)).collect();
    onsets.sort();
    onsets.dedup();
    let gaps: Vec<f64> = onsets
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 4.0)
        .collect();
    mean_or_nan(&gaps)
}

pub fn mean_pitch_jump(notes: &[Note]) -> f64 {
    let mut order: Vec<(usize, u8)> = notes.iter().map(|n| (step_of(n.start), n.pitch)).collect();
    order.sort();
    let jumps: Vec<f64> = order
        .windows(2)
        .map(|w| (w[0].1 as f64 - w[1].1 as f64).abs())
        .collect();
    mean_or_nan(&jumps)
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
    let n_bars = n_bars(notes);
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
    let v = onset_vectors(notes);
    let n_bars = v.len();
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

/// A random piece: a few bars or a few dozen (some left empty, some repeating an earlier bar
/// exactly), onsets anywhere in ticks, including exact half-steps, so rounding across bar lines
/// is exercised.
pub fn random_notes(rng: &mut Rng) -> Vec<Note> {
    let bars = if rng.below(2) == 0 {
        rng.range_i64(1, 14)
    } else {
        rng.range_i64(16, 40)
    } as u32;
    let n = rng.range_i64(1, 8 * bars as i64) as usize;
    let mut notes = random_bars(rng, bars, n);
    // Copy one bar's notes (whole, as placed on the grid) onto a later bar.
    if bars > 2 && rng.below(2) == 0 {
        let (from, to) = (rng.range_i64(0, bars as i64 - 2) as u32, bars - 1);
        let grid = |t: u32| (t as f64 / STEP as f64 + 0.5).floor() as u32;
        let copies: Vec<Note> = notes
            .iter()
            .filter(|n| grid(n.start) / 16 == from)
            .map(|n| {
                let start = (grid(n.start) + 16 * (to - from)) * STEP;
                Note {
                    start,
                    end: start + (n.end - n.start),
                    ..*n
                }
            })
            .collect();
        if !copies.is_empty() {
            notes.retain(|n| grid(n.start) / 16 != to);
            notes.extend(copies);
        }
    }
    notes
}

fn random_bars(rng: &mut Rng, bars: u32, n: usize) -> Vec<Note> {
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
