//! The MIDI reader on files built byte by byte here: every case is either read with the
//! asserted notes or rejected with its reason code.

use crate::support::note;
use crate::support::smf::{file, marker, off, on, tempo, time_sig, track, with_meters};
use cadenza::midi::{self, MidiError};
use cadenza::rng::Rng;

/// A small valid type-1 file at 480 tpb.
fn valid_file() -> Vec<u8> {
    let conductor = track(&[
        (0, time_sig(4, 2)),
        (0, tempo(500_000)),
        (0, marker("C_M_C")),
    ]);
    let piano = track(&[
        (0, on(0, 60, 80)),
        (480, off(0, 60)),
        (0, on(0, 64, 70)),
        (240, on(0, 64, 0)),
    ]);
    file(1, 480, &[conductor, piano])
}

fn reject_code(bytes: &[u8]) -> &'static str {
    match midi::read_bytes(bytes) {
        Ok(song) => panic!("expected a rejection, read {} notes", song.notes.len()),
        Err(e) => e.code(),
    }
}

// ---- accepted files -------------------------------------------------------------------------

#[test]
fn valid_type1_file_reads_notes_tempo_and_chord() {
    let song = midi::read_bytes(&valid_file()).unwrap();
    assert_eq!(
        song.notes,
        vec![note(0, 480, 60, 80), note(480, 720, 64, 70)]
    );
    assert_eq!(song.tempos.len(), 1);
    assert_eq!(song.tempos[0].tick, 0);
    assert!((song.tempos[0].bpm - 120.0).abs() < 1e-9);
    assert_eq!(song.chords.len(), 1);
    assert_eq!(song.chords[0].text, "C_M_C");
    assert_eq!(song.global_bpm, None);
}

#[test]
fn ticks_per_beat_96_rescales_with_floor() {
    // 96 tpb: x480/96 = x5. Tick 25 -> 125, tick 97 -> 485, tick 191 -> 955.
    let t = track(&[
        (0, on(0, 60, 90)),
        (25, off(0, 60)),
        (72, on(0, 62, 90)),
        (94, off(0, 62)),
    ]);
    let song = midi::read_bytes(&file(0, 96, &[t])).unwrap();
    assert_eq!(
        song.notes,
        vec![note(0, 125, 60, 90), note(485, 955, 62, 90)]
    );

    // 7 tpb: not a divisor of 480, floor(tick * 480 / 7).
    let t = track(&[(3, on(0, 60, 90)), (4, off(0, 60))]);
    let song = midi::read_bytes(&file(0, 7, &[t])).unwrap();
    assert_eq!(song.notes, vec![note(3 * 480 / 7, 7 * 480 / 7, 60, 90)]);
}

#[test]
fn type0_file_with_everything_in_one_track() {
    let t = track(&[
        (0, time_sig(4, 2)),
        (0, marker("global_bpm_93")),
        (0, tempo(600_000)),
        (0, marker("A_m7_A")),
        (0, on(0, 57, 64)),
        (0, on(1, 45, 50)),
        (960, off(0, 57)),
        (0, marker("N_N_N")),
        (0, marker("not a chord")),
        (480, off(1, 45)),
    ]);
    let song = midi::read_bytes(&file(0, 480, &[t])).unwrap();
    assert_eq!(
        song.notes,
        vec![note(0, 1440, 45, 50), note(0, 960, 57, 64)]
    );
    assert_eq!(song.global_bpm, Some(93.0));
    assert!((song.tempos[0].bpm - 100.0).abs() < 1e-9);
    let chords: Vec<(u32, &str)> = song
        .chords
        .iter()
        .map(|m| (m.tick, m.text.as_str()))
        .collect();
    assert_eq!(chords, vec![(0, "A_m7_A"), (960, "N_N_N")]);
}

#[test]
fn running_status_is_understood() {
    // One 0x90 status, then data bytes only; velocity-0 note-ons end the notes.
    let t = track(&[
        (0, vec![0x90, 60, 100]),
        (0, vec![64, 90]),
        (120, vec![60, 0]),
        (120, vec![64, 0]),
        (0, vec![0xC0, 5]), // program change, then running status with a new status byte
        (0, vec![0x90, 67, 80]),
        (240, vec![67, 0]),
    ]);
    let song = midi::read_bytes(&file(0, 480, &[t])).unwrap();
    assert_eq!(
        song.notes,
        vec![
            note(0, 120, 60, 100),
            note(0, 240, 64, 90),
            note(240, 480, 67, 80)
        ]
    );
}

