//! The key/value-cached decoder gives the model's own logits, step by step, also past mem_len
//! (same sliding window as the XL memory), for pre-norm and post-norm models.

use cadenza::generate::{DecodeOptions, Request, SamplerConfig, decode_batch, remi_specials};
use cadenza::model::{
    CpuBackend, KvDecoder, MemoryDecoder, NextToken, TransformerXlConfig, Window,
};
use cadenza::remi::{self, Grammar, Vocab};
use cadenza::rng::Rng;

#[test]
fn kv_cache_matches_xl_memory_logits_past_mem_len() {
    for pre_norm in [true, false] {
        let mut cfg = TransformerXlConfig::tiny(Vocab::SIZE);
        cfg.pre_norm = pre_norm;
        cfg.init_std = 0.2; // larger weights: differences would show
        let model = crate::support::model::<CpuBackend>(&cfg, 4);
        let xl = MemoryDecoder::new(&model).unwrap();
        let kv = KvDecoder::new(&model, 16, Window::Memory).unwrap();
        let (mut sx, mut sk) = (xl.init_state(3), kv.init_state(3));
        let mut rng = Rng::new(5);
        let steps = 3 * cfg.mem_len + 5;
        for step in 0..steps {
            let tokens: Vec<u16> = (0..3)
                .map(|_| rng.below(Vocab::SIZE as u64) as u16)
                .collect();
            let a = xl.feed(&tokens, 3, &mut sx).unwrap();
            let b = kv.feed(&tokens, 3, &mut sk).unwrap();
            let scale = a.iter().fold(0f32, |m, x| m.max(x.abs()));
            let diff = a
                .iter()
                .zip(&b)
                .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(scale > 1e-3, "logits are not trivially zero");
            assert!(
                diff <= 1e-4 * scale.max(1.0),
                "pre_norm {pre_norm}, step {step}: max diff {diff} (scale {scale})"
            );
        }
    }
}

#[test]
fn kv_cache_decodes_the_same_tokens() {
    let model = crate::support::model::<CpuBackend>(&TransformerXlConfig::tiny(Vocab::SIZE), 5);
    let xl = MemoryDecoder::new(&model).unwrap();
    let kv = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let opts = DecodeOptions {
        sampler: SamplerConfig::new("t", 1.0, 0, 1.0),
        specials: remi_specials(),
        max_tokens: 150,
    };
    let reqs: Vec<Request> = (0..6)
        .map(|i| Request {
            prompt: vec![remi::BOS],
            target_bars: 4,
            seed: 100 + i,
        })
        .collect();
    let a = decode_batch(&xl, Grammar::new, &reqs, &opts).unwrap();
    let b = decode_batch(&kv, Grammar::new, &reqs, &opts).unwrap();
    assert!(
        a.iter().any(|d| d.tokens.len() > 2 * model.mem_len),
        "past mem_len"
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.tokens, y.tokens);
    }
}

/// A piece does not depend on the batch around it: its row is decoded alone or among others
/// (the batch is split into per-thread groups whose size follows the batch size).
#[test]
fn a_piece_is_the_same_in_any_batch() {
    // The small preset's widths (the matmuls take their blocked paths), a short memory (the ring
    // wraps many times).
    let model = crate::support::model::<CpuBackend>(
        &TransformerXlConfig::small(Vocab::SIZE).with_mem_len(32),
        6,
    );
    let kv = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let opts = DecodeOptions {
        sampler: SamplerConfig::new("t", 1.0, 40, 1.0),
        specials: remi_specials(),
        max_tokens: 400,
    };
    let reqs: Vec<Request> = (0..20)
        .map(|i| Request {
            prompt: vec![remi::BOS],
            target_bars: 12,
            seed: 7 + i,
        })
        .collect();
    let all = decode_batch(&kv, Grammar::new, &reqs, &opts).unwrap();
    let lens: Vec<usize> = all.iter().map(|d| d.tokens.len()).collect();
    assert!(
        lens.iter().filter(|&&n| n > 2 * 33).count() >= 10,
        "most pieces wrap the ring twice: {lens:?}"
    );
    // The tokens; their log-probabilities may differ in the last digits (the batch's matmul
    // blocking rounds differently).
    let nine = decode_batch(&kv, Grammar::new, &reqs[..9], &opts).unwrap();
    for i in 0..9 {
        assert_eq!(all[i].tokens, nine[i].tokens, "piece {i}");
    }
    for i in [0, 13, 19] {
        let alone = decode_batch(&kv, Grammar::new, &reqs[i..=i], &opts).unwrap();
        assert_eq!(all[i].tokens, alone[0].tokens, "piece {i}");
    }
}

