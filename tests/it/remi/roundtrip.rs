//! Round trip on the whole Pop1K7 corpus (without it, a listed skip, and the demo corpus):
//! encode -> decode -> write -> re-read -> encode gives the same tokens, the decoded notes
//! equal the quantised originals, and every encoded sequence is grammatical.

use cadenza::demo::demo_song;
use cadenza::midi::{self, Song};
use cadenza::remi::{self, QuantNote, STEPS_PER_BAR};
use cadenza::rng::Rng;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn midi_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            midi_files(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
        {
            out.push(path);
        }
    }
}

/// The notes the encoder should keep, derived here independently of `remi::quantise`:
/// onset step round-half-up, pitch in 21..108, velocity / 4, duration round(ticks / 60) in
/// 1..64, and per (step, pitch) the longest, then loudest.
fn expected_notes(song: &Song) -> Vec<QuantNote> {
    let mut best: std::collections::BTreeMap<(u32, u8), (u8, u8)> = Default::default();
    for n in &song.notes {
        if !(21..=108).contains(&n.pitch) {
            continue;
        }
        let step = (n.start + 60) / 120;
        let dur = (((n.end - n.start) as f64 / 60.0 + 0.5).floor() as i64).clamp(1, 64) as u8;
        let vel = n.velocity / 4;
        let e = best.entry((step, n.pitch)).or_insert((dur, vel));
        if (dur, vel) > *e {
            *e = (dur, vel);
        }
    }
    best.into_iter()
        .map(|((step, pitch), (duration_bin, velocity_bin))| QuantNote {
            step,
            pitch,
            velocity_bin,
            duration_bin,
        })
        .collect()
}

fn decoded_notes(song: &Song) -> Vec<QuantNote> {
    song.notes
        .iter()
        .map(|n| {
            assert_eq!(n.start % 120, 0, "decoded onsets sit on the grid");
            assert_eq!((n.end - n.start) % 60, 0);
            assert_eq!(n.velocity % 4, 2);
            QuantNote {
                step: n.start / 120,
                pitch: n.pitch,
                velocity_bin: n.velocity / 4,
                duration_bin: ((n.end - n.start) / 60) as u8,
            }
        })
        .collect()
}

/// Checks one song; returns (n_tokens, n_notes).
fn check_song(name: &str, song: &Song) -> (usize, usize) {
    let rewritten = midi::read_bytes(&midi::write_bytes(song))
        .unwrap_or_else(|e| panic!("{name}: rewrite: {e}"));
    assert_eq!(&rewritten, song, "{name}: write then read changes the song");
    let enc = remi::encode(song).unwrap_or_else(|e| panic!("{name}: encode: {e}"));
    remi::validate(&enc.tokens).unwrap_or_else(|e| panic!("{name}: not grammatical: {e}"));
    let decoded = remi::decode(&enc.tokens).unwrap_or_else(|e| panic!("{name}: decode: {e}"));
    let expected = expected_notes(song);
    assert_eq!(
        decoded_notes(&decoded),
        expected,
        "{name}: decoded notes differ from the quantised originals"
    );
    assert_eq!(enc.n_notes as usize, expected.len(), "{name}");
    let last_step = expected.last().unwrap().step;
    assert_eq!(enc.n_bars, last_step / STEPS_PER_BAR + 1, "{name}");
    assert_eq!(
        enc.tokens.iter().filter(|&&t| t == remi::BAR).count(),
        enc.n_bars as usize
    );

    let bytes = midi::write_bytes(&decoded);
    let reread = midi::read_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: re-read: {e}"));
    assert_eq!(
        reread.notes, decoded.notes,
        "{name}: notes change through MIDI"
    );
    let again = remi::encode(&reread).unwrap_or_else(|e| panic!("{name}: re-encode: {e}"));
    if again.tokens != enc.tokens {
        let i = again
            .tokens
            .iter()
            .zip(&enc.tokens)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let names = |t: &[u16]| {
            t[i.saturating_sub(5)..(i + 5).min(t.len())]
                .iter()
                .map(|&x| remi::Vocab::name(x))
                .collect::<Vec<_>>()
        };
        panic!(
            "{name}: tokens differ at {i}: {:?} vs {:?}",
            names(&enc.tokens),
            names(&again.tokens)
        );
    }
    (enc.tokens.len(), enc.n_notes as usize)
}

#[test]
fn corpus_round_trip() {
    let Some(dir) = crate::support::corpus("the round trip on the whole corpus (remi::roundtrip)")
    else {
        for i in 0..50u64 {
            let song = demo_song(Rng::derive(3, &["roundtrip", i.to_string().as_str()]));
            let song = midi::read_bytes(&midi::write_bytes(&song)).unwrap();
            check_song(&format!("demo {i}"), &song);
        }
        return;
    };
    let mut files = Vec::new();
    midi_files(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "{} holds no MIDI", dir.display());

    let t0 = Instant::now();
    let songs: Vec<(PathBuf, Song)> = files
        .par_iter()
        .map(|p| {
            (
                p.clone(),
                midi::read_file(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
            )
        })
        .collect();
    let t_read = t0.elapsed();
    let t1 = Instant::now();
    let encoded: Vec<usize> = songs
        .par_iter()
        .map(|(_, s)| remi::encode(s).unwrap().tokens.len())
        .collect();
    let t_encode = t1.elapsed();
    eprintln!(
        "{} files: read {:.2?}, encode {:.2?} ({} tokens, {} threads)",
        files.len(),
        t_read,
        t_encode,
        encoded.iter().sum::<usize>(),
        rayon::current_num_threads()
    );

    let totals: Vec<(usize, usize)> = songs
        .par_iter()
        .map(|(p, s)| check_song(&p.display().to_string(), s))
        .collect();
    let (tokens, notes) = totals.iter().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    eprintln!(
        "round trip ok: {} songs, {tokens} tokens, {notes} notes",
        songs.len()
    );
}

#[test]
fn demo_songs_round_trip_too() {
    for i in 0..10u64 {
        let song = midi::read_bytes(&midi::write_bytes(&demo_song(i))).unwrap();
        check_song(&format!("demo {i}"), &song);
    }
}
