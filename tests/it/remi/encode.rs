//! The encoder on small hand-made songs, with the expected tokens written out by hand from
//! the spec (docs/design.md, "REMI tokens").

use crate::support::note;
use cadenza::midi::{Marker, Song, Tempo};
use cadenza::remi::{self, Vocab};

fn names(tokens: &[u16]) -> Vec<String> {
    tokens.iter().map(|&t| Vocab::name(t)).collect()
}

#[test]
fn tokens_follow_the_spec() {
    let song = Song {
        notes: vec![
            note(0, 480, 64, 81),       // step 0, dur 8, vel 20
            note(5, 245, 60, 80),       // step 0, dur 4
            note(59, 120, 67, 40),      // step 0 (59 < 60), dur 61 ticks -> 1
            note(1890, 1950, 72, 100),  // step round(15.75) = 16: next bar, position 0
            note(1880, 1900, 20, 100),  // pitch 20: dropped
            note(5820, 15000, 48, 127), // step 48.5 -> 49 (halves up): bar 3, position 1; dur clamps to 64
            note(5830, 5900, 48, 10),   // same (step, pitch), shorter: dropped
        ],
        tempos: vec![
            Tempo {
                tick: 0,
                bpm: 119.0,
            }, // bin 120
            Tempo {
                tick: 480,
                bpm: 121.5,
            }, // still 120: nothing
            Tempo {
                tick: 1920,
                bpm: 2000.0,
            }, // clamped to 224, at bar 1 position 0
            Tempo {
                tick: 2400,
                bpm: 5.0,
            }, // 32, at bar 1 position 4: a position of its own
        ],
        chords: vec![
            Marker {
                tick: 0,
                text: "N_N_N".into(),
            },
            Marker {
                tick: 960,
                text: "N_N_N".into(),
            }, // unchanged: nothing
            Marker {
                tick: 1920,
                text: "A_M7_A".into(),
            },
            Marker {
                tick: 3840,
                text: "bogus_x_y".into(),
            }, // not a chord: ignored
            Marker {
                tick: 99_999,
                text: "C_M_C".into(),
            }, // after the last bar: dropped
        ],
        global_bpm: Some(120.0),
        meters: vec![],
    };
    let enc = remi::encode(&song).unwrap();
    let expected = [
        "Bos",
        "Bar",
        "Position_0",
        "Chord_N",
        "Tempo_120",
        "Pitch_60",
        "Velocity_20",
        "Duration_4",
        "Pitch_64",
        "Velocity_20",
        "Duration_8",
        "Pitch_67",
        "Velocity_10",
        "Duration_1",
        "Bar",
        "Position_0",
        "Chord_A_M7",
        "Tempo_224",
        "Pitch_72",
        "Velocity_25",
        "Duration_1",
        "Position_4",
        "Tempo_32",
        "Bar",
        "Bar",
        "Position_1",
        "Pitch_48",
        "Velocity_31",
        "Duration_64",
        "Eos",
    ];
    assert_eq!(names(&enc.tokens), expected);
    assert_eq!(enc.n_bars, 4);
    assert_eq!(enc.n_notes, 5);
    remi::validate(&enc.tokens).unwrap();
}

#[test]
fn a_song_without_encodable_notes_is_an_error() {
    let song = Song {
        notes: vec![note(0, 100, 10, 80), note(0, 100, 120, 80)],
        ..Song::default()
    };
    assert!(remi::encode(&song).is_err());
}

#[test]
fn leading_empty_bars_are_kept() {
    let song = Song {
        notes: vec![note(2 * 1920 + 480, 2 * 1920 + 960, 60, 64)],
        ..Song::default()
    };
    let enc = remi::encode(&song).unwrap();
    assert_eq!(
        names(&enc.tokens),
        [
            "Bos",
            "Bar",
            "Bar",
            "Bar",
            "Position_4",
            "Pitch_60",
            "Velocity_16",
            "Duration_8",
            "Eos"
        ]
    );
    assert_eq!(enc.n_bars, 3);
}
