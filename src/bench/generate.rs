//! `pipeline bench generate`: decoding throughput of the configured model (random weights: speed
//! does not depend on training), as ratios measured in one run on this machine.
//!
//! - cached vs naive, batch 1, 1,000-token pieces: cached = the key/value-cached decoder used by
//!   generation ([`KvDecoder`]); also shown, the model's own XL-memory step (`forward` with T = 1 and
//!   the memory, which recomputes the memory's keys and values every step); naive recomputes the
//!   whole prefix each step. Naive is timed at 10 prefix lengths
//!   (50, 150, …, 950) and integrated (midpoint rule) over the 1,000 steps, so the benchmark
//!   does not spend minutes on the quadratic baseline.
//! - batch 20 vs batch 1, cached, tokens/s over the same number of steps (a whole piece, so
//!   most steps attend over the full memory, as in generation).
//! - end to end: grammar-constrained sampling with `decode_batch`, batch 20 and batch 1.
//! - beam search's cost: width 4 (deterministic and stochastic) against sampling, 20 pieces.
//! - the PyTorch peer (scripts/bench/generate_peer.py): the same shape with a key/value cache,
//!   model steps and top-k sampling at batch 1 and 20, as ratios.

use anyhow::Result;
use std::fmt::Write;
use std::time::Instant;

use crate::generate::{
    BeamConfig, DecodeOptions, Request, SamplerConfig, decode_batch, remi_specials,
};
use crate::model::{
    CpuBackend, KvDecoder, MemoryDecoder, NaiveDecoder, NextToken, TransformerXl,
    TransformerXlConfig, Window,
};
use crate::remi::Grammar;
use crate::rng::Rng;

fn random_tokens(rng: &mut Rng, n: usize, vocab: usize) -> Vec<u16> {
    (0..n).map(|_| rng.below(vocab as u64) as u16).collect()
}

/// Seconds to feed `steps` single tokens to each of `batch` rows through the cache.
fn time_cached<M: NextToken>(m: &M, batch: usize, steps: usize, rng: &mut Rng) -> Result<f64> {
    let vocab = m.vocab_size();
    let mut state = m.init_state(batch);
    let t0 = Instant::now();
    for _ in 0..steps {
        m.feed(&random_tokens(rng, batch, vocab), batch, &mut state)?;
    }
    Ok(t0.elapsed().as_secs_f64())
}

/// Estimated seconds for naive decoding of `steps` tokens (batch 1), from 10 sampled lengths.
fn time_naive(m: &NaiveDecoder<CpuBackend>, steps: usize, rng: &mut Rng) -> Result<f64> {
    let vocab = m.vocab_size();
    let samples = 10;
    let mut total = 0.0;
    for k in 0..samples {
        let len = ((2 * k + 1) * steps / (2 * samples)).max(1);
        let mut state = vec![random_tokens(rng, len - 1, vocab)];
        let t0 = Instant::now();
        m.feed(&random_tokens(rng, 1, vocab), 1, &mut state)?;
        total += t0.elapsed().as_secs_f64();
    }
    Ok(total / samples as f64 * steps as f64)
}

