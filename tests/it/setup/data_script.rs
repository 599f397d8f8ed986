//! The README's set-up path, scripts/data.sh, in a copy of the checkout: it links the corpus
//! when `../shared` has it, and writes the demo corpus (with its banner) when there is none.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{CHILD_TIMEOUT, cli, spawn, text, wait, write};

/// `<root>/repo` holding scripts/data.sh, as a checkout beside `<root>/shared` would.
fn checkout(root: &Path) -> PathBuf {
    let repo = root.join("repo");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/data.sh");
    write(
        &repo.join("scripts/data.sh"),
        &std::fs::read(script).unwrap(),
    );
    repo
}

fn data_sh(repo: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(repo.join("scripts/data.sh"))
        .envs(env.iter().copied());
    wait(spawn(cmd), CHILD_TIMEOUT)
}

#[test]
fn data_script_links_the_shared_corpus() {
    let root = tempfile::tempdir().unwrap();
    let repo = checkout(root.path());
    let shared = root.path().join("shared/data/pop1k7/midi_analyzed");
    write(&shared.join("src_001/1.mid"), b"MThd");
    let o = data_sh(&repo, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("linked"), "{}", text(&o));
    let dest = repo.join("data/raw/pop1k7");
    assert!(dest.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(dest.canonicalize().unwrap(), shared.canonicalize().unwrap());
    let again = data_sh(&repo, &[]);
    assert!(text(&again).contains("is present"), "{}", text(&again));
}

#[test]
fn data_script_writes_the_demo_corpus_without_one() {
    let root = tempfile::tempdir().unwrap();
    let repo = checkout(root.path());
    // No ../shared; the download fails at once (a missing local "repository").
    let nowhere = root.path().join("no-such-repository");
    let o = data_sh(
        &repo,
        &[
            ("CADENZA_DATA_URL", nowhere.to_str().unwrap()),
            ("PIPELINE", env!("CARGO_BIN_EXE_pipeline")),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("DEMO corpus"), "{}", text(&o));
    let dest = repo.join("data/raw/pop1k7");
    assert!(cadenza::demo::is_demo_corpus(&dest));
    let songs = std::fs::read_dir(dest.join("demo")).unwrap().count();
    assert_eq!(songs, 60);
    // Every command on it says so.
    let cfg = root.path().join("cfg.toml");
    std::fs::write(
        &cfg,
        format!(
            "[run]\nname = \"t\"\nraw_dir = \"{}\"\ntokens_dir = \"{1}/tokens\"\nartifacts_dir = \"{1}/artifacts\"\n",
            dest.display(),
            root.path().display()
        ),
    )
    .unwrap();
    let status = cli(&cfg, &["status"], &[]);
    assert!(text(&status).contains("DEMO DATA"), "{}", text(&status));
}
