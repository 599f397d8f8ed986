//! The key/value-cached decoder gives the model's own logits, step by step, also past mem_len
//! (same sliding window as the XL memory), for pre-norm and post-norm models.

use cadenza::generate::{DecodeOptions, Request, SamplerConfig, decode_batch, remi_specials};
use cadenza::model::{CpuBackend, KvDecoder, MemoryDecoder, NextToken, TransformerXlConfig};
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
        let kv = KvDecoder::new(&model).unwrap();
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
    let kv = KvDecoder::new(&model).unwrap();
    let opts = DecodeOptions {
        sampler: SamplerConfig::new("t", 1.0, 0, 1.0),
        specials: remi_specials(),
        max_tokens: 150,
        prefill_chunk: 0,
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
    assert_eq!(a, b);
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
    let kv = KvDecoder::new(&model).unwrap();
    let opts = DecodeOptions {
        sampler: SamplerConfig::new("t", 1.0, 40, 1.0),
        specials: remi_specials(),
        max_tokens: 400,
        prefill_chunk: 0,
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
    let nine = decode_batch(&kv, Grammar::new, &reqs[..9], &opts).unwrap();
    assert_eq!(&all[..9], &nine[..]);
    for i in [0, 13, 19] {
        let alone = decode_batch(&kv, Grammar::new, &reqs[i..=i], &opts).unwrap();
        assert_eq!(all[i], alone[0], "piece {i}");
    }
}
