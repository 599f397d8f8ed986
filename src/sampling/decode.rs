//! Batched, cached, grammar-constrained decoding.
//!
//! All rows advance together, one position per step: every row feeds its next token as a
//! `[B, 1]` forward through the model's cached state (for Transformer-XL, its memory), and gets
//! logits for the position after it. A row still inside its prompt ignores them (the next
//! prompt token is forced), so prompts of different lengths need no padding; a row past its
//! prompt samples; a finished row (Eos) feeds Pad and is ignored. Before the first step each
//! row's prompt but its last token goes in through [`NextToken::prefill`] (the cached decoder
//! runs it as training's segments), so each row starts the loop at its own position.
//!
//! Transformer-XL's memory is its context: with `mem_len` cached states per layer, a step sees
//! the last `mem_len` positions directly (and, through the layers' own memories, up to about
//! `n_layer × mem_len` positions indirectly). Pieces longer than `mem_len + 1` tokens therefore
//! decode with a sliding context, exactly as the model was trained with its recurrence; they do
//! not equal a naive decoder that attends to the whole prefix.

use anyhow::{Context, Result, bail};

use super::distribution::{distribution, draw};
use super::prior::PiecePitches;
use super::sampler::SamplerConfig;
use crate::model::NextToken;
use crate::rng::Rng;

/// What the decoder needs from the REMI grammar state machine.
pub trait TokenGrammar {
    /// `mask[id] = true` for every token that may come next.
    fn fill_mask(&self, mask: &mut [bool]);
    fn push(&mut self, id: u16) -> Result<()>;
    /// Bar tokens seen so far.
    fn bars(&self) -> u32;
    /// Whether the current bar has a note.
    fn bar_has_note(&self) -> bool;
}

/// Token ids the decoder treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Specials {
    pub pad: u16,
    pub bos: u16,
    pub eos: u16,
    pub bar: u16,
}

/// One piece to decode: its prompt (starting with Bos), its bar target and its seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub prompt: Vec<u16>,
    /// Total bars of the finished piece, prompt included.
    pub target_bars: u32,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Prompt + generated tokens, ending with Eos.
    pub tokens: Vec<u16>,
    pub prompt_len: usize,
    /// Bars in the prompt: the 0-based bar where generation starts.
    pub start_bar: u32,
    /// Σ ln p of the generated tokens under the sampler's processed distribution.
    pub log_prob: f64,
}

impl Decoded {
    /// The log-probability per generated token^`length_penalty` (beam search's ranking).
    pub fn score(&self, length_penalty: f64) -> f64 {
        normalised(
            self.log_prob,
            self.tokens.len() - self.prompt_len,
            length_penalty,
        )
    }
}

pub(super) fn normalised(log_prob: f64, generated: usize, length_penalty: f64) -> f64 {
    log_prob / (generated.max(1) as f64).powf(length_penalty)
}

#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub sampler: SamplerConfig,
    pub specials: Specials,
    pub max_tokens: usize,
}

/// One piece being decoded.
#[derive(Clone)]
pub(super) struct Row<G> {
    pub tokens: Vec<u16>,
    pub prompt_len: usize,
    /// Tokens fed to the model so far.
    pub fed: usize,
    pub start_bar: u32,
    pub target: u32,
    pub grammar: G,
    /// The pitches of the piece so far (the sampler's pitch prior reads them).
    pub pitches: PiecePitches,
    pub rng: Rng,
    pub log_prob: f64,
    pub done: bool,
}

impl<G: TokenGrammar> Row<G> {
    /// The tokens allowed next (see [`constrained_mask`]); the first token after a
    /// continuation's prompt opens a new bar or ends, as the prompt's last bar is the song's.
    pub fn next_mask(&self, opts: &DecodeOptions, mask: &mut [bool]) {
        constrained_mask(&self.grammar, self.target, self.tokens.len(), opts, mask);
        if self.start_bar > 0 && self.tokens.len() == self.prompt_len {
            only_bar_or_eos(mask, opts.specials);
        }
    }

    /// Appends a chosen token of probability `p`.
    pub fn push(&mut self, id: u16, p: f64, opts: &DecodeOptions) -> Result<()> {
        if self.tokens.len() > 2 * opts.max_tokens + 256 {
            bail!("exceeded twice generate.max_tokens without reaching Eos");
        }
        self.grammar
            .push(id)
            .with_context(|| format!("token {id} rejected by the grammar"))?;
        self.tokens.push(id);
        self.pitches.push(id);
        self.log_prob += p.ln();
        self.done = id == opts.specials.eos;
        Ok(())
    }

    pub fn decoded(self) -> Decoded {
        Decoded {
            tokens: self.tokens,
            prompt_len: self.prompt_len,
            start_bar: self.start_bar,
            log_prob: self.log_prob,
        }
    }
}

