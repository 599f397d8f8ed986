//! The metric definitions on note lists: hand-made cases with values worked out by hand, and
//! agreement with a plain brute-force implementation of the definitions in docs/design.md on random pieces.

use cadenza::metrics::score::{gs, h_w, piece_metrics};
use cadenza::midi::Note;
use cadenza::rng::Rng;

use super::brute::{self, random_notes};

const BAR: u32 = 1920; // ticks per 4/4 bar at 480 tpb
const STEP: u32 = 120; // a 16th note

fn note(bar: u32, pos: u32, pitch: u8) -> Note {
    let start = bar * BAR + pos * STEP;
    Note {
        start,
        end: start + 240,
        pitch,
        velocity: 80,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-12
}

#[test]
fn twelve_pitch_classes_once_give_log2_12() {
    let notes: Vec<Note> = (0..12).map(|i| note(0, i % 16, 60 + i as u8)).collect();
    let m = piece_metrics(&notes);
    assert!(close(m.h1, 12f64.log2()), "{}", m.h1);
    // One bar < 4: the whole piece is the only H4 window.
    assert!(close(m.h4, 12f64.log2()), "{}", m.h4);
    assert_eq!(m.n_bars, 1);
    assert!(
        m.gs.is_nan(),
        "a one-bar piece has no pair of bars: GS is NaN"
    );
}

#[test]
fn one_repeated_pitch_has_zero_entropy() {
    let notes: Vec<Note> = (0..20).map(|i| note(i / 4, (i % 4) * 4, 67)).collect();
    let m = piece_metrics(&notes);
    assert_eq!(m.h1, 0.0);
    assert_eq!(m.h4, 0.0);
    // Same pitch class in other octaves is the same class.
    let octaves: Vec<Note> = [43u8, 55, 67, 79].iter().map(|&p| note(0, 0, p)).collect();
    assert_eq!(h_w(&octaves, 1), 0.0);
}

#[test]
fn two_identical_bars_have_gs_one_and_complements_gs_zero() {
    let pattern = [0u32, 3, 6, 8, 12];
    let same: Vec<Note> = (0..2)
        .flat_map(|b| pattern.iter().map(move |&p| note(b, p, 60)))
        .collect();
    assert_eq!(gs(&same), 1.0);

    let evens: Vec<Note> = (0..16).step_by(2).map(|p| note(0, p, 60)).collect();
    let odds: Vec<Note> = (1..16).step_by(2).map(|p| note(1, p, 64)).collect();
    let both: Vec<Note> = evens.into_iter().chain(odds).collect();
    assert_eq!(gs(&both), 0.0);
}

#[test]
fn three_bar_piece_uses_the_whole_piece_for_h4() {
    // C in bar 0, D in bar 1, E twice in bar 2: histogram {1, 1, 2} -> 1.5 bits.
    let notes = vec![
        note(0, 0, 60),
        note(1, 0, 62),
        note(2, 0, 64),
        note(2, 8, 76),
    ];
    let m = piece_metrics(&notes);
    assert!(close(m.h4, 1.5), "{}", m.h4);
    assert_eq!(m.h1, 0.0, "each bar holds one pitch class");
}

#[test]
fn windows_without_notes_are_skipped() {
    // Bar 0: C and D (1 bit); bars 1..=4 empty; bar 5: C (0 bits).
    let notes = vec![note(0, 0, 60), note(0, 4, 62), note(5, 0, 48)];
    let m = piece_metrics(&notes);
    assert_eq!(m.n_bars, 6);
    // H1: only bars 0 and 5 count -> (1 + 0) / 2.
    assert!(close(m.h1, 0.5), "{}", m.h1);
    // H4 windows start at 0, 1, 2: [0..4) = 1 bit, [1..5) empty (skipped), [2..6) = 0 bits.
    assert!(close(m.h4, 0.5), "{}", m.h4);
}

#[test]
fn empty_bars_count_in_gs_and_statistics() {
    // Bar 0 and 2 have an onset at position 0, bar 1 is empty.
    // Pairs: (0,1) differ in 1 position, (0,2) equal, (1,2) differ in 1 -> (15/16 + 1 + 15/16) / 3.
    let notes = vec![
        Note {
            start: 0,
            end: 480,
            pitch: 60,
            velocity: 100,
        },
        Note {
            start: 2 * BAR,
            end: 2 * BAR + 960,
            pitch: 72,
            velocity: 50,
        },
    ];
    let m = piece_metrics(&notes);
    assert!(close(m.gs, (15.0 / 16.0 * 2.0 + 1.0) / 3.0), "{}", m.gs);
    assert_eq!(m.n_bars, 3);
    assert_eq!(m.n_notes, 2);
    assert!(close(m.notes_per_bar, 2.0 / 3.0));
    assert_eq!(m.pitch_range, 12);
    assert!(close(m.mean_velocity, 75.0));
    assert!(close(m.mean_duration_beats, 1.5));
    assert!(close(m.empty_bar_share, 1.0 / 3.0));
}

#[test]
fn onsets_round_to_the_grid_with_halves_up() {
    // Tick 60 is half a 16th: rounds up to position 1. Tick 1860 is 15.5 steps: rounds up to
    // step 16, which is bar 1, position 0 (so the piece has 2 bars).
    let a = Note {
        start: 60,
        end: 200,
        pitch: 60,
        velocity: 80,
    };
    let b = Note {
        start: 1860,
        end: 2000,
        pitch: 60,
        velocity: 80,
    };
    let m = piece_metrics(&[a, b]);
    assert_eq!(m.n_bars, 2);
    // Bar 0 = {pos 1}, bar 1 = {pos 0}: one pair, 2 differing positions.
    assert!(close(m.gs, 1.0 - 2.0 / 16.0), "{}", m.gs);
    // Tick 59 rounds down to position 0.
    let c = Note {
        start: 59,
        end: 200,
        pitch: 60,
        velocity: 80,
    };
    let d = Note {
        start: BAR,
        end: BAR + 100,
        pitch: 60,
        velocity: 80,
    };
    assert_eq!(gs(&[c, d]), 1.0);
}

#[test]
fn no_notes_give_nan() {
    let m = piece_metrics(&[]);
    assert_eq!(m.n_bars, 0);
    assert!(m.h1.is_nan() && m.h4.is_nan() && m.gs.is_nan());
}

#[test]
fn agrees_with_brute_force_on_random_pieces() {
    let mut rng = Rng::new(20261127);
    for case in 0..400 {
        let notes = random_notes(&mut rng);
        let m = piece_metrics(&notes);
        for (got, want, what) in [
            (m.h1, brute::h(&notes, 1), "h1"),
            (m.h4, brute::h(&notes, 4), "h4"),
            (m.gs, brute::gs(&notes), "gs"),
        ] {
            assert!(
                close(got, want) || (got - want).abs() < 1e-9,
                "case {case} {what}: {got} vs {want}"
            );
        }
    }
}
