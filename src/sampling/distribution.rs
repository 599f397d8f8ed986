//! One step's processed distribution: grammar mask -> pitch prior -> temperature -> top-k -> top-p ->
//! typical-p -> min-p, and drawing from it with the piece's own [`Rng`].
//!
//! With per-family overrides, temperature, top-k and top-p work inside each family instead:
//! every family keeps the share of probability it has at the sampler's temperature, and
//! within it its tokens are shaped with the family's settings. A family's override then changes
//! only the probabilities of its own tokens.

use anyhow::{Result, bail};

use super::prior::PiecePitches;
use super::sampler::{Family, SamplerConfig, Shaping};
use crate::rng::Rng;

/// Candidate tokens with their renormalised probabilities, most likely first (ties: lower id
/// first); `piece` is what the pitch prior reads of the piece so far.
pub fn distribution(
    logits: &[f32],
    allowed: &[bool],
    s: &SamplerConfig,
    piece: &PiecePitches,
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
        cand.push((id as u16, l as f64));
    }
    if cand.is_empty() {
        bail!("no token is allowed here (grammar and bar constraints exclude everything)");
    }
    if let Some(prior) = &s.pitch_prior {
        prior.apply(&mut cand, piece, s.temperature);
    }
    let mut cand = if s.family.is_empty() {
        shaped(cand, s.shaping())
    } else {
        by_family(cand, s)
    };
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

/// Logits (id, logit) -> temperature -> top-k -> softmax -> top-p, most likely first.
fn shaped(mut cand: Vec<(u16, f64)>, sh: Shaping) -> Vec<(u16, f64)> {
    for c in cand.iter_mut() {
        c.1 /= sh.temperature;
    }
    sort_likely_first(&mut cand);
    if sh.top_k > 0 {
        cand.truncate(sh.top_k);
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
    if sh.top_p < 1.0 {
        let keep = mass_prefix(cand.iter().map(|c| c.1), sh.top_p);
        cand.truncate(keep);
        renormalise(&mut cand);
    }
    cand
}

/// Each family's mass at the sampler's temperature, spread over its tokens as shaped by the
/// family's own settings (Eos, outside every family, keeps the sampler's).
fn by_family(cand: Vec<(u16, f64)>, s: &SamplerConfig) -> Vec<(u16, f64)> {
    let max = cand.iter().fold(f64::NEG_INFINITY, |m, c| m.max(c.1));
    let weight = |l: f64| ((l - max) / s.temperature).exp();
    let total: f64 = cand.iter().map(|c| weight(c.1)).sum();
    let mut groups: Vec<(Option<Family>, Vec<(u16, f64)>)> = Vec::new();
    for c in cand {
        let f = Family::of(c.0);
        match groups.iter_mut().find(|g| g.0 == f) {
            Some(g) => g.1.push(c),
            None => groups.push((f, vec![c])),
        }
    }
    let mut out = Vec::new();
    for (f, group) in groups {
        let mass = group.iter().map(|c| weight(c.1)).sum::<f64>() / total;
        if mass == 0.0 {
            continue;
        }
        let sh = f.map_or(s.shaping(), |f| s.family_shaping(f));
        out.extend(shaped(group, sh).into_iter().map(|(id, p)| (id, mass * p)));
    }
    sort_likely_first(&mut out);
    out
}

fn sort_likely_first(cand: &mut [(u16, f64)]) {
    cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
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

pub fn sample(
    logits: &[f32],
    allowed: &[bool],
    s: &SamplerConfig,
    piece: &PiecePitches,
    rng: &mut Rng,
) -> Result<u16> {
    Ok(draw(&distribution(logits, allowed, s, piece)?, rng))
}
