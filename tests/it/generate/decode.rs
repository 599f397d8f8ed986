//! Decoding with an untrained tiny Transformer-XL and the real REMI grammar: every piece is
//! grammatical, decodes, and has exactly the bars asked for; cached = naive; seeds reproduce;
//! continuations keep their prompt.

use cadenza::generate::{
    BeamConfig, DecodeOptions, GenerateConfig, PartitionPlan, PitchPrior, Prompt, Request,
    SamplerConfig, Task, cut_bars, decode_batch, default_samplers, generate_pieces, remi_specials,
    song_bars,
};
use cadenza::midi::{Note, Song, Tempo};
use cadenza::model::{
    CpuBackend, KvDecoder, MemoryDecoder, NaiveDecoder, TransformerXl, TransformerXlConfig, Window,
};
use cadenza::remi::{self, BAR, EOS, Grammar, Vocab, onset_step};

pub fn tiny(mem_len: usize, seed: u64) -> TransformerXl<CpuBackend> {
    let mut cfg = TransformerXlConfig::tiny(Vocab::SIZE);
    cfg.mem_len = mem_len;
    crate::support::model::<CpuBackend>(&cfg, seed)
}

pub fn opts(sampler: SamplerConfig, max_tokens: usize) -> DecodeOptions {
    DecodeOptions {
        sampler,
        specials: remi_specials(),
        max_tokens,
    }
}

pub fn assert_well_formed(tokens: &[u16], bars: u32) {
    remi::validate(tokens).expect("grammatical");
    assert_eq!(tokens.last(), Some(&EOS));
    assert_eq!(
        tokens.iter().filter(|&&t| t == BAR).count() as u32,
        bars,
        "Bar tokens"
    );
    let song = remi::decode(tokens).expect("decodes");
    assert_eq!(song_bars(&song), bars, "n_bars as evaluate computes it");
    // Through MIDI bytes, as evaluate reads it.
    let back =
        cadenza::midi::read_bytes(&cadenza::midi::write_bytes(&song)).expect("MIDI reads back");
    assert_eq!(song_bars(&back), bars, "n_bars after a MIDI round trip");
}

#[test]
fn hundreds_of_random_model_pieces_are_grammatical_with_exact_bars() {
    let model = tiny(16, 1);
    let cached = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let mut samplers = default_samplers();
    samplers.push(SamplerConfig::new("t1.5_p0.95", 1.5, 0, 0.95));
    samplers.push(SamplerConfig {
        typical_p: 0.9,
        ..SamplerConfig::new("t1.2_typ0.9", 1.2, 0, 1.0)
    });
    samplers.push(SamplerConfig {
        min_p: 0.1,
        ..SamplerConfig::new("t1.5_min0.1", 1.5, 0, 1.0)
    });
    samplers.push(SamplerConfig {
        pitch_prior: Some(PitchPrior {
            out_of_scale: 1.0,
            new_class: 0.5,
            beyond_range: 0.5,
            after_notes: 4,
        }),
        ..SamplerConfig::new("t1.0_k40_prior", 1.0, 40, 1.0)
    });
    samplers.push(SamplerConfig {
        family: toml::from_str(
            "pitch = { temperature = 0.7, top_k = 5 }\nvelocity = { top_p = 0.5 }\nduration = { temperature = 1.5 }",
        )
        .unwrap(),
        ..SamplerConfig::new("family", 1.0, 40, 1.0)
    });
    for stochastic in [false, true] {
        samplers.push(SamplerConfig {
            beam: Some(BeamConfig {
                width: 3,
                stochastic,
                length_penalty: 1.0,
            }),
            ..SamplerConfig::new("beam", 1.0, 0, 1.0)
        });
    }
    let (n_samplers, mut total) = (samplers.len(), 0);
    for (k, s) in samplers.into_iter().enumerate() {
        let reqs: Vec<Request> = (0..60)
            .map(|i| Request {
                prompt: vec![remi::BOS],
                target_bars: 1 + (i % 4) as u32,
                seed: (k * 1000 + i) as u64,
            })
            .collect();
        // A small budget keeps it fast and exercises the bar-closing path.
        let out = decode_batch(&cached, Grammar::new, &reqs, &opts(s, 160)).unwrap();
        for (d, r) in out.iter().zip(&reqs) {
            assert_well_formed(&d.tokens, r.target_bars);
            assert_eq!(d.start_bar, 0);
            total += 1;
        }
    }
    assert_eq!(total, 60 * n_samplers);
    assert_eq!(
        n_samplers,
        default_samplers().len() + 7,
        "every option: the default grid and the extra entries"
    );
}