/// The allowed next tokens: the grammar, then the bar count, then the token budget.
pub fn constrained_mask<G: TokenGrammar>(
    g: &G,
    target: u32,
    len: usize,
    opts: &DecodeOptions,
    mask: &mut [bool],
) {
    let sp = opts.specials;
    mask.fill(false);
    g.fill_mask(mask);
    for id in [sp.pad, sp.bos] {
        mask[id as usize] = false;
    }
    if g.bars() >= target {
        mask[sp.bar as usize] = false;
    }
    if !(g.bars() == target && g.bar_has_note()) {
        mask[sp.eos as usize] = false;
    }
    if len >= opts.max_tokens && (mask[sp.bar as usize] || mask[sp.eos as usize]) {
        // Over budget: only close bars (the bar and Eos rules above still hold).
        only_bar_or_eos(mask, sp);
    }
}

/// Keeps at most Bar and Eos allowed, as they were.
fn only_bar_or_eos(mask: &mut [bool], sp: Specials) {
    let (bar, eos) = (mask[sp.bar as usize], mask[sp.eos as usize]);
    mask.fill(false);
    mask[sp.bar as usize] = bar;
    mask[sp.eos as usize] = eos;
}

/// Each row's grammar fed with its prompt; fails on a prompt that is not grammatical or already
/// longer than its bar target.
pub(super) fn start_rows<G: TokenGrammar>(
    new_grammar: impl Fn() -> G,
    reqs: &[Request],
    sp: Specials,
) -> Result<Vec<Row<G>>> {
    let mut rows = Vec::with_capacity(reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        if r.prompt.first() != Some(&sp.bos) {
            bail!("prompt {i} does not start with Bos");
        }
        let mut g = new_grammar();
        for (k, &t) in r.prompt.iter().enumerate() {
            g.push(t)
                .with_context(|| format!("prompt {i} is not grammatical at token {k} (id {t})"))?;
        }
        let start_bar = g.bars();
        if start_bar > r.target_bars {
            bail!(
                "prompt {i} already has {start_bar} bars, more than the {} asked for",
                r.target_bars
            );
        }
        rows.push(Row {
            tokens: r.prompt.clone(),
            prompt_len: r.prompt.len(),
            fed: 0,
            start_bar,
            target: r.target_bars,
            grammar: g,
            pitches: PiecePitches::of(&r.prompt),
            rng: Rng::new(r.seed),
            log_prob: 0.0,
            done: false,
        });
    }
    Ok(rows)
}

/// Decode all requests as one batch. Each row's randomness comes only from its own seed, so a
/// row's tokens do not depend on which other rows share its batch (up to float rounding in the
/// model's batched kernels).
pub fn decode_batch<M, G>(
    model: &M,
    new_grammar: impl Fn() -> G,
    reqs: &[Request],
    opts: &DecodeOptions,
) -> Result<Vec<Decoded>>
where
    M: NextToken,
    G: TokenGrammar + Clone,
{
    let batch = reqs.len();
    if batch == 0 {
        return Ok(Vec::new());
    }
    if let Some(beam) = &opts.sampler.beam {
        return super::beam::decode_beams(model, new_grammar, reqs, opts, beam);
    }
    let sp = opts.specials;
    let vocab = model.vocab_size();
    let mut rows = start_rows(new_grammar, reqs, sp)?;
    let mut state = model.init_state(batch);
    let prompts: Vec<&[u16]> = rows.iter().map(|r| &r.tokens[..r.prompt_len - 1]).collect();
    let fed = model.prefill(&prompts, &mut state)?;
    for (r, fed) in rows.iter_mut().zip(fed) {
        r.fed = fed;
    }

    let mut mask = vec![false; vocab];
    let mut input = vec![sp.pad; batch];
    while rows.iter().any(|r| !r.done) {
        for (b, r) in rows.iter().enumerate() {
            input[b] = if r.done { sp.pad } else { r.tokens[r.fed] };
        }
        let logits = feed(model, &input, &mut state)?;
        for (b, r) in rows.iter_mut().enumerate() {
            r.fed += 1;
            if r.done || r.fed < r.tokens.len() {
                continue; // finished, or still inside its prompt
            }
            r.next_mask(opts, &mut mask);
            let row_logits = &logits[b * vocab..(b + 1) * vocab];
            let dist = distribution(row_logits, &mask, &opts.sampler, &r.pitches)
                .with_context(|| format!("piece {b}, token {}", r.tokens.len()))?;
            let id = draw(&dist, &mut r.rng);
            let p = dist.iter().find(|c| c.0 == id).map_or(1.0, |c| c.1);
            r.push(id, p, opts).with_context(|| format!("piece {b}"))?;
        }
    }
    Ok(rows.into_iter().map(Row::decoded).collect())
}

/// One step for every row (`input` `[rows]`): the logits `[rows, vocab]`.
pub(super) fn feed<M: NextToken>(
    model: &M,
    input: &[u16],
    state: &mut M::State,
) -> Result<Vec<f32>> {
    let (rows, vocab) = (input.len(), model.vocab_size());
    let logits = model.feed(input, rows, state)?;
    if logits.len() != rows * vocab {
        bail!(
            "the model returned {} logits for a batch of {rows} × vocab {vocab}",
            logits.len()
        );
    }
    Ok(logits)
}
