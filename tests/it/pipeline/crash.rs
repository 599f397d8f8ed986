//! Real crashes: `pipeline run <stage>` killed with SIGKILL (or aborting on the spot) at points
//! early, mid-write and inside an atomic commit. After each kill the stage's output is absent
//! or complete; after a final rerun, every output equals an uninterrupted run's, byte for byte.

use std::process::Child;

use super::project::Project;
use crate::support::{CHILD_TIMEOUT, spawn, spawn_until, text, wait};

/// Kills the `pipeline run <stage>` whose fault `point` is sleeping (a SIGKILL, as a crash).
fn kill_at(p: &Project, stage: &str, point: &str) {
    kill_run(p, &["run", stage], point);
}

/// Kills `pipeline ARGS` while its fault `point` sleeps.
fn kill_run(p: &Project, args: &[&str], point: &str) {
    let fault = format!("{point}=sleep:60000");
    let cmd = p.command(args, &[("CADENZA_FAULT", fault.as_str())]);
    let mut child: Child = spawn_until(cmd, &format!("fault: sleeping at `{point}`"));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// `pipeline run <stage>` that aborts the process at `point` (no destructors, like a crash).
fn abort_at(p: &Project, stage: &str, point: &str) {
    let fault = format!("{point}=abort");
    let o = wait(
        spawn(p.command(&["run", stage], &[("CADENZA_FAULT", fault.as_str())])),
        CHILD_TIMEOUT,
    );
    assert!(!o.status.success(), "{stage} at {point}: {}", text(&o));
    assert!(text(&o).contains("injected abort"), "{}", text(&o));
}

/// The output of `stage` is absent or the same as the reference's (no half-written output).
fn intact(p: &Project, reference: &Project, stage: &str, after: &str) {
    let partial = p.differences(reference, stage);
    assert!(
        p.outputs(stage).is_empty() || partial.is_empty(),
        "{stage} after a kill at {after}: a partial output: {partial:?}"
    );
}

#[test]
fn killed_stages_leave_old_or_new_outputs_and_a_rerun_equals_a_straight_run() {
    let reference = Project::new();
    reference.ok(&["run", "all"], &[]);
    let p = Project::new();
    let mut kills = 0;

    // tokenize: early, between shard files, between the two renames of the commit.
    for point in ["tokenize:start", "shards:file-written", "commit:aside"] {
        kill_at(&p, "tokenize", point);
        intact(&p, &reference, "tokenize", point);
        kills += 1;
    }
    abort_at(&p, "tokenize", "commit:aside");
    intact(&p, &reference, "tokenize", "an abort in the commit");
    p.ok(&["run", "tokenize"], &[]);
    assert_eq!(p.differences(&reference, "tokenize"), Vec::<String>::new());

    // train: early, after a checkpoint (it resumes from there), inside a checkpoint's commit.
    for point in ["train:start", "train:after-checkpoint", "commit:aside"] {
        kill_at(&p, "train", point);
        kills += 1;
    }
    let out = p.ok(&["run", "train"], &[]);
    assert!(out.contains("resumed from step"), "{out}");
    assert_eq!(p.trained(), reference.trained(), "train resumed exactly");

    // generate: early, after its first partition (kept), inside a partition's commit.
    for point in ["generate:start", "commit:aside", "generate:after-partition"] {
        kill_at(&p, "generate", point);
        kills += 1;
    }
    let out = p.ok(&["run", "generate"], &[]);
    assert!(
        out.contains("1 fresh"),
        "the finished partition is kept: {out}"
    );
    assert_eq!(p.differences(&reference, "generate"), Vec::<String>::new());

    // evaluate: early, with the tables written, inside the commit.
    for point in ["evaluate:start", "evaluate:before-commit", "commit:aside"] {
        kill_at(&p, "evaluate", point);
        intact(&p, &reference, "evaluate", point);
        kills += 1;
    }
    p.ok(&["run", "all"], &[]);
    for stage in ["tokenize", "generate", "evaluate"] {
        assert_eq!(p.differences(&reference, stage), Vec::<String>::new());
    }
    assert_eq!(kills, 12);
}

/// Every stage killed while it replaces an existing output (`--force`), at each of its commit
/// points. After each kill, either the manifest is there and the old output with it, intact
/// (the same bytes as a straight run's: `--force` rewrites them identically), or there is no
/// manifest, the stage reads as missing, and what the folder holds is whole. A rerun then
/// gives the straight run's bytes.
#[test]
fn killed_replacements_keep_the_old_output_or_say_it_is_unfinished() {
    let reference = Project::new();
    reference.ok(&["run", "all"], &[]);
    let p = Project::new();
    p.ok(&["run", "all"], &[]);
    let matrix: [(&str, &[&str]); 5] = [
        (
            "tokenize",
            &[
                "tokenize:start",
                "shards:file-written",
                "tokenize:before-commit",
                "commit:aside",
                "commit:swapped",
            ],
        ),
        (
            "train",
            &[
                "train:start",
                "commit:aside",
                "commit:swapped",
                "train:after-checkpoint",
            ],
        ),
        (
            "generate",
            &[
                "generate:start",
                "commit:aside",
                "commit:swapped",
                "generate:after-partition",
            ],
        ),
        (
            "evaluate",
            &[
                "evaluate:start",
                "evaluate:before-commit",
                "commit:aside",
                "commit:swapped",
            ],
        ),
        (
            "report",
            &["report:start", "commit:aside", "commit:swapped"],
        ),
    ];
    let mut kills = 0;
    for (stage, points) in matrix {
        for point in points {
            kill_run(&p, &["run", stage, "--force"], point);
            kills += 1;
            let status = p.ok(&["status"], &[]);
            let line = status.lines().find(|l| l.starts_with(stage)).unwrap();
            let finished = p.stage_dir(stage).join("manifest.json").is_file();
            if finished {
                assert!(line.contains("fresh"), "{stage} at {point}: {status}");
            } else {
                assert!(line.contains("missing"), "{stage} at {point}: {status}");
            }
            match stage {
                "train" if finished => assert_eq!(p.trained(), reference.trained(), "at {point}"),
                "train" | "report" => {}
                // A manifest means the old output, intact; without one, a whole new output
                // or, for generate (rewriting in place), partitions each old or new, or
                // absent (one left aside, which the next run puts back).
                _ => {
                    let present: Vec<String> = p
                        .differences(&reference, stage)
                        .into_iter()
                        .filter(|d| {
                            finished || stage != "generate" || p.path(&gen_path(d)).exists()
                        })
                        .collect();
                    assert_eq!(present, Vec::<String>::new(), "{stage} at {point}");
                }
            }
        }
        p.ok(&["run", "all"], &[]);
        assert!(
            p.ok(&["status"], &[])
                .lines()
                .all(|l| !l.contains("stale") && !l.contains("missing"))
        );
        assert_eq!(p.trained(), reference.trained(), "after {stage}");
        for s in ["tokenize", "generate", "evaluate"] {
            assert_eq!(
                p.differences(&reference, s),
                Vec::<String>::new(),
                "{s} after {stage}"
            );
        }
    }
    assert_eq!(kills, 20);
    println!("kill matrix: {kills} kills over 5 stages, every rerun byte-identical");
}

/// The project path of a `generate/...` difference.
fn gen_path(difference: &str) -> String {
    difference.replacen("generate/", "artifacts/p/generated/", 1)
}
