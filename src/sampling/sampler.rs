//! Sampling one token from logits: grammar mask -> temperature -> top-k -> top-p -> typical-p ->
//! min-p -> draw from the renormalised distribution with the piece's own [`Rng`].

use anyhow::{Result, bail};

use crate::check::check;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// A sampler (`[[generate.sampler]]`, `[train.monitor]`): grammar mask -> temperature -> top-k -> top-p -> sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    /// Folder name of the partition (`sampler=<name>`).
    pub name: String,
    #[serde(default = "one")]
    pub temperature: f64,
    /// 0 = off.
    #[serde(default)]
    pub top_k: usize,
    /// 1.0 = off.
    #[serde(default = "one")]
    pub top_p: f64,
    /// Locally typical sampling (Meister et al. 2023): the tokens whose surprisal is closest to
    /// the distribution's entropy, up to this much mass. 1.0 = off (and left out of the
    /// partition fingerprint, so older partitions stay fresh).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub typical_p: f64,
    /// Min-p sampling (Nguyen et al. 2024): only tokens with at least `min_p` times the most
    /// likely token's probability. 0.0 = off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_p: f64,
}

fn one() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl SamplerConfig {
    pub fn new(name: &str, temperature: f64, top_k: usize, top_p: f64) -> SamplerConfig {
        SamplerConfig {
            name: name.into(),
            temperature,
            top_k,
            top_p,
            typical_p: 1.0,
            min_p: 0.0,
        }
    }

    /// Refuses a setting out of its range, naming it by `key(field)`.
    pub fn validate_settings(&self, key: &dyn Fn(&str) -> String) -> Result<()> {
        check(
            self.temperature.is_finite() && self.temperature > 0.0,
            &key("temperature"),
            "must be > 0",
        )?;
        check(
            self.top_p.is_finite() && self.top_p > 0.0 && self.top_p <= 1.0,
            &key("top_p"),
            "must be in (0, 1]",
        )?;
        check(
            self.typical_p.is_finite() && self.typical_p > 0.0 && self.typical_p <= 1.0,
            &key("typical_p"),
            "must be in (0, 1] (1 = off)",
        )?;
        check(
            self.min_p.is_finite() && (0.0..1.0).contains(&self.min_p),
            &key("min_p"),
            "must be in [0, 1) (0 = off)",
        )
    }
}

/// Candidate tokens with their renormalised probabilities, most likely first (ties: lower id first).
pub fn distribution(
    logits: &[f32],
    allowed: &[bool],
    s: &SamplerConfig,
) -> Result<Vec<(u16, f64)>> {
    if logits.len() != allowed.len() {
        bail!(
            "logits have {} entries but the mask {}",
            logits.len(),
            allowed.len()
        );
    }
    let mut cand: Vec<(u16, f64)> = Vec::new();
    for (id, (&l, &ok)) in logits.iter().zip(allowed).enumerate() {
        if !ok {
            continue;
        }
        if l.is_nan() {
            bail!("the model produced a NaN logit (token {id})");
        }
        cand.push((id as u16, l as f64 / s.temperature));
    }
    if cand.is_empty() {
        bail!("no token is allowed here (grammar and bar constraints exclude everything)");
    }
    cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if s.top_k > 0 {
        cand.truncate(s.top_k);
    }
    // Softmax over what is left, shifted by the max for stability.
    let max = cand[0].1;
    let mut total = 0.0;
    for c in cand.iter_mut() {
        c.1 = if c.1 == f64::NEG_INFINITY {
            0.0
        } else {
            (c.1 - max).exp()
        };
        total += c.1;
    }
    for c in cand.iter_mut() {
        c.1 /= total;
    }
    if s.top_p < 1.0 {
        let keep = mass_prefix(cand.iter().map(|c| c.1), s.top_p);
        cand.truncate(keep);
        renormalise(&mut cand);
    }
    if s.typical_p < 1.0 {
        // Order by |surprisal - entropy|, keep the smallest such prefix reaching the mass.
        let entropy: f64 = cand
            .iter()
            .filter(|c| c.1 > 0.0)
            .map(|c| -c.1 * c.1.ln())
            .sum();
        let mut by_typicality: Vec<(u16, f64, f64)> = cand
            .iter()
            .map(|&(id, p)| (id, p, (-p.ln() - entropy).abs()))
            .collect();
        by_typicality.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
        let keep = mass_prefix(by_typicality.iter().map(|c| c.1), s.typical_p);
        let kept: Vec<u16> = by_typicality[..keep].iter().map(|c| c.0).collect();
        cand.retain(|c| kept.contains(&c.0));
        renormalise(&mut cand);
    }
    if s.min_p > 0.0 {
        // cand is most likely first.
        let floor = s.min_p * cand[0].1;
        cand.retain(|c| c.1 >= floor);
        renormalise(&mut cand);
    }
    Ok(cand)
}

/// The length of the shortest prefix of `probs` whose mass reaches `p` (at least one).
fn mass_prefix(probs: impl Iterator<Item = f64>, p: f64) -> usize {
    let mut mass = 0.0;
    let mut n = 0;
    for q in probs {
        mass += q;
        n += 1;
        if mass >= p {
            break;
        }
    }
    n.max(1)
}

fn renormalise(cand: &mut [(u16, f64)]) {
    let total: f64 = cand.iter().map(|c| c.1).sum();
    for c in cand.iter_mut() {
        c.1 /= total;
    }
}

/// Draw one token from a distribution made by [`distribution`].
pub fn draw(dist: &[(u16, f64)], rng: &mut Rng) -> u16 {
    let r = rng.next_f64();
    let mut acc = 0.0;
    for &(id, p) in dist {
        acc += p;
        if r < acc {
            return id;
        }
    }
    // Rounding left r just above the total: the last candidate.
    dist.last().map(|c| c.0).unwrap_or(0)
}

pub fn sample(logits: &[f32], allowed: &[bool], s: &SamplerConfig, rng: &mut Rng) -> Result<u16> {
    Ok(draw(&distribution(logits, allowed, s)?, rng))
}
