//! The edges of the CLI around the tables: `pipeline evaluate --midi-dir` on a missing folder,
//! an empty one and a file name that is not UTF-8; `pipeline query` while evaluate commits.

use std::os::unix::ffi::OsStrExt;

use crate::pipeline::project::Project;
use crate::support::{CHILD_TIMEOUT, spawn_until, text, wait};

#[test]
fn evaluate_midi_dir_on_missing_empty_and_non_utf8_folders() {
    let p = Project::new();
    let o = p.run(&["evaluate", "--midi-dir", "nowhere", "--label", "x"], &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("nowhere is not a folder"), "{}", text(&o));

    std::fs::create_dir(p.path("empty")).unwrap();
    let o = p.run(&["evaluate", "--midi-dir", "empty", "--label", "x"], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no .mid or .midi files under empty"),
        "{}",
        text(&o)
    );

    // A name that is not UTF-8 (Latin-1 "café"): scored, named lossily.
    let odd = p.path("odd");
    std::fs::create_dir(&odd).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.mid");
    std::fs::copy(p.path("raw/demo/song_000.mid"), odd.join(name)).unwrap();
    p.ok(&["evaluate", "--midi-dir", "odd", "--label", "odd"], &[]);
    let rows = p.ok(
        &[
            "query",
            "SELECT piece, error FROM pieces WHERE task = 'external'",
            "--format",
            "csv",
        ],
        &[],
    );
    // Read and scored: the error column is empty (null).
    assert!(rows.lines().any(|l| l == "caf\u{fffd},"), "{rows}");
}

/// The number of scored pieces, as `pipeline query` sees it.
fn count(p: &Project) -> String {
    p.ok(
        &[
            "query",
            "SELECT count(*) AS n FROM pieces",
            "--format",
            "csv",
        ],
        &[],
    )
}

#[test]
fn a_query_during_a_commit_sees_the_old_or_the_new_tables() {
    let p = Project::new();
    p.ok(&["run", "all"], &[]);
    let old = count(&p);
    // One more generated piece, so the new tables differ from the old.
    let part = p.stage_dir("generate").join("task=unconditional/sampler=a");
    std::fs::copy(part.join("000.mid"), part.join("009.mid")).unwrap();
    // Evaluate waits between the two renames of its commit while the query runs.
    let cmd = p.command(
        &["run", "evaluate"],
        &[("CADENZA_FAULT", "commit:aside=sleep:1500")],
    );
    let child = spawn_until(cmd, "fault: sleeping at `commit:aside`");
    let during = count(&p);
    let done = wait(child, CHILD_TIMEOUT);
    assert!(done.status.success(), "{}", text(&done));
    let new = count(&p);
    assert_ne!(old, new);
    assert!(
        during == old || during == new,
        "{during} is neither {old} nor {new}"
    );
}

#[test]
fn a_panic_while_scoring_one_file_is_its_error_row() {
    let p = Project::new();
    let odd = p.path("mine");
    std::fs::create_dir(&odd).unwrap();
    for name in ["a.mid", "b.mid"] {
        std::fs::copy(p.path("raw/demo/song_000.mid"), odd.join(name)).unwrap();
    }
    let fault = [("CADENZA_FAULT", "evaluate:file:b=panic")];
    p.ok(
        &["evaluate", "--midi-dir", "mine", "--label", "mine"],
        &fault,
    );
    let rows = p.ok(
        &[
            "query",
            "SELECT piece, error FROM pieces ORDER BY piece",
            "--format",
            "csv",
        ],
        &[],
    );
    assert!(rows.lines().any(|l| l == "a,"), "{rows}");
    assert!(
        rows.lines().any(|l| l.starts_with("b,")
            && l.contains("internal error")
            && l.contains("injected panic")),
        "{rows}"
    );
}
