//! configs/default.toml itself, end to end (run all, then report), with only its sizes made
//! small (tiny model, 20 steps, two pieces a row): its samplers (pitch nucleus, family temperatures), tasks, baseline, training budget,
//! monitor and audio settings all take the path a user's `make pipeline` takes.

use crate::support::{cli, soundfont, text};

/// The default config with the sizes of a test: a tiny model, a few steps, two pieces a row.
fn small_default(dir: &std::path::Path) -> String {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/default.toml"))
            .unwrap();
    let mut cfg: toml::Table = text.parse().unwrap();
    let mut set = |section: &str, key: &str, value: toml::Value| {
        let mut table = cfg.get_mut(section).unwrap().as_table_mut().unwrap();
        if let Some((sub, k)) = key.split_once('.') {
            table = table.get_mut(sub).unwrap().as_table_mut().unwrap();
            table.insert(k.into(), value);
        } else {
            assert!(table.contains_key(key), "{section}.{key} is in the default");
            table.insert(key.into(), value);
        }
    };
    let path = |p: &str| toml::Value::String(dir.join(p).display().to_string());
    set("run", "raw_dir", path("raw"));
    set("run", "tokens_dir", path("tokens"));
    set("run", "artifacts_dir", path("artifacts"));
    set("tokenize", "songs_per_shard", 16.into());
    set("model", "preset", "tiny".into());
    set("model", "tgt_len", 32.into());
    set("model", "mem_len", 32.into());
    for (key, v) in [
        ("batch_size", 2),
        // The budget measures its speed in the warmup (at least 15 steps).
        ("warmup_steps", 16),
        ("max_steps", 20),
        ("eval_every", 10),
        ("valid_tokens", 256),
        ("checkpoint_every", 10),
        ("log_every", 5),
    ] {
        set("train", key, v.into());
    }
    set("train", "monitor.pieces", 1.into());
    for (key, v) in [
        ("pieces_per_sampler", 2),
        ("unconditional_bars", 4),
        ("prompt_bars", 2),
        ("continuation_bars", 2),
        ("n_prompts", 2),
    ] {
        set("generate", key, v.into());
    }
    set("evaluate", "resamples", 100.into());
    toml::to_string(&cfg).unwrap()
}

#[test]
fn the_default_config_runs_end_to_end() {
    let Some(_) = soundfont("configs/default.toml end to end (pipeline::default_config)") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("default.toml");
    std::fs::write(&cfg, small_default(d.path())).unwrap();
    let demo = cli(
        &cfg,
        &[
            "demo-data",
            "--out",
            d.path().join("raw").to_str().unwrap(),
            "--songs",
            "60",
        ],
        &[],
    );
    assert!(demo.status.success(), "{}", text(&demo));

    let o = cli(&cfg, &["run", "all"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for stage in ["tokenize", "train", "generate", "evaluate", "report"] {
        assert!(
            out.lines().any(|l| l.starts_with(stage)),
            "no `{stage}` line: {out}"
        );
    }
    assert!(
        out.contains("planned by train.budget_minutes"),
        "the budget planned the steps: {out}"
    );

    let report = cli(&cfg, &["report"], &[]);
    assert!(report.status.success(), "{}", text(&report));
    let table = text(&report);
    // Every default sampler in both tasks, the baseline and the real-music ceiling row.
    for sampler in [
        "t1.0_k40_pitchp0.95_prior",
        "t1.0_k40_pitchp0.95_prior_n1.5",
        "t1.0_k40_prior",
    ] {
        for task in ["unconditional", "continuation"] {
            assert!(
                table
                    .lines()
                    .any(|l| l.contains(task) && l.contains(sampler)),
                "no {task}/{sampler} row: {table}"
            );
        }
    }
    assert!(table.contains("baseline"), "{table}");
    assert!(table.contains("reference"), "{table}");

    // Every piece has its audio, and the page exists.
    let generated = d.path().join("artifacts/default/generated");
    let flacs = cadenza::hash::tree_files(&generated)
        .unwrap()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .count();
    assert_eq!(
        flacs,
        2 * 3 * 2 + 2 + 2,
        "12 sampled pieces, 2 baseline pieces, 2 real continuations"
    );
    assert!(
        d.path()
            .join("artifacts/default/report/index.html")
            .is_file()
    );
}