#[test]
fn the_pitch_prior_keeps_pieces_in_their_scale_and_range() {
    // An untrained model scatters notes over every pitch; the prior holds each piece to the
    // scale and range of its notes so far. Same model, same seeds, 8-bar pieces, judged by a
    // plain reading of the tokens: the share of notes outside the piece's best major set, and
    // the semitones by which a note (after the first 8) lies beyond the range of the notes
    // before it, a note on average.
    let model = tiny(16, 3);
    let cached = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let judge = |prior: Option<PitchPrior>| -> (f64, f64) {
        let reqs: Vec<Request> = (0..24)
            .map(|i| Request {
                prompt: vec![remi::BOS],
                target_bars: 8,
                seed: 500 + i,
            })
            .collect();
        let s = SamplerConfig {
            pitch_prior: prior,
            ..SamplerConfig::new("s", 1.0, 0, 1.0)
        };
        let out = decode_batch(&cached, Grammar::new, &reqs, &opts(s, 800)).unwrap();
        let (mut off_scale, mut beyond, mut notes, mut later) = (0, 0, 0, 0);
        for d in &out {
            let pitches: Vec<u8> = d
                .tokens
                .iter()
                .filter_map(|&t| match Vocab::token(t) {
                    Some(remi::Token::Pitch(p)) => Some(p),
                    _ => None,
                })
                .collect();
            assert!(
                pitches.len() > 20,
                "too few notes to judge: {}",
                pitches.len()
            );
            let in_major =
                |root: u8, p: u8| [0, 2, 4, 5, 7, 9, 11].contains(&((p + 12 - root) % 12));
            let held = |root| pitches.iter().filter(|&&p| in_major(root, p)).count();
            let best = (0..12).max_by_key(|&r| held(r)).unwrap();
            off_scale += pitches.len() - held(best);
            notes += pitches.len();
            for i in 8..pitches.len() {
                let before = &pitches[..i];
                let (lo, hi) = (before.iter().min().unwrap(), before.iter().max().unwrap());
                beyond += lo
                    .saturating_sub(pitches[i])
                    .max(pitches[i].saturating_sub(*hi)) as usize;
                later += 1;
            }
        }
        (
            off_scale as f64 / notes as f64,
            beyond as f64 / later as f64,
        )
    };
    let (plain_off, plain_beyond) = judge(None);
    let prior = |out_of_scale, beyond_range| PitchPrior {
        out_of_scale,
        new_class: 0.0,
        beyond_range,
        after_notes: 8,
    };
    let (scale_off, scale_beyond) = judge(Some(prior(6.0, 0.0)));
    let (range_off, range_beyond) = judge(Some(prior(0.0, 2.0)));
    assert!(
        scale_off < 0.5 * plain_off && range_beyond < 0.6 * plain_beyond,
        "notes off the scale: plain {plain_off:.3}, scale prior {scale_off:.3}; \
         semitones beyond the range so far: plain {plain_beyond:.3}, range prior {range_beyond:.3}"
    );
    // Each term leaves the other measure roughly where it was.
    assert!(
        range_off > 0.7 * plain_off && scale_beyond > 0.7 * plain_beyond,
        "off-scale with the range prior {range_off:.3}, beyond with the scale prior {scale_beyond:.3}"
    );
}

#[test]
fn cached_decoding_equals_naive_recompute() {
    // mem_len 256 > every sequence here, so the memory holds the whole context.
    let model = tiny(256, 2);
    let cached = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let xl = MemoryDecoder::new(&model).unwrap();
    let naive = NaiveDecoder::new(&model);
    let prompt = cut_bars(
        &remi::encode(&demo_song(4)).unwrap().tokens,
        2,
        remi_specials(),
    );
    let reqs: Vec<Request> = (0..4u64)
        .map(|i| Request {
            prompt: if i % 2 == 0 {
                vec![remi::BOS]
            } else {
                prompt.clone()
            },
            target_bars: 5 + (i % 2) as u32 * 2,
            seed: 77 + i,
        })
        .collect();
    // The cached decoder takes the prompts in segments of 16 (tiny's tgt_len), the others in
    // one forward: with the whole context in memory, all three are one pass.
    let o = opts(SamplerConfig::new("t", 1.0, 0, 1.0), 120);
    let a = decode_batch(&cached, Grammar::new, &reqs, &o).unwrap();
    let b = decode_batch(&naive, Grammar::new, &reqs, &o).unwrap();
    let c = decode_batch(&xl, Grammar::new, &reqs, &o).unwrap();
    for (x, y) in a.iter().zip(&c) {
        assert_eq!(x.tokens, y.tokens, "XL-memory decoding");
        assert!((x.log_prob - y.log_prob).abs() < 1e-4 * x.log_prob.abs());
    }
    assert!(
        a.iter().any(|d| d.tokens.len() > 100),
        "long enough to exercise the memory"
    );
    assert!(prompt.len() > 2 * 16, "the prompt spans several segments");
    for (x, y) in a.iter().zip(&b) {
        assert!(x.tokens.len() <= 257, "within mem_len + 1");
        assert_eq!(x.tokens, y.tokens);
    }
}

