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
//! - end to end: grammar-constrained sampling with `decode_batch`, batch 20.

use anyhow::Result;
use std::fmt::Write;
use std::time::Instant;

use crate::generate::{DecodeOptions, Request, SamplerConfig, decode_batch, remi_specials};
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
) -> Result<String> {
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

    let opts = DecodeOptions {
        sampler: SamplerConfig::new("bench", 1.0, 40, 1.0),
        specials: remi_specials(),
        max_tokens: piece_len,
    };
    let reqs: Vec<Request> = (0..20)
        .map(|i| Request {
            prompt: vec![opts.specials.bos],
            target_bars: 4,
            seed: i,
        })
        .collect();
    let t0 = Instant::now();
    let decoded = decode_batch(&kv, Grammar::new, &reqs, &opts)?;
    let secs = t0.elapsed().as_secs_f64();
    let tokens: usize = decoded.iter().map(|d| d.tokens.len()).sum();
    writeln!(
        out,
        "end to end (kv-cached, grammar + top-k 40), batch 20, 4 bars: {tokens} tokens in {secs:.1} s = {:.1} tok/s",
        tokens as f64 / secs
    )?;
    Ok(out)
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
    s.push_str(&bench_with(
        &model.init::<CpuBackend>(&Default::default()),
        model.tgt_len,
        window,
        1000,
    )?);
    Ok(s)
}
