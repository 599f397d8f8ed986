//! Beam search under the grammar and the bar count.
//!
//! Each piece keeps up to `width` hypotheses, each a row of the decoding batch, so the beams
//! of every piece in a batch step together through the model's cache. Every step each
//! hypothesis proposes its `width + 1` best next tokens (one may be Eos, so at least `width`
//! others remain); the piece keeps the `width` best of all proposals by the sum of
//! log-probabilities. A proposal ending in Eos among the `width` best is a finished piece,
//! scored by its log-probability over (generated tokens)^`length_penalty`; the search of a piece
//! ends with `width` finished pieces and returns the best. A hypothesis that moves to another
//! row takes its parent's cache row with it ([`NextToken::reorder`]); children keep their
//! parent's row where they can, so a step copies only the rows of forks.
//!
//! The stochastic variant (Kool, van Hoof and Welling 2019, "Stochastic Beams and Where to
//! Find Them") ranks proposals by Gumbel-perturbed log-probabilities, each truncated below its
//! parent's, so the kept hypotheses are a sample without replacement from the model's
//! sequences; it still returns the best of its finished pieces by the score above.
//!
//! The log-probabilities are those of the sampler's processed distribution (temperature,
//! top-k, top-p, ... as configured); width 1 is greedy decoding.

use anyhow::{Context, Result, bail};

use super::decode::{
    DecodeOptions, Decoded, Request, Row, TokenGrammar, feed, normalised, start_rows,
};
use super::distribution::distribution;
use super::sampler::BeamConfig;
use crate::model::NextToken;
use crate::rng::Rng;

/// A finished hypothesis.
struct Finished {
    tokens: Vec<u16>,
    log_prob: f64,
    score: f64,
}

/// One proposed next token of a hypothesis.
struct Proposal {
    /// The parent's slot.
    parent: usize,
    id: u16,
    p: f64,
    /// What proposals are ranked by: the sum of log-probabilities, or its perturbed value.
    key: f64,
}

/// The search of one piece: `width` slots, each a batch row holding a hypothesis or empty.
struct Search<G> {
    slots: Vec<Option<Row<G>>>,
    /// Per slot: the hypothesis's rank key (stochastic: its perturbed, truncated value).
    keys: Vec<f64>,
    finished: Vec<Finished>,
    rng: Rng,
    /// Bars in the prompt.
    start_bar: u32,
    done: bool,
}

pub fn decode_beams<M, G>(
    model: &M,
    new_grammar: impl Fn() -> G,
    reqs: &[Request],
    opts: &DecodeOptions,
    beam: &BeamConfig,
) -> Result<Vec<Decoded>>
where
    M: NextToken,
    G: TokenGrammar + Clone,
{
    let w = beam.width;
    let rows = reqs.len() * w;
    let sp = opts.specials;
    let vocab = model.vocab_size();
    let mut searches = start_searches(new_grammar, reqs, opts, w)?;
    let mut state = model.init_state(rows);
    // Only each piece's first slot has a prompt; the others are forks of it later.
    let prompts: Vec<&[u16]> = searches
        .iter()
        .flat_map(|s| s.slots.iter())
        .map(|slot| {
            slot.as_ref()
                .map_or(&[][..], |r| &r.tokens[..r.prompt_len - 1])
        })
        .collect();
    let fed = model.prefill(&prompts, &mut state)?;
    for (slot, fed) in searches
        .iter_mut()
        .flat_map(|s| s.slots.iter_mut())
        .zip(fed)
    {
        if let Some(r) = slot {
            r.fed = fed;
        }
    }

    let mut mask = vec![false; vocab];
    let mut input = vec![sp.pad; rows];
    while searches.iter().any(|s| !s.done) {
        for (row, slot) in searches.iter().flat_map(|s| &s.slots).enumerate() {
            input[row] = slot.as_ref().map_or(sp.pad, |r| r.tokens[r.fed]);
        }
        let logits = feed(model, &input, &mut state)?;
        let mut parents: Vec<usize> = (0..rows).collect();
        for (i, s) in searches.iter_mut().enumerate() {
            let logits = &logits[i * w * vocab..(i + 1) * w * vocab];
            let moved = s
                .step(logits, beam, opts, &mut mask)
                .with_context(|| format!("piece {i}"))?;
            for (slot, parent) in moved {
                parents[i * w + slot] = i * w + parent;
            }
        }
        if parents.iter().enumerate().any(|(r, &p)| r != p) {
            model.reorder(&mut state, &parents)?;
        }
    }
    searches
        .into_iter()
        .zip(reqs)
        .map(|(s, r)| s.best(r))
        .collect()
}