/// A song of `bars` bars: a rising line of eighth notes plus a bass note per beat, at 96 BPM.
pub fn demo_song(bars: u32) -> Song {
    let mut notes = Vec::new();
    for bar in 0..bars {
        for e in 0..8u32 {
            let start = bar * 1920 + e * 240;
            notes.push(Note {
                start,
                end: start + 200,
                pitch: 60 + ((bar * 3 + e) % 12) as u8,
                velocity: 70 + e as u8 * 4,
            });
        }
        for beat in 0..4u32 {
            let start = bar * 1920 + beat * 480 + 7; // slightly late: quantised to the beat
            notes.push(Note {
                start,
                end: start + 400,
                pitch: 40 + (bar % 5) as u8,
                velocity: 60,
            });
        }
    }
    notes.sort();
    Song {
        notes,
        tempos: vec![Tempo { tick: 0, bpm: 96.0 }],
        ..Song::default()
    }
}

fn plan_cfg(bars: u32) -> GenerateConfig {
    GenerateConfig {
        unconditional_bars: bars,
        continuation_bars: 2,
        max_tokens: 200,
        batch_size: 3,
        ..Default::default()
    }
}

#[test]
fn same_seed_same_midi_bytes_and_pieces_differ() {
    let model = tiny(16, 3);
    let cached = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let gcfg = plan_cfg(3);
    let s = SamplerConfig::new("t1.0_k40", 1.0, 40, 1.0);
    let plan = PartitionPlan {
        task: Task::Unconditional,
        sampler: &s,
        n: 5,
        prompts: &[],
        run_seed: 11,
    };
    let a = generate_pieces(&cached, &gcfg, &plan).unwrap();
    let b = generate_pieces(&cached, &gcfg, &plan).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            cadenza::midi::write_bytes(&x.song),
            cadenza::midi::write_bytes(&y.song)
        );
        assert_eq!(x.row, y.row);
        assert_eq!(x.row.n_bars, 3);
    }
    for i in 0..a.len() {
        for j in i + 1..a.len() {
            assert_ne!(a[i].row.seed, a[j].row.seed);
            assert_ne!(a[i].row.tokens, a[j].row.tokens, "pieces {i} and {j}");
        }
    }
    // Another run seed gives other pieces.
    let other = PartitionPlan {
        run_seed: 12,
        ..plan.clone()
    };
    assert_ne!(
        generate_pieces(&cached, &gcfg, &other).unwrap()[0]
            .row
            .tokens,
        a[0].row.tokens
    );
}

#[test]
fn continuation_keeps_the_prompt_bars() {
    // The path the default config takes: a full 8-bar prompt, the default token budget, every
    // default sampler (a small budget would force a Bar at once and hide a prompt overrun).
    let model = tiny(16, 4);
    let cached = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let song = demo_song(10);
    let enc = remi::encode(&song).unwrap();
    let prompt = Prompt {
        source: "demo".into(),
        tokens: cut_bars(&enc.tokens, 8, remi_specials()),
        real: enc.tokens.clone(),
    };
    let gcfg = GenerateConfig {
        continuation_bars: 2,
        batch_size: 4,
        ..Default::default()
    };
    assert!(prompt.tokens.len() < gcfg.max_tokens);
    // The prompt's quantised notes: the original song's notes of bars 0..8, onsets on the grid.
    let want: Vec<(u32, u8)> = song
        .notes
        .iter()
        .filter(|n| onset_step(n.start) < 8 * 16)
        .map(|n| (onset_step(n.start), n.pitch))
        .collect();
    assert_eq!(want.len(), 8 * 12);
    for s in default_samplers() {
        let plan = PartitionPlan {
            task: Task::Continuation,
            sampler: &s,
            n: 4,
            prompts: std::slice::from_ref(&prompt),
            run_seed: 5,
        };
        let pieces = generate_pieces(&cached, &gcfg, &plan).unwrap();
        for p in &pieces {
            assert_eq!(p.row.start_bar, 8);
            assert_eq!(p.row.n_bars, 10);
            assert_eq!(p.row.prompt_source.as_deref(), Some("demo"));
            assert_eq!(&p.row.tokens[..prompt.tokens.len()], &prompt.tokens[..]);
            // Nothing generated lands in the prompt's bars: a Bar follows the prompt at once.
            assert_eq!(p.row.tokens[prompt.tokens.len()], BAR, "{}", s.name);
            assert_well_formed(&p.row.tokens, 10);
            let back = cadenza::midi::read_bytes(&cadenza::midi::write_bytes(&p.song)).unwrap();
            let mut got: Vec<(u32, u8)> = back
                .notes
                .iter()
                .filter(|n| onset_step(n.start) < 8 * 16)
                .map(|n| (onset_step(n.start), n.pitch))
                .collect();
            got.sort();
            let mut w = want.clone();
            w.sort();
            assert_eq!(got, w, "{}: the first 8 bars equal the prompt", s.name);
        }
    }
}
