//! The summary's statistics: bootstrap intervals that cover as they claim, the overlapping area
//! against a direct integral, a seeded summary that is the same byte for byte, and
//! continuations judged on their own bars against the real continuations.

use crate::features::brute::random_notes;
use cadenza::features::{Feature, features};
use cadenza::metrics::ScopeBars;
use cadenza::metrics::pieces::{Group, PieceJob, Scope, ScoredPiece, score_job};
use cadenza::metrics::stats::{
    bootstrap_means, kde, overlap_area, percentile_interval, scott_bandwidth,
};
use cadenza::metrics::summary::compared_features;
use cadenza::metrics::summary_frame::summary_frame;
use cadenza::metrics::{SummaryOptions, summarize};
use cadenza::midi::{Note, Song, write_bytes};
use cadenza::rng::Rng;

fn interval(v: &[f64], seed: u64) -> (f64, f64) {
    let boot = bootstrap_means(v, 2000, &mut Rng::new(seed));
    percentile_interval(boot, 0.95).unwrap()
}

#[test]
fn the_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time() {
    // 500 samples of 40 draws from U(0, 1), true mean 0.5.
    let mut data = Rng::new(11);
    let mut covered = 0;
    for trial in 0..500u64 {
        let v: Vec<f64> = (0..40).map(|_| data.next_f64()).collect();
        let (lo, hi) = interval(&v, 1000 + trial);
        assert!(lo < hi);
        if lo <= 0.5 && 0.5 <= hi {
            covered += 1;
        }
    }
    let rate = covered as f64 / 500.0;
    assert!((0.90..=0.99).contains(&rate), "coverage {rate}");

    // The same seed gives the same interval; another seed another one.
    let v: Vec<f64> = (0..40).map(|_| data.next_f64()).collect();
    assert_eq!(interval(&v, 7), interval(&v, 7));
    assert_ne!(interval(&v, 7), interval(&v, 8));
}

/// ∫ min(f_a, f_b) by the midpoint rule on 200,000 points over a range far wider than
/// `overlap_area`'s (10 bandwidths beyond the data).
fn direct_overlap(a: &[f64], b: &[f64]) -> f64 {
    let (ha, hb) = (scott_bandwidth(a).unwrap(), scott_bandwidth(b).unwrap());
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min) - 10.0 * ha.max(hb);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 10.0 * ha.max(hb);
    let n = 200_000;
    let dx = (hi - lo) / n as f64;
    (0..n)
        .map(|k| {
            let x = lo + (k as f64 + 0.5) * dx;
            kde(a, ha, x).min(kde(b, hb, x)) * dx
        })
        .sum()
}

#[test]
fn overlap_is_one_for_the_same_set_zero_for_far_sets_and_matches_a_direct_integral() {
    let mut rng = Rng::new(5);
    let a: Vec<f64> = (0..30).map(|_| rng.next_f64() * 3.0).collect();
    let oa = overlap_area(&a, &a).unwrap();
    assert!((oa - 1.0).abs() < 1e-3, "identical sets: {oa}");

    let far: Vec<f64> = a.iter().map(|x| x + 100.0).collect();
    assert!(overlap_area(&a, &far).unwrap() < 1e-6);

    for shift in [0.3, 1.0, 2.0] {
        let b: Vec<f64> = (0..25).map(|_| rng.next_f64() * 2.0 + shift).collect();
        let (oa, direct) = (overlap_area(&a, &b).unwrap(), direct_overlap(&a, &b));
        assert!(
            (oa - direct).abs() < 1e-3,
            "shift {shift}: {oa} vs {direct}"
        );
        assert!(oa > 0.05 && oa < 0.95, "partly overlapping: {oa}");
    }
    // Fewer than two distinct values on either side: undefined.
    assert_eq!(overlap_area(&a, &[1.0, 1.0, 1.0]), None);
    assert_eq!(overlap_area(&[2.0], &a), None);
}

const BARS: ScopeBars = ScopeBars {
    excerpt: 32,
    continuation: 24,
};

fn scored(group: &Group, piece: usize, notes: &[Note]) -> ScoredPiece {
    ScoredPiece {
        group: group.clone(),
        piece: format!("{piece:03}"),
        file: format!("{piece:03}.mid"),
        scope: group.compared_scopes()[0],
        bars: Some(32),
        start_bar: None,
        prompt: None,
        metrics: Ok(features(notes)),
    }
}