/// One search per request, its prompt in the first of `width` slots.
fn start_searches<G: TokenGrammar>(
    new_grammar: impl Fn() -> G,
    reqs: &[Request],
    opts: &DecodeOptions,
    width: usize,
) -> Result<Vec<Search<G>>> {
    Ok(start_rows(new_grammar, reqs, opts.specials)?
        .into_iter()
        .zip(reqs)
        .map(|(row, r)| {
            let start_bar = row.start_bar;
            let mut slots: Vec<Option<Row<G>>> = (0..width).map(|_| None).collect();
            slots[0] = Some(row);
            Search {
                start_bar,
                slots,
                keys: vec![0.0; width],
                finished: Vec::new(),
                // Its own stream: the first slot's row keeps the seed's.
                rng: Rng::new(Rng::derive(r.seed, &["beam"])),
                done: false,
            }
        })
        .collect())
}

impl<G: TokenGrammar + Clone> Search<G> {
    /// Takes one step's logits (`[width, vocab]`, one row per slot); returns the slots whose
    /// hypothesis now continues another slot's, as (slot, parent slot).
    fn step(
        &mut self,
        logits: &[f32],
        beam: &BeamConfig,
        opts: &DecodeOptions,
        mask: &mut [bool],
    ) -> Result<Vec<(usize, usize)>> {
        if self.done {
            return Ok(Vec::new());
        }
        let vocab = mask.len();
        let mut proposals = Vec::new();
        let mut forced = false;
        for (j, slot) in self.slots.iter_mut().enumerate() {
            let Some(r) = slot else { continue };
            r.fed += 1;
            if r.fed < r.tokens.len() {
                forced = true; // still inside its prompt
                continue;
            }
            r.next_mask(opts, mask);
            let row_logits = &logits[j * vocab..(j + 1) * vocab];
            let dist = distribution(row_logits, mask, &opts.sampler, &r.pitches)
                .with_context(|| format!("token {}", r.tokens.len()))?;
            let parent = (j, r.log_prob, self.keys[j]);
            proposals.extend(propose(parent, &dist, beam, &mut self.rng));
        }
        if forced {
            return Ok(Vec::new());
        }
        proposals.sort_by(|a, b| {
            b.key
                .total_cmp(&a.key)
                .then(a.parent.cmp(&b.parent))
                .then(a.id.cmp(&b.id))
        });
        let w = beam.width;
        let mut live: Vec<Proposal> = Vec::with_capacity(w);
        for (rank, p) in proposals.into_iter().enumerate() {
            if live.len() == w {
                break;
            }
            if p.id != opts.specials.eos {
                live.push(p);
            } else if rank < w {
                let mut r = self.slots[p.parent]
                    .clone()
                    .context("a proposal without parent")?;
                r.push(p.id, p.p, opts)?;
                let score = normalised(
                    r.log_prob,
                    r.tokens.len() - r.prompt_len,
                    beam.length_penalty,
                );
                self.finished.push(Finished {
                    tokens: r.tokens,
                    log_prob: r.log_prob,
                    score,
                });
            }
        }
        self.done = self.finished.len() >= w || live.is_empty();
        if self.done {
            self.slots.fill_with(|| None); // its rows feed Pad from now on
            return Ok(Vec::new());
        }
        self.advance(live, opts)
    }

