//! The feature definitions on hand-made pieces, with values worked out by hand.

use cadenza::features::Feature::*;
use cadenza::features::{Feature, Features, features, features_of_bars};
use cadenza::midi::Note;

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

fn gs(notes: &[Note]) -> f64 {
    features(notes)[Gs]
}

fn with(notes: &[Note], f: Feature) -> f64 {
    features(notes)[f]
}

#[test]
fn twelve_pitch_classes_once_give_log2_12() {
    let notes: Vec<Note> = (0..12).map(|i| note(0, i % 16, 60 + i as u8)).collect();
    let m = features(&notes);
    assert!(close(m[H1], 12f64.log2()), "{}", m[H1]);
    // One bar < 4: the whole piece is the only H4 window.
    assert!(close(m[H4], 12f64.log2()), "{}", m[H4]);
    assert_eq!(m[NBars], 1.0);
    assert!(
        m[Gs].is_nan(),
        "a one-bar piece has no pair of bars: GS is NaN"
    );
}

#[test]
fn one_repeated_pitch_has_zero_entropy() {
    let notes: Vec<Note> = (0..20).map(|i| note(i / 4, (i % 4) * 4, 67)).collect();
    let m = features(&notes);
    assert_eq!(m[H1], 0.0);
    assert_eq!(m[H4], 0.0);
    // Same pitch class in other octaves is the same class.
    let octaves: Vec<Note> = [43u8, 55, 67, 79].iter().map(|&p| note(0, 0, p)).collect();
    assert_eq!(with(&octaves, H1), 0.0);
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
    let m = features(&notes);
    assert!(close(m[H4], 1.5), "{}", m[H4]);
    assert_eq!(m[H1], 0.0, "each bar holds one pitch class");
}

#[test]
fn windows_without_notes_are_skipped() {
    // Bar 0: C and D (1 bit); bars 1..=4 empty; bar 5: C (0 bits).
    let notes = vec![note(0, 0, 60), note(0, 4, 62), note(5, 0, 48)];
    let m = features(&notes);
    assert_eq!(m[NBars], 6.0);
    // H1: only bars 0 and 5 count -> (1 + 0) / 2.
    assert!(close(m[H1], 0.5), "{}", m[H1]);
    // H4 windows start at 0, 1, 2: [0..4) = 1 bit, [1..5) empty (skipped), [2..6) = 0 bits.
    assert!(close(m[H4], 0.5), "{}", m[H4]);
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
    let m = features(&notes);
    assert!(close(m[Gs], (15.0 / 16.0 * 2.0 + 1.0) / 3.0), "{}", m[Gs]);
    assert_eq!(m[NBars], 3.0);
    assert_eq!(m[NNotes], 2.0);
    assert!(close(m[NotesPerBar], 2.0 / 3.0));
    assert_eq!(m[PitchRange], 12.0);
    assert!(close(m[MeanVelocity], 75.0));
    assert!(close(m[MeanDurationBeats], 1.5));
    assert!(close(m[EmptyBarShare], 1.0 / 3.0));
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
    let m = features(&[a, b]);
    assert_eq!(m[NBars], 2.0);
    // Bar 0 = {pos 1}, bar 1 = {pos 0}: one pair, 2 differing positions.
    assert!(close(m[Gs], 1.0 - 2.0 / 16.0), "{}", m[Gs]);
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
    let m = features(&[]);
    assert_eq!(m[NBars], 0.0);
    assert!(m[H1].is_nan() && m[H4].is_nan() && m[Gs].is_nan());
}

#[test]
fn a_c_major_scale_is_in_one_scale_with_seven_classes() {
    let notes: Vec<Note> = [60u8, 62, 64, 65, 67, 69, 71, 72]
        .iter()
        .enumerate()
        .map(|(i, &p)| note(0, 2 * i as u32, p))
        .collect();
    let m = features(&notes);
    assert_eq!(m[ScaleConsistency], 1.0);
    assert_eq!(m[NPitchClasses], 7.0);
    // Every neighbour is a step of 1 or 2 semitones: 2+2+1+2+2+2+1 = 12 over 7 jumps.
    assert!(close(m[MeanPitchJump], 12.0 / 7.0), "{}", m[MeanPitchJump]);
    // Onsets every 2 steps: half a beat apart.
    assert!(close(m[MeanIoi], 0.5), "{}", m[MeanIoi]);
    // C D E F G A B C: C twice, six classes once -> entropy of {2,1,1,1,1,1,1}/8.
    let want = -(2.0f64 / 8.0) * (2.0f64 / 8.0).log2() - 6.0 * (1.0 / 8.0) * (1.0f64 / 8.0).log2();
    assert!(close(m[PcEntropy], want), "{}", m[PcEntropy]);
    // A chromatic cluster fits at best 7 of 12 classes into one scale.
    let chromatic: Vec<Note> = (0..12).map(|i| note(0, i, 60 + i as u8)).collect();
    assert!(close(with(&chromatic, ScaleConsistency), 7.0 / 12.0));
    assert_eq!(with(&chromatic, NPitchClasses), 12.0);
}

