//! A pitch prior from the piece so far: a pitch outside the piece's scale, of a pitch class it
//! has not used yet, or beyond the range it has used, loses some log-probability.
//!
//! The small model's pieces stray where real songs do not: a few notes off the key and beyond
//! the register per piece (docs/study.md "Pitch prior"). The prior takes membership, not
//! frequency: every pitch class of the scale keeps its share relative to the others (a prior
//! proportional to how often each class was used pulls the harmony towards the tonic and
//! flattens H1). The pitch family keeps the probability it had without the prior, so at each
//! step the prior moves probability between pitches, never between a note and the tokens that
//! end a position or bar. (Notes rise in pitch inside a position, so after a chord's top note
//! every allowed pitch may lie beyond the range: there the range term only favours the nearest.)

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::check::check;
use crate::remi::Token;
use crate::remi::vocab::Vocab;

/// The major scale's pitch classes from its root; natural minor is the major of a minor third
/// up, so the 12 roots cover the 24 keys of `scale_consistency`.
const MAJOR: [usize; 7] = [0, 2, 4, 5, 7, 9, 11];

/// `pitch_prior = { out_of_scale = 0.7, new_class = 0.5, beyond_range = 0.3 }` in a
/// `[[generate.sampler]]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PitchPrior {
    /// Nats taken from a pitch whose class lies outside the diatonic scale that holds most of
    /// the piece's notes so far (0 = off).
    #[serde(default)]
    pub out_of_scale: f64,
    /// Nats taken from a pitch whose class the piece has not used so far (0 = off): real songs
    /// reuse the few chromatic notes they have, where sampled pieces scatter new ones.
    #[serde(default)]
    pub new_class: f64,
    /// Nats taken per semitone that a pitch lies below the piece's lowest or above its highest
    /// note so far (0 = off): a step past the range costs little, a leap much.
    #[serde(default)]
    pub beyond_range: f64,
    /// Notes the piece (its prompt included) must have before the prior applies: a scale and a
    /// range need a few notes to mean anything.
    #[serde(default = "eight")]
    pub after_notes: u32,
}

fn eight() -> u32 {
    8
}

impl PitchPrior {
    pub fn validate(&self, key: &dyn Fn(&str) -> String) -> Result<()> {
        for (name, v) in [
            ("out_of_scale", self.out_of_scale),
            ("new_class", self.new_class),
            ("beyond_range", self.beyond_range),
        ] {
            check(
                v.is_finite() && v >= 0.0,
                &key(&format!("pitch_prior.{name}")),
                "must be >= 0 nats (0 = off)",
            )?;
        }
        Ok(())
    }

    /// Lowers the logits of the pitch tokens among `cand` (id, logit) that leave `piece`'s scale,
    /// classes or range, then shifts every pitch logit so the family keeps its mass at
    /// `temperature`.
    pub fn apply(&self, cand: &mut [(u16, f64)], piece: &PiecePitches, temperature: f64) {
        if piece.notes < self.after_notes.max(1) {
            return;
        }
        let scale = piece.scale();
        let (lo, hi) = (piece.lowest, piece.highest);
        let log_mass = |cand: &[(u16, f64)]| {
            log_sum_exp(
                cand.iter()
                    .filter(|c| pitch(c.0).is_some())
                    .map(|c| c.1 / temperature),
            )
        };
        let before = log_mass(cand);
        let mut moved = false;
        for c in cand.iter_mut() {
            let Some(p) = pitch(c.0) else { continue };
            let mut penalty = 0.0;
            if !scale[p as usize % 12] {
                penalty += self.out_of_scale;
            }
            if piece.classes[p as usize % 12] == 0 {
                penalty += self.new_class;
            }
            let beyond = lo.saturating_sub(p).max(p.saturating_sub(hi));
            penalty += self.beyond_range * beyond as f64;
            c.1 -= penalty;
            moved |= penalty > 0.0;
        }
        let shift = temperature * (before - log_mass(cand));
        if moved && shift.is_finite() {
            for c in cand.iter_mut().filter(|c| pitch(c.0).is_some()) {
                c.1 += shift;
            }
        }
    }
}

/// What the prior reads of the piece so far: its pitch classes, note count and range.
#[derive(Debug, Clone, PartialEq)]
pub struct PiecePitches {
    classes: [u32; 12],
    notes: u32,
    lowest: u8,
    highest: u8,
}

impl Default for PiecePitches {
    fn default() -> Self {
        PiecePitches {
            classes: [0; 12],
            notes: 0,
            lowest: u8::MAX,
            highest: 0,
        }
    }
}

impl PiecePitches {
    pub fn of(tokens: &[u16]) -> Self {
        let mut piece = PiecePitches::default();
        for &t in tokens {
            piece.push(t);
        }
        piece
    }

    pub fn push(&mut self, id: u16) {
        if let Some(p) = pitch(id) {
            self.classes[p as usize % 12] += 1;
            self.notes += 1;
            self.lowest = self.lowest.min(p);
            self.highest = self.highest.max(p);
        }
    }