    /// Puts each kept proposal in a slot, its parent's where that is still free.
    fn advance(
        &mut self,
        live: Vec<Proposal>,
        opts: &DecodeOptions,
    ) -> Result<Vec<(usize, usize)>> {
        let w = self.slots.len();
        let mut at: Vec<Option<usize>> = vec![None; live.len()];
        let mut taken = vec![false; w];
        for (k, p) in live.iter().enumerate() {
            if !taken[p.parent] {
                taken[p.parent] = true;
                at[k] = Some(p.parent);
            }
        }
        let mut free = (0..w).filter(|&j| !taken[j]);
        let old = std::mem::replace(&mut self.slots, (0..w).map(|_| None).collect());
        let mut moved = Vec::new();
        for (k, p) in live.into_iter().enumerate() {
            let slot = match at[k] {
                Some(j) => j,
                None => {
                    let j = free.next().context("more proposals than slots")?;
                    moved.push((j, p.parent));
                    j
                }
            };
            let mut r = old[p.parent].clone().context("a proposal without parent")?;
            r.push(p.id, p.p, opts)?;
            self.slots[slot] = Some(r);
            self.keys[slot] = p.key;
        }
        Ok(moved)
    }

    /// The finished hypothesis with the best score (the first found among equals).
    fn best(self, req: &Request) -> Result<Decoded> {
        let best = self
            .finished
            .into_iter()
            .reduce(|a, b| if b.score > a.score { b } else { a });
        let Some(best) = best else {
            bail!(
                "beam search ended without a finished piece (prompt of {} tokens)",
                req.prompt.len()
            );
        };
        Ok(Decoded {
            tokens: best.tokens,
            prompt_len: req.prompt.len(),
            start_bar: self.start_bar,
            log_prob: best.log_prob,
        })
    }
}

/// `width + 1` proposals of the hypothesis `(slot, log-probability, key)` from its next-token
/// distribution: the most likely, or (stochastic) the largest Gumbel-perturbed ones, truncated
/// below the parent's key.
fn propose(
    parent: (usize, f64, f64),
    dist: &[(u16, f64)],
    beam: &BeamConfig,
    rng: &mut Rng,
) -> Vec<Proposal> {
    let (slot, log_prob, parent_key) = parent;
    let n = (beam.width + 1).min(dist.len());
    if !beam.stochastic {
        // dist is most likely first.
        return dist[..n]
            .iter()
            .map(|&(id, p)| Proposal {
                parent: slot,
                id,
                p,
                key: log_prob + p.ln(),
            })
            .collect();
    }
    let perturbed: Vec<f64> = dist
        .iter()
        .map(|&(_, p)| log_prob + p.ln() + gumbel(rng))
        .collect();
    let z = perturbed.iter().fold(f64::NEG_INFINITY, |m, &g| m.max(g));
    let mut out: Vec<Proposal> = dist
        .iter()
        .zip(&perturbed)
        .map(|(&(id, p), &g)| Proposal {
            parent: slot,
            id,
            p,
            key: truncated(parent_key, z, g),
        })
        .collect();
    out.sort_by(|a, b| b.key.total_cmp(&a.key).then(a.id.cmp(&b.id)));
    out.truncate(n);
    out
}

/// A standard Gumbel draw.
fn gumbel(rng: &mut Rng) -> f64 {
    // next_f64 is in [0, 1); keep u off 0 so the logs stay finite.
    let u = rng.next_f64().max(f64::MIN_POSITIVE);
    -(-u.ln()).ln()
}

/// Gumbel value `g` of a child whose siblings' maximum is `z`, conditioned on that maximum
/// being the parent's value `t` (Kool et al. 2019, appendix B, the numerically stable form).
fn truncated(t: f64, z: f64, g: f64) -> f64 {
    let v = t - g + log1mexp(g - z);
    t - v.max(0.0) - (-v.abs()).exp().ln_1p()
}

/// ln(1 - e^a) for a <= 0.
fn log1mexp(a: f64) -> f64 {
    if a > -std::f64::consts::LN_2 {
        (-a.exp_m1()).ln()
    } else {
        (-a.exp()).ln_1p()
    }
}