/// A whole-note chord in each of `bars` bars.
fn whole_note_chords(bars: u32, chord: &[u8]) -> Vec<Note> {
    (0..bars)
        .flat_map(|b| {
            chord.iter().map(move |&p| Note {
                start: b * BAR,
                end: (b + 1) * BAR,
                pitch: p,
                velocity: 80,
            })
        })
        .collect()
}

#[test]
fn whole_note_chords_give_polyphony_of_the_chord_and_no_empty_beat() {
    for chord in [&[60u8][..], &[60, 64, 67], &[48, 60, 64, 67, 71]] {
        let m = features(&whole_note_chords(4, chord));
        assert_eq!(m[Polyphony], chord.len() as f64, "{chord:?}");
        assert_eq!(m[EmptyBeatRate], 0.0);
        // Identical bars: both groove measures are 1; onsets one bar (4 beats) apart.
        assert_eq!(m[GrooveConsistency], 1.0);
        assert_eq!(m[Gs], 1.0);
        assert_eq!(m[MeanIoi], 4.0);
    }
    // The same pitch twice at once counts once.
    let doubled = whole_note_chords(1, &[60, 60, 64]);
    assert_eq!(with(&doubled, Polyphony), 2.0);
}

#[test]
fn rests_make_empty_beats_and_lower_polyphony_only_where_notes_sound() {
    // Bar 0: a C for beat 1 only, then rests; bar 1: a C-E dyad for two beats.
    let notes = vec![
        Note {
            start: 0,
            end: 480,
            pitch: 60,
            velocity: 80,
        },
        Note {
            start: BAR,
            end: BAR + 960,
            pitch: 60,
            velocity: 80,
        },
        Note {
            start: BAR,
            end: BAR + 960,
            pitch: 64,
            velocity: 80,
        },
    ];
    let m = features(&notes);
    // 8 beats, 3 sounding (beat 0, beats 4 and 5).
    assert!(close(m[EmptyBeatRate], 5.0 / 8.0), "{}", m[EmptyBeatRate]);
    // Sounding steps: 4 with one pitch, 8 with two -> 20 / 12.
    assert!(close(m[Polyphony], 20.0 / 12.0), "{}", m[Polyphony]);
    // Onset vectors {0} and {0}: the same.
    assert_eq!(m[GrooveConsistency], 1.0);
    // A note shorter than a step still sounds on its onset step.
    let blip = [Note {
        start: 0,
        end: 10,
        pitch: 60,
        velocity: 80,
    }];
    assert_eq!(with(&blip, Polyphony), 1.0);
    assert!(close(with(&blip, EmptyBeatRate), 3.0 / 4.0));
}

#[test]
fn groove_consistency_compares_neighbours_only() {
    // Bars A B A: neighbours always differ, but bars 0 and 2 match (which GS counts).
    let a = [0u32, 4, 8, 12];
    let b = [2u32, 6, 10, 14];
    let notes: Vec<Note> = [&a, &b, &a]
        .iter()
        .enumerate()
        .flat_map(|(bar, pos)| pos.iter().map(move |&p| note(bar as u32, p, 60)))
        .collect();
    let m = features(&notes);
    assert_eq!(m[GrooveConsistency], 1.0 - 8.0 / 16.0);
    assert!(close(m[Gs], (0.5 + 0.5 + 1.0) / 3.0), "{}", m[Gs]);
}

#[test]
fn undefined_values_are_nan_and_counts_zero() {
    let none = features(&[]);
    for f in Feature::ALL {
        if f.is_count() {
            assert_eq!(none[f], 0.0, "{}", f.name());
        } else {
            assert!(none[f].is_nan(), "{} of no notes: {}", f.name(), none[f]);
        }
    }
    let one = features(&[note(0, 0, 60)]);
    assert!(
        one[GrooveConsistency].is_nan() && one[MeanIoi].is_nan() && one[MeanPitchJump].is_nan()
    );
    assert_eq!(one[Polyphony], 1.0);
}

#[test]
fn a_continuation_is_scored_from_its_start_bar_and_the_prompt_does_not_count() {
    let continuation: Vec<Note> = (0..4)
        .flat_map(|b| [note(b, 0, 60), note(b, 8, 67)])
        .collect();
    let shifted = |prompt: &[Note]| -> Features {
        let mut all = prompt.to_vec();
        all.extend(continuation.iter().map(|n| Note {
            start: n.start + 8 * BAR,
            end: n.end + 8 * BAR,
            ..*n
        }));
        features_of_bars(&all, 8, None)
    };
    let alone = features(&continuation);
    let quiet_prompt: Vec<Note> = (0..8).map(|b| note(b, 0, 40)).collect();
    let busy_prompt: Vec<Note> = (0..8)
        .flat_map(|b| (0..16).map(move |p| note(b, p, 50 + p as u8)))
        .collect();
    for prompt in [&[][..], &quiet_prompt, &busy_prompt] {
        let got = shifted(prompt);
        for f in Feature::ALL {
            assert!(
                close(got[f], alone[f]),
                "{}: {} vs {}",
                f.name(),
                got[f],
                alone[f]
            );
        }
    }
    // The whole piece is another matter: the busy prompt changes it.
    assert!(features(&busy_prompt)[H1] > alone[H1]);
}