    /// The pitch classes of the major scale (root 0..11) holding the most notes; ties go to the
    /// lowest root, so the choice is deterministic.
    pub fn scale(&self) -> [bool; 12] {
        let held = |root: usize| {
            MAJOR
                .iter()
                .map(|i| self.classes[(root + i) % 12])
                .sum::<u32>()
        };
        let root = (0..12).fold(0, |best, r| if held(r) > held(best) { r } else { best });
        let mut scale = [false; 12];
        for i in MAJOR {
            scale[(root + i) % 12] = true;
        }
        scale
    }
}

fn pitch(id: u16) -> Option<u8> {
    match Vocab::token(id)? {
        Token::Pitch(p) => Some(p),
        _ => None,
    }
}

fn log_sum_exp(xs: impl Iterator<Item = f64>) -> f64 {
    let xs: Vec<f64> = xs.collect();
    let max = xs.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + xs.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(p: u8) -> u16 {
        Vocab::id(&Token::Pitch(p))
    }

    fn softmax(cand: &[(u16, f64)], t: f64) -> Vec<f64> {
        let z = log_sum_exp(cand.iter().map(|c| c.1 / t));
        cand.iter().map(|c| (c.1 / t - z).exp()).collect()
    }

    /// C major so far (C4..C5, 8 notes): range 60..72.
    fn c_major() -> PiecePitches {
        PiecePitches::of(&[60, 62, 64, 65, 67, 69, 71, 72].map(id))
    }

    #[test]
    fn the_scale_is_the_major_set_holding_most_notes() {
        assert_eq!(
            c_major().scale(),
            [
                true, false, true, false, true, true, false, true, false, true, false, true
            ]
        );
        // A minor's notes are C major's set; G major (F#) wins once F# outnumbers F.
        let g = PiecePitches::of(&[67, 71, 74, 66, 66, 62, 69, 60, 65].map(id));
        assert!(g.scale()[6] && !g.scale()[5]);
        // Nothing played: a tie everywhere, the lowest root.
        assert_eq!(PiecePitches::default().scale(), c_major().scale());
    }

    #[test]
    fn penalised_pitches_lose_exactly_their_nats_and_the_family_keeps_its_mass() {
        let prior = PitchPrior {
            out_of_scale: 0.7,
            new_class: 0.4,
            beyond_range: 0.3,
            after_notes: 8,
        };
        // C major without A so far, C4..C5.
        let piece = PiecePitches::of(&[60, 62, 64, 65, 67, 71, 72, 60].map(id));
        let others = [crate::remi::BAR, Vocab::id(&Token::Position(3))];
        // E4 (in scale, used, in range) first, then each penalised pitch and its nats.
        let penalised = [
            (69, 0.4),              // A4: a new class
            (63, 0.7 + 0.4),        // Eb4: off the scale, new
            (76, 4.0 * 0.3),        // E5: 4 semitones above the range
            (85, 1.1 + 13.0 * 0.3), // C#6: off the scale, new, 13 above
            (55, 5.0 * 0.3),        // G3: 5 below
        ];
        let mut start = vec![(id(64), 0.3)];
        start.extend(
            penalised
                .iter()
                .enumerate()
                .map(|(i, &(p, _))| (id(p), 0.1 * i as f64)),
        );
        start.extend([(others[0], 0.2), (others[1], -0.5)]);
        for t in [1.0, 0.8] {
            let mut cand = start.clone();
            prior.apply(&mut cand, &piece, t);
            let (p0, p1) = (softmax(&start, t), softmax(&cand, t));
            for i in start.len() - 2..start.len() {
                assert!((p0[i] - p1[i]).abs() < 1e-12, "{i}: {} vs {}", p0[i], p1[i]);
            }
            // Against E4: the model's ratio × e^(-nats / t).
            for (i, &(p, nats)) in penalised.iter().enumerate() {
                let want = p0[i + 1] / p0[0] * (-nats / t).exp();
                assert!(
                    (p1[i + 1] / p1[0] / want - 1.0).abs() < 1e-9,
                    "{p} at t {t}"
                );
            }
        }
    }

    #[test]
    fn nothing_moves_before_enough_notes_or_when_off() {
        let start = vec![(id(61), 0.5), (id(100), 0.1), (crate::remi::BAR, 0.0)];
        let on = PitchPrior {
            out_of_scale: 2.0,
            new_class: 2.0,
            beyond_range: 2.0,
            after_notes: 9,
        };
        let off = PitchPrior {
            out_of_scale: 0.0,
            new_class: 0.0,
            beyond_range: 0.0,
            after_notes: 0,
        };
        for (prior, piece) in [
            (on, c_major()),
            (off, c_major()),
            (off, PiecePitches::default()),
        ] {
            let mut cand = start.clone();
            prior.apply(&mut cand, &piece, 1.0);
            assert_eq!(cand, start);
        }
    }
}