pub fn bench_with(
    model: &TransformerXl<CpuBackend>,
    tgt_len: usize,
    window: Window,
    piece_len: usize,
) -> Result<GenerateBench> {
    let kv = KvDecoder::new(model, tgt_len, window)?;
    let xl = MemoryDecoder::new(model)?;
    let naive = NaiveDecoder::new(model);
    let mut rng = Rng::new(0xBE7C);
    let mut out = String::new();

    // Warm-up (allocator, thread pool).
    time_cached(&kv, 1, 8, &mut rng)?;
    time_cached(&xl, 1, 8, &mut rng)?;

    let tps = |n: usize, s: f64| n as f64 / s;
    let k1 = time_cached(&kv, 1, piece_len, &mut rng)?;
    let x1 = time_cached(&xl, 1, piece_len, &mut rng)?;
    let n1 = time_naive(&naive, piece_len, &mut rng)?;
    writeln!(
        out,
        "{piece_len}-token piece, batch 1: kv-cached {:.1} tok/s, xl-memory {:.1} tok/s, naive {:.1} tok/s (estimated)",
        tps(piece_len, k1),
        tps(piece_len, x1),
        tps(piece_len, n1)
    )?;
    writeln!(
        out,
        "  cached/naive = {:.1}x (xl-memory/naive = {:.1}x)",
        n1 / k1,
        n1 / x1
    )?;

    // Batch 20 over the same steps as the batch-1 piece above.
    let kb20 = time_cached(&kv, 20, piece_len, &mut rng)?;
    let xb20 = time_cached(&xl, 20, piece_len, &mut rng)?;
    let (r1, r20) = (tps(piece_len, k1), tps(20 * piece_len, kb20));
    writeln!(
        out,
        "kv-cached, {piece_len} steps: batch 1 {r1:.1} tok/s, batch 20 {r20:.1} tok/s, batch20/batch1 = {:.1}x \
         (xl-memory: {:.1} -> {:.1} tok/s, {:.1}x)",
        r20 / r1,
        tps(piece_len, x1),
        tps(20 * piece_len, xb20),
        x1 * 20.0 / xb20
    )?;

    let top_k = SamplerConfig::new("bench", 1.0, 40, 1.0);
    let (tokens, secs) = end_to_end(&kv, 20, top_k.clone(), 4, piece_len)?;
    writeln!(
        out,
        "end to end (kv-cached, grammar + top-k 40), batch 20, 4 bars: {tokens} tokens in {secs:.1} s = {:.1} tok/s",
        tokens as f64 / secs
    )?;
    // Pieces about as long as the peer's (the random model writes about 13 tokens a bar).
    let bars = (piece_len / 13).max(1) as u32;
    let (tokens, secs) = end_to_end(&kv, 1, top_k.clone(), bars, piece_len)?;
    let e2e1 = tokens as f64 / secs;
    writeln!(
        out,
        "  batch 1, {bars} bars: {tokens} tokens in {secs:.1} s = {e2e1:.1} tok/s"
    )?;
    let (tokens, secs) = end_to_end(&kv, 20, top_k.clone(), bars, piece_len)?;
    let e2e20 = tokens as f64 / secs;
    writeln!(
        out,
        "  batch 20, {bars} bars: {tokens} tokens in {secs:.1} s = {e2e20:.1} tok/s"
    )?;
    out.push_str(&beam_cost(&kv, top_k, piece_len)?);
    Ok(GenerateBench {
        report: out,
        steps: [r1, r20],
        sampled: [e2e1, e2e20],
    })
}

/// Tokens and seconds of `batch` pieces of `bars` bars from Bos, grammar-constrained.
fn end_to_end(
    kv: &KvDecoder<CpuBackend>,
    batch: usize,
    sampler: SamplerConfig,
    bars: u32,
    max_tokens: usize,
) -> Result<(usize, f64)> {
    let opts = DecodeOptions {
        sampler,
        specials: remi_specials(),
        max_tokens,
    };
    let reqs: Vec<Request> = (0..batch as u64)
        .map(|i| Request {
            prompt: vec![opts.specials.bos],
            target_bars: bars,
            seed: i,
        })
        .collect();
    let t0 = Instant::now();
    let decoded = decode_batch(kv, Grammar::new, &reqs, &opts)?;
    let secs = t0.elapsed().as_secs_f64();
    Ok((decoded.iter().map(|d| d.tokens.len()).sum(), secs))
}

