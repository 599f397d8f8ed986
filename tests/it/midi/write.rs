//! The MIDI writer: what it writes reads back as the same Song; and the reader on corrupted
//! copies of a written file never panics.

use crate::support::note;
use cadenza::midi::{self, Song};
use cadenza::rng::Rng;

#[test]
fn written_song_reads_back_the_same() {
    let song = Song {
        notes: vec![
            note(0, 3840, 60, 80), // holds while two more 60s start: nested and crossing
            note(0, 480, 64, 70),
            note(480, 600, 60, 90),
            note(960, 4000, 60, 20),
            note(4000, 4100, 60, 21), // starts exactly where the previous 60 ends
            note(5000, 5001, 108, 127),
        ],
        tempos: vec![
            cadenza::midi::Tempo {
                tick: 0,
                bpm: 60_000_000.0 / 500_000.0,
            },
            cadenza::midi::Tempo {
                tick: 1920,
                bpm: 60_000_000.0 / 652_174.0,
            },
        ],
        chords: vec![
            cadenza::midi::Marker {
                tick: 0,
                text: "A_M7_A".into(),
            },
            cadenza::midi::Marker {
                tick: 1920,
                text: "D_/o7_C#".into(),
            },
        ],
        global_bpm: Some(87.5),
        meters: vec![],
    };
    let mut expected = song.clone();
    expected
        .notes
        .sort_by_key(|n| (n.start, n.pitch, n.end, n.velocity));
    // The writer declares 4/4.
    expected.meters = vec![cadenza::midi::Meter {
        tick: 0,
        numerator: 4,
        denominator: 4,
    }];
    let back = midi::read_bytes(&midi::write_bytes(&song)).unwrap();
    assert_eq!(back, expected);
}

#[test]
fn corrupted_files_never_panic() {
    // A real-sized file (a demo song), with bytes overwritten at random places: each read
    // returns Ok or Err, and an Ok song still has notes with end > start.
    let original = midi::write_bytes(&cadenza::demo::demo_song(5));
    let mut rng = Rng::new(99);
    let mut rejected = 0;
    for _ in 0..400 {
        let mut bytes = original.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len() as u64) as usize;
            bytes[i] = rng.below(256) as u8;
        }
        match midi::read_bytes(&bytes) {
            Ok(song) => assert!(song.notes.iter().all(|n| n.end > n.start)),
            Err(_) => rejected += 1,
        }
    }
    // Most single-byte changes land in note data and still read; some must break the file.
    assert!(rejected > 0);
}
