//! What a manifest promises: an error inside a commit puts the old output back; a damaged
//! manifest reads as stale; a stage that rewrites its folder in place, or replaces it, has no
//! manifest until the new one is written; every commit reaches the disk in protocol order.

use std::process::Command;

use super::project::Project;
use crate::support::{skip, text};

#[test]
fn an_error_inside_a_commit_puts_the_old_output_back() {
    let p = Project::new();
    p.ok(&["run", "tokenize"], &[]);
    let before = p.outputs("tokenize");
    let fail_at = |point: &str| {
        let fault = format!("{point}=error");
        let o = p.run(
            &["run", "tokenize", "--force"],
            &[("CADENZA_FAULT", fault.as_str())],
        );
        assert!(!o.status.success(), "{point}: {}", text(&o));
        p.ok(&["status"], &[])
    };
    // Between the renames: the old output goes back, with its manifest.
    let status = fail_at("commit:aside");
    assert!(status.contains("tokenize  fresh"), "{status}");
    assert_eq!(p.outputs("tokenize"), before);
    // After them: the new output is in place, whole, but the stage failed before its manifest.
    let status = fail_at("commit:swapped");
    assert!(status.contains("tokenize  missing"), "{status}");
    assert_eq!(p.outputs("tokenize"), before, "the same bytes, rewritten");
}

#[test]
fn a_damaged_manifest_reads_as_stale_and_is_rebuilt() {
    let p = Project::new();
    p.ok(&["run", "tokenize"], &[]);
    let manifest = p.stage_dir("tokenize").join("manifest.json");
    let bytes = std::fs::read(&manifest).unwrap();
    std::fs::write(&manifest, &bytes[..bytes.len() / 2]).unwrap(); // a torn write
    let status = p.ok(&["status"], &[]);
    assert!(
        status.contains("tokenize  stale") && status.contains("is not a valid manifest"),
        "{status}"
    );
    assert!(status.contains("train     blocked"), "{status}");
    std::fs::write(&manifest, b"").unwrap(); // what a power loss can leave
    let out = p.ok(&["run", "tokenize"], &[]);
    assert!(out.contains("tokenize  60 files"), "rebuilt: {out}");
    assert!(p.ok(&["status"], &[]).contains("tokenize  fresh"));
}

/// Killed while rewriting (generate, a new sampler setting) or right after replacing its
/// folder (evaluate), a stage leaves no manifest: downstream stages refuse to read the folder
/// instead of taking the old fingerprint for it.
#[test]
fn a_folder_being_rewritten_is_no_finished_output() {
    let p = Project::new();
    p.ok(&["run", "all"], &[]);
    let cfg = p.path("cfg.toml");
    let text0 = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text0.replace("temperature = 0.9", "temperature = 0.8"),
    )
    .unwrap();
    let o = p.run(
        &["run", "generate"],
        &[("CADENZA_FAULT", "generate:after-partition=abort")],
    );
    assert!(!o.status.success());
    assert!(!p.stage_dir("generate").join("manifest.json").exists());
    let o = p.run(&["run", "evaluate"], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no finished generate output"),
        "{}",
        text(&o)
    );
    p.ok(&["run", "generate"], &[]);

    std::fs::write(&cfg, format!("{text0}[evaluate]\nresamples = 100\n")).unwrap();
    let o = p.run(
        &["run", "evaluate"],
        &[("CADENZA_FAULT", "commit:swapped=abort")],
    );
    assert!(!o.status.success());
    assert!(!p.stage_dir("evaluate").join("manifest.json").exists());
    assert!(p.ok(&["status"], &[]).contains("evaluate  missing"));
    p.ok(&["run", "all"], &[]);
    assert!(p.ok(&["status"], &[]).contains("evaluate  fresh"));
}

/// The system calls of `pipeline run tokenize` under strace: every file and folder of the new
/// output is fsynced before the rename that puts it in place, and the parent folder after it;
/// the manifest is fsynced, renamed, then its folder fsynced.
#[test]
fn commits_reach_the_disk_in_protocol_order() {
    if Command::new("strace").arg("-V").output().is_err() {
        skip(
            "the fsync protocol under strace (pipeline::durability)",
            "no strace (apt-get install strace)",
        );
        return;
    }
    let p = Project::new();
    let log = p.path("strace.log");
    let o = Command::new("strace")
        .args([
            "-f",
            "-y",
            "-qq",
            "-e",
            "trace=fsync,rename,renameat,renameat2",
            "-o",
        ])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_pipeline"))
        .args(["run", "tokenize", "--config", "cfg.toml"])
        .current_dir(p.dir.path())
        .env_remove("CADENZA_FAULT")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let calls: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| l.contains("= 0"))
        .map(|l| l.to_string())
        .collect();
    // The first successful call at or after `from` that `what` matches.
    let find = |from: usize, name: &str, what: &dyn Fn(&str) -> bool| {
        calls[from..]
            .iter()
            .position(|l| what(l))
            .map(|i| i + from)
            .unwrap_or_else(|| panic!("no {name} after call {from} in:\n{}", calls.join("\n")))
    };
    let in_tmp = |l: &str| fsync(l) && l.contains("/.remi.tmp-");
    let shard = find(0, "fsync of a new shard", &|l| {
        in_tmp(l) && l.contains("shard-00000.parquet>")
    });
    let folder = find(shard, "fsync of the new folder", &|l| {
        in_tmp(l) && !l.contains(".parquet>") && !l.contains(".json>")
    });
    let swap = find(folder, "rename of the new folder into place", &|l| {
        l.contains("rename") && l.contains("/.remi.tmp-") && l.contains("/remi\"")
    });
    let parent = find(swap, "fsync of tokens/ after the rename", &|l| {
        fsync(l) && l.contains("/tokens>")
    });
    let manifest = find(parent, "fsync of the new manifest", &|l| {
        fsync(l) && l.contains("/.manifest.json.tmp-")
    });
    let renamed = find(manifest, "rename of the manifest into place", &|l| {
        l.contains("rename") && l.contains("/.manifest.json.tmp-")
    });
    find(renamed, "fsync of tokens/remi after the manifest", &|l| {
        fsync(l) && l.contains("/tokens/remi>")
    });
}

/// An `fsync(` line of strace (after the pid column of `-f`).
fn fsync(line: &str) -> bool {
    line.contains(" fsync(") || line.starts_with("fsync(")
}
