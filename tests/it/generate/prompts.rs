//! Continuation prompts from a split of the token shards: only songs long enough for a whole
//! real continuation, and a real continuation that the grammar accepts even where the song's
//! last continued bar is empty.

use cadenza::generate::partition::real_pieces;
use cadenza::generate::{remi_specials, split_prompts};
use cadenza::midi::{Note, Song};
use cadenza::remi::{Grammar, encode};
use cadenza::shards::{SongRecord, Split, write_shards};

/// A song with a note on every beat of each bar in `0..bars` except those in `empty`.
fn song(id: &str, split: Split, bars: u32, empty: &[u32]) -> SongRecord {
    let notes = (0..bars)
        .filter(|b| !empty.contains(b))
        .flat_map(|bar| {
            (0..4u32).map(move |beat| {
                let start = bar * 1920 + beat * 480;
                Note {
                    start,
                    end: start + 400,
                    pitch: 60 + (bar % 12) as u8,
                    velocity: 80,
                }
            })
        })
        .collect();
    let enc = encode(&Song {
        notes,
        ..Song::default()
    })
    .unwrap();
    SongRecord {
        song_id: id.into(),
        source: format!("{id}.mid"),
        source_sha256: "00".into(),
        split,
        meters: String::new(),
        n_bars: enc.n_bars,
        n_notes: enc.n_notes,
        n_tokens: enc.tokens.len() as u32,
        tokens: enc.tokens,
    }
}

#[test]
fn prompts_come_from_long_enough_songs_of_the_split_and_their_real_continuations_decode() {
    let dir = tempfile::tempdir().unwrap();
    let songs = [
        // Long enough, but bar 31 (the last of prompt + continuation) is empty.
        song("a", Split::Valid, 40, &[30, 31]),
        // Long enough for the prompt, not for its continuation.
        song("b", Split::Valid, 20, &[]),
        song("c", Split::Valid, 32, &[]),
        // Another split.
        song("d", Split::Test, 40, &[]),
    ];
    write_shards(dir.path(), &songs, 256).unwrap();
    let sp = remi_specials();
    let prompts = split_prompts(dir.path(), Split::Valid, 7, 10, (8, 24), sp).unwrap();
    let mut sources: Vec<&str> = prompts.iter().map(|p| p.source.as_str()).collect();
    sources.sort();
    assert_eq!(sources, ["valid:a", "valid:c"]);
    for p in &prompts {
        assert_eq!(p.bars(sp), 8, "{}", p.source);
        let mut g = Grammar::new();
        for &t in &p.real {
            g.push(t).unwrap_or_else(|e| panic!("{}: {e}", p.source));
        }
        assert!(g.is_done(), "{} ends with Eos", p.source);
    }
    // The empty bars at the end are left out; every bar with a note is kept.
    for (p, real) in prompts.iter().zip(real_pieces(&prompts).unwrap()) {
        let want = if p.source == "valid:a" { 30 } else { 32 };
        assert_eq!(real.row.n_bars, want, "{}", p.source);
    }
    let err = split_prompts(dir.path(), Split::Train, 7, 10, (8, 24), sp).unwrap_err();
    assert!(format!("{err:#}").contains("no train-split song with at least 32 bars"));
}
