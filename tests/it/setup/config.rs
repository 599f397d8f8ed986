//! The shipped configs parse and validate; a bad value in any section is refused before any
//! work, naming the file and the key.

use std::path::Path;

use cadenza::config::Config;

use crate::support::{cli, text};

fn shipped() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_config_parses_and_validates() {
    let files = shipped();
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        Config::load(&f).unwrap_or_else(|e| panic!("{}: {e:#}", f.display()));
    }
}

#[test]
fn a_bad_value_in_any_section_is_refused_before_any_work() {
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/default.toml"))
            .unwrap();
    // (the line of configs/default.toml to replace, its bad replacement, the key named)
    let cases = [
        ("name = \"default\"", "name = \"a run\"", "run.name"),
        (
            "songs_per_shard = 256",
            "songs_per_shard = 0",
            "tokenize.songs_per_shard",
        ),
        (
            "songs_per_shard = 256",
            "songs_per_shrd = 256",
            "songs_per_shrd",
        ),
        ("preset = \"small\"", "preset = \"huge\"", "model.preset"),
        ("lr = 1e-3", "lr = -1.0", "train.lr"),
        (
            "pieces_per_sampler = 40",
            "pieces_per_sampler = 0",
            "generate.pieces_per_sampler",
        ),
        (
            "name = \"t1.0_k40_pitchp0.9\"",
            "name = \"t1.0_k40_pitchp0.9\"\ntemperature = 0.0",
            "generate.sampler[0].temperature",
        ),
        ("required = true", "sample_rate = 10", "audio.sample_rate"),
        ("split = \"test\"", "split = \"tset\"", "run.split"),
        ("resamples = 2000", "resamples = 5", "evaluate.resamples"),
    ];
    for (good, bad, key) in cases {
        assert!(
            default.contains(good),
            "configs/default.toml has no `{good}`"
        );
        let dir = tempfile::tempdir().unwrap();
        let text_cfg = default
            .replacen(good, bad, 1)
            .replace(
                "\"data/raw/pop1k7\"",
                &format!("\"{}/raw\"", dir.path().display()),
            )
            .replace(
                "\"data/tokens\"",
                &format!("\"{}/tokens\"", dir.path().display()),
            )
            .replace(
                "\"artifacts\"",
                &format!("\"{}/artifacts\"", dir.path().display()),
            );
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text_cfg).unwrap();
        let o = cli(&path, &["run", "all"], &[]);
        assert!(!o.status.success(), "{key}: {}", text(&o));
        let msg = text(&o);
        assert!(
            msg.contains("bad.toml") && msg.contains(key),
            "{key}: {msg}"
        );
        let made: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(made.len(), 1, "{key}: nothing but the config is written");
    }
}
