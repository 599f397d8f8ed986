//! The tokenize stage through the real CLI: bad input, freshness, staleness, injected failure,
//! the lock, determinism and `--shard i/N`.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{cli, text, write};
use cadenza::midi::{self, Note, Song, Tempo};
use cadenza::shards;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(songs_per_shard: usize) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let p = Project { dir };
        std::fs::create_dir_all(p.raw()).unwrap();
        p.write_config(songs_per_shard);
        p
    }
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn raw(&self) -> PathBuf {
        self.root().join("raw")
    }
    fn tokens(&self) -> PathBuf {
        self.root().join("tokens/remi")
    }
    fn write_config(&self, songs_per_shard: usize) {
        let text = format!(
            "[run]\nname = \"t\"\nseed = 1\nraw_dir = \"{}\"\ntokens_dir = \"{}\"\nartifacts_dir = \"{}\"\n\
             [tokenize]\nsongs_per_shard = {songs_per_shard}\n",
            self.raw().display(),
            self.root().join("tokens").display(),
            self.root().join("artifacts").display()
        );
        std::fs::write(self.root().join("cfg.toml"), text).unwrap();
    }
    fn pipeline(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        cli(&self.root().join("cfg.toml"), args, env)
    }
}

/// A small valid song: a C major arpeggio over two bars.
fn song(shift: u8) -> Song {
    let notes = (0..8u32)
        .map(|i| Note {
            start: i * 240,
            end: i * 240 + 200,
            pitch: 60 + shift + (i as u8 % 3) * 4,
            velocity: 80,
        })
        .collect();
    Song {
        notes,
        tempos: vec![Tempo {
            tick: 0,
            bpm: 100.0,
        }],
        chords: vec![],
        global_bpm: None,
        meters: vec![],
    }
}

fn add_corpus(p: &Project) -> usize {
    let good = [
        ("a/one.mid", 0u8),
        ("a/two.mid", 2),
        ("b/three.MID", 5),
        ("b/ünï-曲.mid", 7),
    ];
    for (name, shift) in good {
        let path = p.raw().join(name);
        write(&path, &midi::write_bytes(&song(shift)));
    }
    let bad: [(&str, &[u8]); 4] = [
        ("bad/empty.mid", b""),
        (
            "bad/random.mid",
            &[0x13, 0x77, 0xfe, 0x01, 0x99, 0x42, 0x00, 0x10],
        ),
        ("bad/text.mid", b"this is a text file, not MIDI\n"),
        // Header announces 6 bytes, then a track chunk whose length runs past the end.
        (
            "bad/truncated.mid",
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00\x00\x90\x3c",
        ),
    ];
    for (name, bytes) in bad {
        let path = p.raw().join(name);
        write(&path, bytes);
    }
    std::fs::write(p.raw().join("notes.txt"), "not a MIDI file, ignored").unwrap();
    good.len()
}

fn shard_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = shards::shard_files(dir)
        .unwrap()
        .into_iter()
        .map(|f| {
            (
                f.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&f).unwrap(),
            )
        })
        .collect();
    v.push((
        "rejects".into(),
        std::fs::read(dir.join("rejects.parquet")).unwrap(),
    ));
    v
}

#[test]
fn bad_files_are_rejected_and_the_rest_is_written_then_fresh_then_stale() {
    let p = Project::new(2);
    let n_good = add_corpus(&p);
    let o = p.pipeline(&["run", "tokenize"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("8 files, 4 rejected, 4 songs"),
        "{}",
        text(&o)
    );

    let songs = shards::read_shards(&p.tokens()).unwrap();
    assert_eq!(songs.len(), n_good);
    assert!(
        songs
            .iter()
            .any(|s| s.source == "b/ünï-曲.mid" && s.song_id == "b/ünï-曲")
    );
    assert_eq!(
        shards::shard_files(&p.tokens()).unwrap().len(),
        2,
        "2 songs per shard"
    );
    let rejects = shards::read_rejects(&p.tokens().join("rejects.parquet")).unwrap();
    let mut sources: Vec<&str> = rejects.iter().map(|r| r.source.as_str()).collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            "bad/empty.mid",
            "bad/random.mid",
            "bad/text.mid",
            "bad/truncated.mid"
        ]
    );
    assert!(
        rejects
            .iter()
            .all(|r| !r.reason.is_empty() && r.detail.contains(&r.source)),
        "{rejects:?}"
    );
    assert!(
        std::fs::read_to_string(p.tokens().join("vocab.json"))
            .unwrap()
            .contains("Pitch_60")
    );
    let tokenizer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.tokens().join("tokenizer.json")).unwrap())
            .unwrap();
    assert_eq!(tokenizer["vocab"]["Pitch_60"], 202 + 60 - 21);

    // A second run does nothing.
    let o = p.pipeline(&["run", "tokenize"], &[]);
    assert!(text(&o).contains("fresh, skipped"), "{}", text(&o));
    let o = p.pipeline(&["status"], &[]);
    assert!(
        text(&o)
            .lines()
            .any(|l| l.starts_with("tokenize") && l.contains("fresh")),
        "{}",
        text(&o)
    );

    // Changing a tokenize key makes it stale, naming the config.
    p.write_config(3);
    let o = p.pipeline(&["status"], &[]);
    assert!(text(&o).contains("stale (config changed"), "{}", text(&o));
    p.write_config(2);
    // Changing an input file makes it stale, naming the input.
    std::fs::write(p.raw().join("a/two.mid"), midi::write_bytes(&song(3))).unwrap();
    let o = p.pipeline(&["status"], &[]);
    assert!(
        text(&o).contains("input `raw_files` changed"),
        "{}",
        text(&o)
    );
}