/// Beam search's cost: the same 20 pieces, width 4 (80 rows) against sampling (20 rows), in
/// tokens of the returned pieces per second.
fn beam_cost(
    kv: &KvDecoder<CpuBackend>,
    sampler: SamplerConfig,
    max_tokens: usize,
) -> Result<String> {
    let beam = |stochastic| SamplerConfig {
        beam: Some(BeamConfig {
            width: 4,
            stochastic,
            length_penalty: 1.0,
        }),
        ..sampler.clone()
    };
    let tps = |(t, s): (usize, f64)| t as f64 / s;
    let plain = tps(end_to_end(kv, 20, sampler.clone(), 8, max_tokens)?);
    let det = tps(end_to_end(kv, 20, beam(false), 8, max_tokens)?);
    let sto = tps(end_to_end(kv, 20, beam(true), 8, max_tokens)?);
    Ok(format!(
        "beam search, batch 20, 8 bars: sampling {plain:.1} tok/s, beam width 4 {det:.1} tok/s ({:.2}x), \
         stochastic beam width 4 {sto:.1} tok/s ({:.2}x) (tokens of the returned pieces)\n",
        det / plain,
        sto / plain
    ))
}

/// [`bench_with`]'s report, and the tokens/s that are set beside the peer's: model steps and
/// end-to-end sampling, each at batch 1 and batch 20.
pub struct GenerateBench {
    pub report: String,
    pub steps: [f64; 2],
    pub sampled: [f64; 2],
}

/// The PyTorch peer (scripts/bench/generate_peer.py) on the same shape and keys, beside ours:
/// model steps at batch 1 and 20 (`steps`), and sampling (`sampled`: ours with the grammar).
fn peer(m: &TransformerXlConfig, keys: usize, piece_len: usize, ours: &GenerateBench) -> String {
    let arg = |x: usize| x.to_string();
    let args = [
        ("--vocab", arg(m.vocab_size)),
        ("--n-layer", arg(m.n_layer)),
        ("--d-model", arg(m.d_model)),
        ("--n-head", arg(m.n_head)),
        ("--d-inner", arg(m.d_inner)),
        ("--keys", arg(keys)),
        ("--steps", arg(piece_len)),
    ];
    let args: Vec<&str> = args.iter().flat_map(|(k, v)| [*k, v.as_str()]).collect();
    let v = match super::python_peer(&["torch"], "generate_peer.py", &args) {
        Ok(v) => v,
        Err(e) => return format!("PyTorch peer unavailable: {e:#}\n"),
    };
    let mut out = format!(
        "PyTorch {} ({} threads), the same shape and keys, key/value cache, {piece_len} steps:\n",
        v["torch"].as_str().unwrap_or("?"),
        v["threads"]
    );
    for (i, batch) in [1, 20].into_iter().enumerate() {
        let get = |k: &str| {
            v[format!("batch{batch}_{k}_tokens_per_sec")]
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        let (ps, pd) = (get("steps"), get("sampled"));
        out += &format!(
            "  batch {batch}: model steps {ps:.1} tok/s (cadenza/PyTorch {:.2}x); top-k sampling {pd:.1} tok/s \
             (cadenza with the grammar/PyTorch without {:.2}x). Target: > 1x\n",
            ours.steps[i] / ps,
            ours.sampled[i] / pd
        );
    }
    out
}

/// The benchmark on the configured model shape and decoder window: 1,000-token pieces, also
/// for the batch ratio.
pub fn bench_generate(model: &TransformerXlConfig, window: Window) -> Result<String> {
    let mut s = format!(
        "generate benchmark ({} layers, d_model {}, mem_len {}, window {} = {} keys, random weights, CPU backend, {} threads)\n",
        model.n_layer,
        model.d_model,
        model.mem_len,
        window.name(),
        window.keys(model.mem_len, model.tgt_len),
        rayon::current_num_threads()
    );
    let piece_len = 1000;
    let ours = bench_with(
        &model.init::<CpuBackend>(&Default::default()),
        model.tgt_len,
        window,
        piece_len,
    )?;
    s.push_str(&ours.report);
    s.push_str(&peer(
        model,
        window.keys(model.mem_len, model.tgt_len),
        piece_len,
        &ours,
    ));
    Ok(s)
}
