//! pipelines/slurm/ on a real single-node Slurm (slurmctld, slurmd and munge, started by
//! `.ci/run` through pipelines/slurm/local.sh): tokenize as a 2-part array job, then train,
//! generate, evaluate and report chained with afterok. The jobs complete; the outputs are
//! what `pipeline run all` gives on one machine; each job's log shows its progress and its
//! summary line.

use std::process::Command;

use super::project::Project;
use crate::support::skip;

fn slurm_up() -> bool {
    Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .is_ok_and(|o| {
            let states = String::from_utf8_lossy(&o.stdout);
            o.status.success()
                && states
                    .lines()
                    .any(|s| ["idle", "mix", "alloc"].contains(&s.trim()))
        })
}

#[test]
fn the_slurm_scripts_give_what_one_machine_gives() {
    if !slurm_up() {
        skip(
            "the Slurm batch scripts (pipeline::slurm)",
            "no running Slurm node (pipelines/slurm/local.sh start, as root)",
        );
        return;
    }
    let reference = Project::new();
    // What the report job does too: run all, then print the table (which draws the plot).
    reference.ok(&["run", "all"], &[]);
    reference.ok(&["report"], &[]);
    let p = Project::new();
    let t0 = std::time::Instant::now();
    let o = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/pipelines/slurm/submit.sh"
    ))
    .args([
        "--config",
        p.path("cfg.toml").to_str().unwrap(),
        "--parts",
        "2",
        "--wait",
    ])
    .current_dir(p.dir.path())
    .env("PIPELINE", env!("CARGO_BIN_EXE_pipeline"))
    .env("LOG_DIR", p.path("logs"))
    .env("CPUS", "1")
    .env_remove("CADENZA_FAULT")
    .output()
    .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    println!("{out}slurm wall time {:.1} s", t0.elapsed().as_secs_f64());
    assert!(o.status.success(), "{out}");
    let states: Vec<&str> = out.lines().filter(|l| l.starts_with("job ")).collect();
    assert_eq!(states.len(), 6, "2 array tasks and 4 jobs: {out}");
    assert!(states.iter().all(|l| l.ends_with(" COMPLETED")), "{out}");

    // What one machine gives: the same songs, model, pieces and tables.
    let songs = |q: &Project| cadenza::shards::read_shards(&q.stage_dir("tokenize")).unwrap();
    assert_eq!(songs(&p), songs(&reference));
    assert_eq!(p.trained(), reference.trained());
    for stage in ["generate", "evaluate"] {
        assert_eq!(p.differences(&reference, stage), Vec::<String>::new());
    }
    assert!(p.ok(&["run", "all"], &[]).contains("nothing to do"));

    // Each log shows the stage's progress and summary lines.
    let logs: Vec<(String, String)> = std::fs::read_dir(p.path("logs"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let text = std::fs::read_to_string(e.path()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), text)
        })
        .collect();
    let log = |stage: &str| -> Vec<&String> {
        logs.iter()
            .filter(|(n, _)| n.starts_with(&format!("{stage}-")))
            .map(|(_, t)| t)
            .collect()
    };
    assert_eq!(log("tokenize").len(), 2);
    for text in log("tokenize") {
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("tokenize ") && l.contains("/") && l.contains(" files ")),
            "no progress line: {text}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("tokenize  ") && l.contains(" files, ")),
            "no summary line: {text}"
        );
    }
    let train = log("train");
    assert!(train[0].contains("valid loss"), "{}", train[0]);
    assert!(
        train[0].lines().any(|l| l.starts_with("train 6/6 steps")),
        "{}",
        train[0]
    );
    assert!(
        train[0].lines().any(|l| l.starts_with("train     ")),
        "{}",
        train[0]
    );
    for stage in ["generate", "evaluate", "report"] {
        let text = log(stage)[0];
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{stage:<9} "))),
            "{stage}: {text}"
        );
    }
    println!("train job log:\n{}", train[0]);
}