#[test]
fn overlapping_same_pitch_notes_pair_fifo_and_open_notes_close_at_track_end() {
    let t = track(&[
        (0, on(0, 60, 100)),
        (100, on(0, 60, 50)),
        (100, off(0, 60)), // closes the first (earliest) note at 200
        (100, off(0, 60)), // closes the second at 300
        (0, off(0, 60)),   // nothing open: ignored
        (0, on(0, 72, 40)),
        (500, vec![0xB0, 64, 0]), // controller; the 72 is never closed -> ends at track end 800
    ]);
    let song = midi::read_bytes(&file(1, 480, &[t])).unwrap();
    assert_eq!(
        song.notes,
        vec![
            note(0, 200, 60, 100),
            note(100, 300, 60, 50),
            note(300, 800, 72, 40)
        ]
    );
}

#[test]
fn same_pitch_on_two_channels_and_tracks_are_separate_and_drums_are_ignored() {
    let a = track(&[
        (0, on(0, 60, 100)),
        (0, on(9, 36, 100)),
        (480, off(0, 60)),
        (0, off(9, 36)),
    ]);
    let b = track(&[(240, on(3, 60, 70)), (480, off(3, 60))]);
    let song = midi::read_bytes(&file(1, 480, &[a, b])).unwrap();
    assert_eq!(
        song.notes,
        vec![note(0, 480, 60, 100), note(240, 720, 60, 70)]
    );
}

#[test]
fn zero_length_notes_are_dropped() {
    let t = track(&[
        (0, on(0, 60, 100)),
        (0, off(0, 60)),
        (0, on(0, 62, 100)),
        (10, off(0, 62)),
    ]);
    let song = midi::read_bytes(&file(0, 480, &[t])).unwrap();
    assert_eq!(song.notes, vec![note(0, 10, 62, 100)]);
}

#[test]
fn non_ascii_path_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Ünïcødé 歌 – song.mid");
    std::fs::write(&path, valid_file()).unwrap();
    let song = midi::read_file(&path).unwrap();
    assert_eq!(song.notes.len(), 2);
}

// ---- rejected files -------------------------------------------------------------------------

#[test]
fn empty_file_is_malformed() {
    assert_eq!(reject_code(&[]), "malformed");
}

#[test]
fn random_bytes_are_malformed_never_a_panic() {
    let mut rng = Rng::new(11);
    for len in [1usize, 3, 14, 100, 5000] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        assert_eq!(reject_code(&bytes), "malformed");
        // Random bytes behind a valid-looking header: rejected (any reason) or read, no panic.
        let mut with_header = valid_file()[..14].to_vec();
        with_header.extend(&bytes);
        let _ = midi::read_bytes(&with_header);
    }
}

#[test]
fn truncated_files_are_malformed_at_every_cut() {
    let full = valid_file();
    for cut in 1..full.len() {
        let code = reject_code(&full[..cut]);
        assert_eq!(code, "malformed", "cut at {cut}");
    }
}

