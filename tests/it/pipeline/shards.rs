//! Array jobs: `run tokenize --shard i/N` parts are a fresh output that `run all` keeps; a
//! shard run replaces a whole output or parts of another N; parts of two N never pass as
//! complete; the locks keep whole runs, part runs and readers apart.

use super::project::Project;
use crate::support::{CHILD_TIMEOUT, spawn, spawn_until, text, wait};

fn shard(p: &Project, part: &str) -> String {
    p.ok(&["run", "tokenize", "--shard", part], &[])
}

fn parts(p: &Project) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(p.stage_dir("tokenize"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".lock"))
        .collect();
    names.sort();
    names
}

#[test]
fn parts_of_an_array_job_are_fresh_and_run_all_keeps_them() {
    let reference = Project::new();
    reference.ok(&["run", "all"], &[]);
    let p = Project::new();
    shard(&p, "0/2");
    let status = p.ok(&["status"], &[]);
    assert!(
        status.contains("tokenize  stale (part 1/2 never finished)"),
        "{status}"
    );
    shard(&p, "1/2");
    let status = p.ok(&["status"], &[]);
    assert!(status.contains("tokenize  fresh"), "{status}");
    assert!(status.contains("train     missing"), "{status}");

    let out = p.ok(&["run", "all"], &[]);
    assert!(out.contains("tokenize  fresh, skipped"), "{out}");
    assert_eq!(parts(&p), ["part-0-of-2", "part-1-of-2"], "the parts stay");
    // The model trained on the parts is the one trained on a whole run's shards.
    assert_eq!(p.trained(), reference.trained());
    assert_eq!(p.differences(&reference, "generate"), Vec::<String>::new());
    assert!(p.ok(&["run", "all"], &[]).contains("nothing to do"));

    // A changed part makes the whole stale, naming the part.
    let shard_file = p
        .stage_dir("tokenize")
        .join("part-1-of-2/shard-00000.parquet");
    std::fs::remove_file(shard_file).unwrap();
    let status = p.ok(&["status"], &[]);
    assert!(
        status.contains("part 1/2: output `shard-00000.parquet` is missing"),
        "{status}"
    );
}

#[test]
fn a_shard_run_replaces_a_whole_output_and_parts_of_another_count() {
    let p = Project::new();
    p.ok(&["run", "tokenize"], &[]);
    shard(&p, "0/2");
    assert_eq!(
        parts(&p),
        ["part-0-of-2"],
        "the whole output (its manifest first) is gone"
    );
    shard(&p, "1/2");
    shard(&p, "2/3");
    assert_eq!(parts(&p), ["part-2-of-3"], "the parts of 2 are gone");
    let status = p.ok(&["status"], &[]);
    assert!(
        status.contains("part 0/3 never finished") && status.contains("part 1/3 never finished"),
        "{status}"
    );

    // Parts of two N side by side (copied in by hand) are not complete, whatever their count.
    shard(&p, "0/3");
    let dir = p.stage_dir("tokenize");
    copy_dir(&dir.join("part-0-of-3"), &dir.join("part-1-of-2"));
    let status = p.ok(&["status"], &[]);
    assert!(
        status.contains("parts of different splits (of 2 and of 3)"),
        "{status}"
    );
    assert!(
        status.contains("train     blocked") && status.contains("parts of different splits"),
        "{status}"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn whole_runs_part_runs_and_readers_keep_apart() {
    let p = Project::new();
    let sleep = [("CADENZA_FAULT", "tokenize:before-commit=sleep:60000")];

    // Part 0 writing: part 1 runs beside it, a whole run is refused.
    let cmd = p.command(&["run", "tokenize", "--shard", "0/2"], &sleep);
    let mut part0 = spawn_until(cmd, "fault: sleeping at `tokenize:before-commit`");
    shard(&p, "1/2");
    let o = p.run(&["run", "tokenize"], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("is being read by another run"),
        "{}",
        text(&o)
    );
    part0.kill().unwrap();
    part0.wait().unwrap();

    // A whole run writing: a part run is refused.
    let cmd = p.command(&["run", "tokenize", "--force"], &sleep);
    let mut whole = spawn_until(cmd, "fault: sleeping at `tokenize:before-commit`");
    let o = p.run(&["run", "tokenize", "--shard", "0/2"], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("is being written by another run"),
        "{}",
        text(&o)
    );
    whole.kill().unwrap();
    whole.wait().unwrap();

    // Training reads the shards: tokenize cannot replace them meanwhile.
    p.ok(&["run", "tokenize"], &[]);
    let cmd = p.command(
        &["run", "train"],
        &[("CADENZA_FAULT", "train:start=sleep:60000")],
    );
    let mut train = spawn_until(cmd, "fault: sleeping at `train:start`");
    let o = wait(
        spawn(p.command(&["run", "tokenize", "--force"], &[])),
        CHILD_TIMEOUT,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("is being read by another run"),
        "{}",
        text(&o)
    );
    train.kill().unwrap();
    train.wait().unwrap();
}