/// The logits' largest absolute difference, relative to their scale (at least 1).
fn rel_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = a.iter().fold(1f32, |m, x| m.max(x.abs()));
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

/// Both windows, prompts of several lengths in one batch: the cached decoder's prefill (training's
/// segments of tgt_len, aligned to the prompt's end) and the steps after it give the logits of
/// the model run the same way by hand: the segments with the XL memory, then one position at a
/// time with a memory of window − 1 positions.
#[test]
fn prefill_in_segments_and_both_windows_match_the_model() {
    let mut cfg = TransformerXlConfig::tiny(Vocab::SIZE).with_mem_len(12);
    cfg.init_std = 0.2;
    let tgt_len = 8;
    let model = crate::support::model::<CpuBackend>(&cfg, 11);
    let mut rng = Rng::new(9);
    let lens = [0usize, 5, 8, 21, 30];
    let prompts: Vec<Vec<u16>> = lens
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| rng.below(Vocab::SIZE as u64) as u16)
                .collect()
        })
        .collect();
    let steps: Vec<Vec<u16>> = (0..25)
        .map(|_| {
            (0..lens.len())
                .map(|_| rng.below(Vocab::SIZE as u64) as u16)
                .collect()
        })
        .collect();
    for window in [Window::Memory, Window::Segment] {
        let keys = window.keys(cfg.mem_len, tgt_len);
        let kv = KvDecoder::new(&model, tgt_len, window).unwrap();
        let mut state = kv.init_state(lens.len());
        let refs: Vec<&[u16]> = prompts.iter().map(|p| p.as_slice()).collect();
        assert_eq!(kv.prefill(&refs, &mut state).unwrap(), lens.to_vec());
        let got: Vec<Vec<f32>> = steps
            .iter()
            .map(|col| kv.feed(col, lens.len(), &mut state).unwrap())
            .collect();
        // By hand, row by row.
        let mut long = model.clone();
        long.mem_len = keys - 1;
        let vocab = Vocab::SIZE;
        for (b, prompt) in prompts.iter().enumerate() {
            let tensor = |t: &[u16]| {
                let ids: Vec<i64> = t.iter().map(|&x| x as i64).collect();
                burn::tensor::Tensor::<CpuBackend, 2, burn::tensor::Int>::from_data(
                    burn::tensor::TensorData::new(ids, [1, t.len()]),
                    &Default::default(),
                )
            };
            let mut mem = None;
            let mut start = 0;
            while start < prompt.len() {
                let first = prompt.len() % tgt_len;
                let end = if start == 0 && first != 0 {
                    first
                } else {
                    start + tgt_len
                };
                let m = if end == prompt.len() { &long } else { &model };
                mem = Some(m.forward(tensor(&prompt[start..end]), mem.as_ref()).1);
                start = end;
            }
            let step_by_step = MemoryDecoder::new(&long).unwrap();
            for (i, col) in steps.iter().enumerate() {
                let want = step_by_step.feed(&col[b..=b], 1, &mut mem).unwrap();
                let got = &got[i][b * vocab..(b + 1) * vocab];
                let diff = rel_diff(&want, got);
                assert!(
                    diff < 1e-5,
                    "{} row {b} (prompt {}) step {i}: {diff}",
                    window.name(),
                    prompt.len()
                );
            }
        }
    }
}
