//! Beam search: width 1 is greedy decoding, wider beams score at least as well, pieces keep
//! the grammar and the bar count, a piece is the same in any batch, the stochastic variant
//! samples; and the cached decoder's row forks (reorder) match the model's.

use cadenza::generate::{BeamConfig, Decoded, Request, SamplerConfig, cut_bars, decode_batch};
use cadenza::model::{
    CpuBackend, KvDecoder, MemoryDecoder, NextToken, TransformerXl, TransformerXlConfig, Window,
};
use cadenza::remi::{self, Grammar, Vocab};
use cadenza::rng::Rng;

use super::decode::{assert_well_formed, demo_song, opts};

/// A tiny model with larger weights than the default init, so its distributions are peaked
/// and greedy and beam search can disagree.
fn peaked(seed: u64) -> TransformerXl<CpuBackend> {
    let mut cfg = TransformerXlConfig::tiny(Vocab::SIZE).with_mem_len(32);
    cfg.init_std = 0.15;
    crate::support::model::<CpuBackend>(&cfg, seed)
}

fn beam(width: usize, stochastic: bool) -> SamplerConfig {
    SamplerConfig {
        beam: Some(BeamConfig {
            width,
            stochastic,
            length_penalty: 1.0,
        }),
        ..SamplerConfig::new("beam", 1.0, 0, 1.0)
    }
}

/// Continuations of 2- and 3-bar prompts and pieces from Bos, `bars` new bars each.
fn requests(n: u64, bars: u32) -> Vec<Request> {
    let song = remi::encode(&demo_song(4)).unwrap().tokens;
    (0..n)
        .map(|i| {
            let prompt_bars = (i % 3) as u32 + 1;
            let prompt = if i % 3 == 0 {
                vec![remi::BOS]
            } else {
                cut_bars(&song, prompt_bars, cadenza::generate::remi_specials())
            };
            let start = prompt.iter().filter(|&&t| t == remi::BAR).count() as u32;
            Request {
                prompt,
                target_bars: start + bars,
                seed: 40 + i,
            }
        })
        .collect()
}

fn decode(model: &KvDecoder<CpuBackend>, reqs: &[Request], s: SamplerConfig) -> Vec<Decoded> {
    decode_batch(model, Grammar::new, reqs, &opts(s, 300)).unwrap()
}

#[test]
fn width_one_is_greedy_and_wider_beams_score_at_least_as_well() {
    let model = peaked(3);
    let kv = KvDecoder::new(&model, 16, Window::Segment).unwrap();
    let reqs = requests(9, 2);
    let greedy = decode(&kv, &reqs, SamplerConfig::new("greedy", 1.0, 1, 1.0));
    let one = decode(&kv, &reqs, beam(1, false));
    let mut better = 0;
    for width in [2, 4] {
        let wide = decode(&kv, &reqs, beam(width, false));
        for (i, ((g, b1), bw)) in greedy.iter().zip(&one).zip(&wide).enumerate() {
            assert_eq!(g.tokens, b1.tokens, "piece {i}: width 1 = greedy");
            assert_well_formed(&bw.tokens, reqs[i].target_bars);
            assert_eq!(
                bw.tokens[..bw.prompt_len],
                reqs[i].prompt[..],
                "keeps its prompt"
            );
            let (s1, sw) = (b1.score(1.0), bw.score(1.0));
            assert!(
                sw >= s1 - 1e-9,
                "piece {i}, width {width}: {sw} < greedy's {s1}"
            );
            better += usize::from(sw > s1 + 1e-6);
        }
    }
    assert!(
        better > 0,
        "some wider beam finds a better piece than greedy"
    );
}

#[test]
fn a_beam_piece_is_the_same_in_any_batch() {
    let model = peaked(4);
    let kv = KvDecoder::new(&model, 16, Window::Segment).unwrap();
    let reqs = requests(6, 2);
    for stochastic in [false, true] {
        let all = decode(&kv, &reqs, beam(3, stochastic));
        for i in [0, 2, 5] {
            let alone = decode(&kv, &reqs[i..=i], beam(3, stochastic));
            assert_eq!(
                all[i].tokens, alone[0].tokens,
                "piece {i}, stochastic {stochastic}"
            );
        }
        let again = decode(&kv, &reqs, beam(3, stochastic));
        assert_eq!(all, again, "same seeds, same pieces");
    }
}

#[test]
fn stochastic_beams_sample_and_deterministic_beams_do_not() {
    let model = peaked(5);
    let kv = KvDecoder::new(&model, 16, Window::Segment).unwrap();
    // One prompt, eight seeds.
    let reqs: Vec<Request> = requests(2, 2)
        .into_iter()
        .skip(1)
        .cycle()
        .take(8)
        .enumerate()
        .map(|(i, r)| Request {
            seed: 500 + i as u64,
            ..r
        })
        .collect();
    let distinct = |d: &[Decoded]| {
        let mut t: Vec<&Vec<u16>> = d.iter().map(|d| &d.tokens).collect();
        t.sort();
        t.dedup();
        t.len()
    };
    assert_eq!(distinct(&decode(&kv, &reqs, beam(3, false))), 1);
    let sampled = decode(&kv, &reqs, beam(3, true));
    assert!(
        distinct(&sampled) >= 4,
        "{} distinct of 8",
        distinct(&sampled)
    );
    for (d, r) in sampled.iter().zip(&reqs) {
        assert_well_formed(&d.tokens, r.target_bars);
    }
}

/// After a reorder, each row continues its parent's context: the cached decoder's logits match
/// the XL-memory decoder's, whose reorder selects memory rows.
#[test]
fn forked_cache_rows_continue_their_parents() {
    let mut cfg = TransformerXlConfig::tiny(Vocab::SIZE).with_mem_len(12);
    cfg.init_std = 0.2;
    let model = crate::support::model::<CpuBackend>(&cfg, 9);
    let xl = MemoryDecoder::new(&model).unwrap();
    // Window::Memory: the same keys as the XL memory, so the logits agree.
    let kv = KvDecoder::new(&model, 8, Window::Memory).unwrap();
    let rows = 20; // several parallel groups
    let (mut sx, mut sk) = (xl.init_state(rows), kv.init_state(rows));
    let mut rng = Rng::new(1);
    for step in 0..40 {
        let tokens: Vec<u16> = (0..rows)
            .map(|_| rng.below(Vocab::SIZE as u64) as u16)
            .collect();
        let a = xl.feed(&tokens, rows, &mut sx).unwrap();
        let b = kv.feed(&tokens, rows, &mut sk).unwrap();
        let diff = crate::support::max_abs_diff(&a, &b);
        assert!(diff < 1e-3, "step {step}: {diff}");
        if step % 7 == 6 {
            // Forks across groups, a swap and rows that stay.
            let parents: Vec<usize> = (0..rows)
                .map(|r| match r % 4 {
                    0 => r,
                    1 => rows - 1 - r,
                    _ => rng.below(rows as u64) as usize,
                })
                .collect();
            xl.reorder(&mut sx, &parents).unwrap();
            kv.reorder(&mut sk, &parents).unwrap();
        }
    }
    assert!(kv.reorder(&mut sk, &[0; 3]).is_err(), "one parent per row");
}