#[test]
fn chunk_length_past_the_end_is_malformed() {
    let mut bytes = valid_file();
    // The first MTrk's length field sits right after the 14-byte header and "MTrk".
    let len = u32::from_be_bytes(bytes[18..22].try_into().unwrap());
    bytes[18..22].copy_from_slice(&(len + 1000).to_be_bytes());
    match midi::read_bytes(&bytes) {
        Err(MidiError::Malformed(msg)) => assert!(msg.contains("remain"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn zero_tracks_is_malformed() {
    assert_eq!(reject_code(&file(1, 480, &[])), "malformed");
}

#[test]
fn broken_event_is_malformed() {
    // A data byte where a status byte is needed (no running status yet).
    let t = track(&[(0, vec![0x3C, 0x40])]);
    assert_eq!(reject_code(&file(0, 480, &[t])), "malformed");
}

#[test]
fn no_notes_is_rejected() {
    let conductor = track(&[(0, tempo(500_000)), (0, marker("C_M_C"))]);
    assert_eq!(reject_code(&file(1, 480, &[conductor])), "no_notes");
    // Drum notes only: still no notes.
    let drums = track(&[(0, on(9, 36, 100)), (120, off(9, 36))]);
    assert_eq!(reject_code(&file(0, 480, &[drums])), "no_notes");
}

#[test]
fn smpte_division_is_rejected() {
    let t = track(&[(0, on(0, 60, 100)), (40, off(0, 60))]);
    // -25 fps, 40 ticks per frame.
    let division = ((-25i8 as u8 as u16) << 8) | 40;
    assert_eq!(reject_code(&file(0, division, &[t])), "smpte_division");
}

#[test]
fn one_four_and_two_four_on_the_four_beat_grid_are_re_barred_into_four_four() {
    let plain = midi::read_bytes(&with_meters(&[(0, 4, 2)])).unwrap();
    assert!(!plain.rebarred());
    let cases: [(&[(u32, u8, u8)], &str); 4] = [
        (&[(0, 2, 2)], "2/4@0"),
        (&[(0, 1, 2), (1920, 4, 2)], "1/4@0 4/4@1920"),
        (
            &[(0, 4, 2), (3840, 2, 2), (5760, 4, 2)],
            "4/4@0 2/4@3840 4/4@5760",
        ),
        // Re-declared every 2/4 bar: one meter, declared once.
        (
            &[(0, 2, 2), (960, 2, 2), (1920, 2, 2), (2880, 2, 2)],
            "2/4@0",
        ),
    ];
    for (meters, declared) in cases {
        let song = midi::read_bytes(&with_meters(meters)).unwrap();
        assert_eq!(
            song.notes, plain.notes,
            "{declared}: the notes are unchanged"
        );
        let got: Vec<String> = song.meters.iter().map(|m| m.to_string()).collect();
        assert_eq!(got.join(" "), declared);
        assert_eq!(song.rebarred(), declared != "4/4@0");
    }
}

#[test]
fn other_meters_and_changes_off_the_grid_are_rejected_with_meter_and_tick() {
    let cases: [(&[(u32, u8, u8)], MidiError); 4] = [
        (&[(0, 3, 2)], MidiError::TimeSignature(3, 4, 0)),
        (&[(0, 6, 3)], MidiError::TimeSignature(6, 8, 0)),
        // A single 2/4 bar after two 4/4 bars moves every later downbeat by two beats.
        (
            &[(0, 4, 2), (3840, 2, 2), (4800, 4, 2)],
            MidiError::MeterOffGrid(4, 4, 4800),
        ),
        // 2/4 from beat 2: its first bar line is off the grid.
        (&[(960, 2, 2)], MidiError::MeterOffGrid(2, 4, 960)),
    ];
    for (meters, expected) in cases {
        let err = midi::read_bytes(&with_meters(meters)).unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(err.code(), "time_signature");
        let text = err.to_string();
        let (n, d, tick) = match expected {
            MidiError::TimeSignature(n, d, t) | MidiError::MeterOffGrid(n, d, t) => (n, d, t),
            _ => unreachable!(),
        };
        assert!(text.contains(&format!("{n}/{d} at tick {tick}")), "{text}");
    }
}

#[test]
fn three_four_time_is_rejected_anywhere_in_the_file() {
    let t = track(&[(0, time_sig(3, 2)), (0, on(0, 60, 100)), (480, off(0, 60))]);
    assert_eq!(reject_code(&file(0, 480, &[t])), "time_signature");
    let late = track(&[
        (0, time_sig(4, 2)),
        (0, on(0, 60, 100)),
        (480, off(0, 60)),
        (1920, time_sig(6, 3)),
    ]);
    match midi::read_bytes(&file(0, 480, &[late])) {
        Err(MidiError::TimeSignature(6, 8, 2400)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn text_file_named_mid_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.mid");
    std::fs::write(&path, "This is not MIDI, just a text file.\n").unwrap();
    assert_eq!(midi::read_file(&path).unwrap_err().code(), "malformed");
    assert_eq!(
        midi::read_file(&dir.path().join("missing.mid"))
            .unwrap_err()
            .code(),
        "io"
    );
}