#[test]
fn injected_failure_keeps_previous_shards_and_lock_refuses_a_second_run() {
    let p = Project::new(256);
    add_corpus(&p);
    assert!(p.pipeline(&["run", "tokenize"], &[]).status.success());
    let before = shard_bytes(&p.tokens());
    let manifest = std::fs::read(p.tokens().join("manifest.json")).unwrap();

    std::fs::remove_file(p.raw().join("a/one.mid")).unwrap();
    let o = p.pipeline(
        &["run", "tokenize"],
        &[("CADENZA_FAIL_AT", "tokenize:before-commit")],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("injected failure"), "{}", text(&o));
    assert_eq!(shard_bytes(&p.tokens()), before, "previous shards intact");
    assert_eq!(
        std::fs::read(p.tokens().join("manifest.json")).unwrap(),
        manifest
    );
    let leftovers: Vec<_> = std::fs::read_dir(p.root().join("tokens"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "temp folders left: {leftovers:?}");

    // Another process holds the lock (here: this one): a second run is refused and writes
    // nothing.
    let held = cadenza::fsio::Lock::acquire(&p.tokens()).unwrap();
    let o = p.pipeline(&["run", "tokenize", "--force"], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("being written by another run"),
        "{}",
        text(&o)
    );
    assert_eq!(shard_bytes(&p.tokens()), before);
    // Released (as the kernel does when a holder dies): the next run goes ahead, whatever
    // the lock file says.
    drop(held);
    std::fs::write(p.root().join("tokens/remi.lock"), "999999999").unwrap();
    let o = p.pipeline(&["run", "tokenize", "--force"], &[]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn two_runs_are_byte_identical_and_shards_merge() {
    let p = Project::new(2);
    add_corpus(&p);
    assert!(p.pipeline(&["run", "tokenize"], &[]).status.success());
    let first = shard_bytes(&p.tokens());
    assert!(
        p.pipeline(&["run", "tokenize", "--force"], &[])
            .status
            .success()
    );
    assert_eq!(shard_bytes(&p.tokens()), first);
    let all = shards::read_shards(&p.tokens()).unwrap();

    // Two array-job halves give the same songs as one run.
    std::fs::remove_dir_all(p.tokens()).unwrap();
    for i in 0..2 {
        let o = p.pipeline(&["run", "tokenize", "--shard", &format!("{i}/2")], &[]);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert!(
        shards::shard_files(&p.tokens()).unwrap().len() >= 2,
        "files of both parts are listed"
    );
    let mut merged = shards::read_shards(&p.tokens()).unwrap();
    merged.sort_by(|a, b| a.source.cmp(&b.source));
    let mut all_sorted = all.clone();
    all_sorted.sort_by(|a, b| a.source.cmp(&b.source));
    assert_eq!(merged, all_sorted);
}

/// A file that cannot be read (a dangling link) is a rejected file, not a stopped stage; two
/// files that would share a song id (`x.mid`, `x.MID`) both become songs, with distinct ids.
#[cfg(unix)]
#[test]
fn unreadable_files_are_rejected_and_ids_never_collide() {
    let p = Project::new(256);
    add_corpus(&p);
    std::os::unix::fs::symlink(p.root().join("nowhere.mid"), p.raw().join("a/dangling.mid"))
        .unwrap();
    write(&p.raw().join("a/one.MID"), &midi::write_bytes(&song(9)));
    let o = p.pipeline(&["run", "tokenize"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("10 files, 5 rejected, 5 songs"),
        "{}",
        text(&o)
    );
    let rejects = shards::read_rejects(&p.tokens().join("rejects.parquet")).unwrap();
    let dangling = rejects.iter().find(|r| r.source == "a/dangling.mid");
    assert!(dangling.is_some_and(|r| r.reason == "io"), "{rejects:?}");
    let mut ids: Vec<String> = shards::read_shards(&p.tokens())
        .unwrap()
        .into_iter()
        .map(|s| s.song_id)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["a/one.MID", "a/one.mid", "a/two", "b/three", "b/ünï-曲"]
    );
    // Once the link points at a file, the stage is stale and the file a song.
    write(&p.root().join("nowhere.mid"), &midi::write_bytes(&song(4)));
    let o = p.pipeline(&["status"], &[]);
    assert!(
        text(&o).contains("input `raw_files` changed"),
        "{}",
        text(&o)
    );
}
