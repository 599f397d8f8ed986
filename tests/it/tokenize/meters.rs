//! Pop-piano files from other corpora declare 1/4 or 2/4 for music in 4/4: such files are read
//! (re-barred into 4/4, their meters recorded), other meters are rejected with a reason, and
//! every file is accounted for. A panic on one file is a reject, not a failed stage.

use std::path::Path;

use cadenza::shards::{read_rejects, read_shards};

use crate::support::smf::with_meters;
use crate::support::{cli, text, write};

/// The corpus: (path, meters, what becomes of it).
const FILES: [(&str, &[(u32, u8, u8)], &str); 7] = [
    ("a/four.mid", &[(0, 4, 2)], "4/4@0"),
    ("a/two.mid", &[(0, 2, 2)], "2/4@0"),
    (
        "b/one_then_four.mid",
        &[(0, 1, 2), (1920, 4, 2)],
        "1/4@0,4/4@1920",
    ),
    ("b/undeclared.mid", &[], ""),
    ("c/three.mid", &[(0, 3, 2)], "reject: 3/4 at tick 0"),
    ("c/six_eight.mid", &[(0, 6, 3)], "reject: 6/8 at tick 0"),
    (
        "c/off_grid.mid",
        &[(0, 4, 2), (3840, 2, 2), (4800, 4, 2)],
        "reject: 4/4 at tick 4800",
    ),
];

fn project(root: &Path) -> std::path::PathBuf {
    for (name, meters, _) in FILES {
        write(&root.join("raw").join(name), &with_meters(meters));
    }
    let cfg = root.join("cfg.toml");
    std::fs::write(
        &cfg,
        format!(
            "[run]\nname = \"t\"\nraw_dir = \"{0}/raw\"\ntokens_dir = \"{0}/tokens\"\nartifacts_dir = \"{0}/artifacts\"\n",
            root.display()
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn one_two_and_four_four_songs_are_read_and_every_file_is_accounted_for() {
    let root = tempfile::tempdir().unwrap();
    let cfg = project(root.path());
    let o = cli(&cfg, &["run", "tokenize"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("4 songs (2 re-barred from 1/4 or 2/4)"),
        "{}",
        text(&o)
    );
    let tokens = root.path().join("tokens/remi");
    let songs = read_shards(&tokens).unwrap();
    let rejects = read_rejects(&tokens.join("rejects.parquet")).unwrap();
    assert_eq!(
        songs.len() + rejects.len(),
        FILES.len(),
        "every file accounted for"
    );
    for (name, _, outcome) in FILES {
        let id = name.trim_end_matches(".mid");
        match outcome.strip_prefix("reject: ") {
            Some(meter) => {
                let r = rejects.iter().find(|r| r.source == name).expect(name);
                assert_eq!(r.reason, "time_signature");
                assert!(r.detail.contains(meter), "{}", r.detail);
            }
            None => {
                let s = songs.iter().find(|s| s.song_id == id).expect(name);
                assert_eq!(s.meters, outcome, "{name}");
            }
        }
    }
    // Re-barring leaves the notes, hence the tokens, as they are.
    let tokens_of = |id: &str| &songs.iter().find(|s| s.song_id == id).unwrap().tokens;
    assert_eq!(tokens_of("a/two"), tokens_of("a/four"));
    assert_eq!(tokens_of("b/undeclared"), tokens_of("a/four"));
    let manifest = cadenza::pipeline::Manifest::read(&tokens).unwrap().unwrap();
    assert_eq!(manifest.counts["rebarred"], 2);
    assert_eq!(manifest.counts["rejects_by_reason"]["time_signature"], 3);
}

#[test]
fn a_panic_on_one_file_is_a_reject_and_the_stage_goes_on() {
    let root = tempfile::tempdir().unwrap();
    let cfg = project(root.path());
    let fault = [("CADENZA_FAULT", "tokenize:file:a/two.mid=panic")];
    let o = cli(&cfg, &["run", "tokenize"], &fault);
    assert!(o.status.success(), "{}", text(&o));
    let tokens = root.path().join("tokens/remi");
    let rejects = read_rejects(&tokens.join("rejects.parquet")).unwrap();
    let r = rejects.iter().find(|r| r.source == "a/two.mid").unwrap();
    assert_eq!(r.reason, "internal_error");
    assert!(r.detail.contains("injected panic"), "{}", r.detail);
    assert_eq!(
        read_shards(&tokens).unwrap().len(),
        3,
        "the other songs are there"
    );
}