#[test]
fn a_seeded_summary_is_the_same_byte_for_byte() {
    let mut rng = Rng::new(9);
    let mut rows = Vec::new();
    for group in [Group::reference(), Group::new("unconditional", "a")] {
        for i in 0..20 {
            rows.push(scored(&group, i, &random_notes(&mut rng)));
        }
    }
    let bytes = |seed: u64| {
        let opts = SummaryOptions {
            seed,
            resamples: 2000,
        };
        let mut df = summary_frame(&summarize(&rows, &opts)).unwrap();
        let mut out = Vec::new();
        polars::prelude::ParquetWriter::new(&mut out)
            .finish(&mut df)
            .unwrap();
        out
    };
    assert_eq!(bytes(1), bytes(1));
    assert_ne!(bytes(1), bytes(2), "the intervals come from the seed");
}

fn song(notes: Vec<Note>) -> Song {
    Song {
        notes,
        ..Song::default()
    }
}

#[test]
fn continuations_equal_to_the_real_ones_match_them_whatever_their_prompts() {
    const START: u32 = 8;
    let bar = cadenza::midi::BAR_TICKS;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(21);
    let (model, real) = (Group::new("continuation", "a"), Group::real_continuation());
    let mut rows = Vec::new();
    for i in 0..20 {
        // The real song: random bars 0..7 (the prompt) then random bars 8..; the model's piece
        // has other prompt bars but the same bars from START on.
        let shifted = |notes: Vec<Note>, by: u32| -> Vec<Note> {
            notes
                .into_iter()
                .map(|n| Note {
                    start: n.start + by,
                    end: n.end + by,
                    ..n
                })
                .collect()
        };
        let tail = shifted(random_notes(&mut rng), START * bar);
        // Prompt notes whose onset rounds to a step before bar START (half steps round up).
        let prompt = |rng: &mut Rng| -> Vec<Note> {
            random_notes(rng)
                .into_iter()
                .filter(|n| n.start + cadenza::midi::TPB / 8 < START * bar)
                .map(|n| Note {
                    end: n.end.min(START * bar),
                    ..n
                })
                .collect()
        };
        for (group, head) in [(&real, prompt(&mut rng)), (&model, prompt(&mut rng))] {
            let notes: Vec<Note> = head.into_iter().chain(tail.iter().copied()).collect();
            let path = dir.path().join(format!("{}-{i:03}.mid", group.sampler));
            std::fs::write(&path, write_bytes(&song(notes))).unwrap();
            let job = PieceJob {
                group: group.clone(),
                piece: format!("{i:03}"),
                path,
                start_bar: Some(START),
                prompt: Some(format!("valid:song{i}")),
            };
            rows.extend(score_job(&job, BARS));
        }
    }
    // Whole pieces differ (their prompts do) ...
    let value = |g: &Group, scope: Scope, f: Feature| -> Vec<f64> {
        rows.iter()
            .filter(|r| &r.group == g && r.scope == scope)
            .map(|r| r.metrics.as_ref().unwrap()[f])
            .collect()
    };
    assert_ne!(
        value(&model, Scope::Piece, Feature::H1),
        value(&real, Scope::Piece, Feature::H1)
    );
    // ... their continuations do not.
    for f in Feature::ALL {
        let (m, r) = (
            value(&model, Scope::Continuation, f),
            value(&real, Scope::Continuation, f),
        );
        assert_eq!(format!("{m:?}"), format!("{r:?}"), "{}", f.name());
    }
    let summary = summarize(
        &rows,
        &SummaryOptions {
            seed: 4,
            resamples: 500,
        },
    );
    let row = summary.iter().find(|r| r.group == model).unwrap();
    assert_eq!((row.scope, &row.reference), (Scope::Continuation, &real));
    assert_eq!(row.bars, Some(24));
    // Paired by prompt: every draw takes the same continuations on both sides.
    assert!(row.paired);
    assert_eq!(row.distance_ci, Some((0.0, 0.0)));
    let mut with_oa = 0;
    for f in compared_features() {
        let m = row.metric(f).unwrap();
        if m.n == 0 {
            continue;
        }
        assert_eq!(m.delta, Some(0.0), "{}", f.name());
        assert_eq!(m.differs(), Some(false), "{}", f.name());
        if let Some(oa) = m.oa {
            // Identical sets: 1 less the kernels' mass beyond 3 bandwidths of the extremes.
            assert!((oa - 1.0).abs() < 3e-3, "{}: oa {oa}", f.name());
            with_oa += 1;
        }
    }
    assert!(with_oa >= 10, "most metrics have an overlap: {with_oa}");
    assert_eq!(row.distance, Some(0.0));
}
