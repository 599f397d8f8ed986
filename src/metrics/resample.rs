//! The bootstrap draws behind every interval of the summary. A row's pieces are drawn once per
//! resample for all its statistics (means, differences, distance, overlap), so the intervals
//! of one row come from the same draws. Where a row and its reference share prompts (a
//! continuation and the real continuation of the same prompt), the draws are paired: each
//! resample draws prompts, and both sides take the pieces of the drawn prompts.

use std::collections::BTreeMap;

use crate::rng::Rng;

/// Per resample, how often each piece was drawn (`resamples × pieces`, row-major).
#[derive(Debug, Clone)]
pub struct Draws {
    pieces: usize,
    counts: Vec<u32>,
}

impl Draws {
    /// Each resample draws `pieces` pieces with replacement.
    pub fn independent(pieces: usize, resamples: usize, rng: &mut Rng) -> Draws {
        let mut counts = vec![0u32; pieces * resamples];
        if pieces > 0 {
            for draw in counts.chunks_exact_mut(pieces) {
                for _ in 0..pieces {
                    draw[rng.below(pieces as u64) as usize] += 1;
                }
            }
        }
        Draws { pieces, counts }
    }

    /// Each piece takes the count of its unit (its prompt) in `units`.
    pub fn of_units(unit_of_piece: &[usize], units: &Draws) -> Draws {
        let pieces = unit_of_piece.len();
        let counts = (0..units.resamples())
            .flat_map(|r| {
                let draw = units.draw(r);
                unit_of_piece.iter().map(move |&u| draw[u])
            })
            .collect();
        Draws { pieces, counts }
    }

    pub fn resamples(&self) -> usize {
        if self.pieces == 0 {
            0
        } else {
            self.counts.len() / self.pieces
        }
    }

    /// How often each piece was drawn in resample `r`.
    pub fn draw(&self, r: usize) -> &[u32] {
        &self.counts[r * self.pieces..(r + 1) * self.pieces]
    }

    /// Per resample, the mean of the defined (non-NaN) values drawn; NaN when none was drawn.
    pub fn means(&self, values: &[f64]) -> Vec<f64> {
        (0..self.resamples())
            .map(|r| {
                let (mut sum, mut n) = (0.0, 0u64);
                for (&c, &v) in self.draw(r).iter().zip(values) {
                    if c > 0 && !v.is_nan() {
                        sum += f64::from(c) * v;
                        n += u64::from(c);
                    }
                }
                if n == 0 { f64::NAN } else { sum / n as f64 }
            })
            .collect()
    }

    /// Resample `r` as (value, times drawn) over the defined values drawn.
    pub fn weighted(&self, r: usize, values: &[f64]) -> Vec<(f64, f64)> {
        self.draw(r)
            .iter()
            .zip(values)
            .filter(|(c, v)| **c > 0 && !v.is_nan())
            .map(|(&c, &v)| (v, f64::from(c)))
            .collect()
    }
}

/// The prompts of a reference's pieces as units to draw: unit index per distinct prompt
/// (sorted), or `None` when a piece has no prompt or two share one (nothing to pair by).
pub fn units(prompts: &[Option<&str>]) -> Option<BTreeMap<String, usize>> {
    let mut sorted: Vec<&str> = prompts.iter().copied().collect::<Option<_>>()?;
    sorted.sort_unstable();
    let n = sorted.len();
    sorted.dedup();
    (sorted.len() == n && n > 0).then(|| {
        sorted
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p.to_string(), i))
            .collect()
    })
}

/// Each piece's unit, when every piece has a prompt among `units` and every unit has a piece
/// (the row covers the reference's prompts exactly, so both sides can take the same ones).
pub fn unit_of_pieces(
    prompts: &[Option<&str>],
    units: &BTreeMap<String, usize>,
) -> Option<Vec<usize>> {
    let of: Vec<usize> = prompts
        .iter()
        .map(|p| p.and_then(|p| units.get(p).copied()))
        .collect::<Option<_>>()?;
    let mut covered = vec![false; units.len()];
    for &u in &of {
        covered[u] = true;
    }
    covered.into_iter().all(|c| c).then_some(of)
}
