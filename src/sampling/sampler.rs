//! Sampling one token from logits: grammar mask -> temperature -> top-k -> top-p -> draw from the
//! renormalised distribution with the piece's own [`Rng`].

use anyhow::{Result, bail};

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
}

fn one() -> f64 {
    1.0
}

impl SamplerConfig {
    pub fn new(name: &str, temperature: f64, top_k: usize, top_p: f64) -> SamplerConfig {
        SamplerConfig {
            name: name.into(),
            temperature,
            top_k,
            top_p,
        }
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
        // The smallest prefix whose mass reaches p (at least one token).
        let mut mass = 0.0;
        let mut keep = cand.len();
        for (i, c) in cand.iter().enumerate() {
            mass += c.1;
            if mass >= s.top_p {
                keep = i + 1;
                break;
            }
        }
        cand.truncate(keep);
        let total: f64 = cand.iter().map(|c| c.1).sum();
        for c in cand.iter_mut() {
            c.1 /= total;
        }
    }
    Ok(cand)
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
