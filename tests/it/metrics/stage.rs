//! The evaluate stage through the runner: blocked before tokenize, fresh after a run, stale when
//! a generated piece changes, and its manifest lands beside the tables.

use crate::support::write;
use cadenza::config::Config;
use cadenza::midi::{Note, Song, write_bytes};
use cadenza::pipeline::runner::state;
use cadenza::pipeline::{RunOptions, ShardSpec, State, run};
use cadenza::stages::{self, Ctx};
use std::path::Path;

fn write_midi(path: &Path, pitches: &[u8]) {
    let notes: Vec<Note> = pitches
        .iter()
        .enumerate()
        .map(|(i, &pitch)| {
            let start = i as u32 * 480;
            Note {
                start,
                end: start + 240,
                pitch,
                velocity: 80,
            }
        })
        .collect();
    write(
        path,
        &write_bytes(&Song {
            notes,
            ..Default::default()
        }),
    );
}

#[test]
fn evaluate_stage_tracks_tokenize_and_generated_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let text = format!(
        "[run]\nname = \"t\"\nraw_dir = \"{0}/raw\"\ntokens_dir = \"{0}/tokens\"\nartifacts_dir = \"{0}/artifacts\"\n",
        root.display()
    );
    let cfg = Config::parse(&text, Path::new("test.toml")).unwrap();
    for i in 0..40u8 {
        write_midi(
            &cfg.run.raw_dir.join(format!("src_001/{i}.mid")),
            &[60 + i % 12, 64, 67, 72, 60, 62],
        );
    }
    let ctx = Ctx::new(cfg);
    let graph = stages::graph().unwrap();
    let evaluate = graph.get("evaluate").expect("evaluate is a stage");
    let opts = RunOptions {
        force: false,
        shard: ShardSpec::ALL,
        demo: false,
    };

    let blocked = state(&graph, evaluate, &ctx, ShardSpec::ALL).unwrap();
    assert!(
        matches!(&blocked, State::Blocked(why) if why.contains("pipeline run tokenize")),
        "{blocked:?}"
    );

    run(&graph, &ctx, "tokenize", opts).unwrap();
    let sampler = ctx
        .layout
        .generated_dir()
        .join("task=unconditional/sampler=t0.9");
    write_midi(
        &sampler.join("000.mid"),
        &[60, 62, 64, 65, 67, 69, 71, 72, 74],
    );
    run(&graph, &ctx, "evaluate", opts).unwrap();

    let metrics = ctx.layout.metrics_dir();
    assert!(metrics.join("manifest.json").is_file());
    assert!(metrics.join("summary.parquet").is_file());
    assert!(
        metrics
            .join("pieces/task=unconditional/sampler=t0.9/part-0.parquet")
            .is_file()
    );
    assert_eq!(
        state(&graph, evaluate, &ctx, ShardSpec::ALL).unwrap(),
        State::Fresh
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(metrics.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["counts"]["errors"], 0);
    let files = manifest["counts"]["files"].as_u64().unwrap();
    assert!(files >= 1, "{manifest}");

    // A new generated piece makes evaluate stale; rerunning makes it fresh and scores it.
    write_midi(&sampler.join("001.mid"), &[60, 60, 60]);
    let st = state(&graph, evaluate, &ctx, ShardSpec::ALL).unwrap();
    assert!(
        matches!(&st, State::Stale(why) if why.iter().any(|w| w.contains("generated"))),
        "{st:?}"
    );
    run(&graph, &ctx, "evaluate", opts).unwrap();
    assert_eq!(
        state(&graph, evaluate, &ctx, ShardSpec::ALL).unwrap(),
        State::Fresh
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(metrics.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["counts"]["files"].as_u64().unwrap(), files + 1);
    let n = super::query(
        &metrics,
        ctx.layout.tokens_dir(),
        "SELECT count(*) AS n FROM pieces WHERE task = 'unconditional' AND scope = 'piece'",
    )
    .unwrap();
    assert_eq!(
        n.column("n").unwrap().get(0).unwrap().extract::<u64>(),
        Some(2)
    );
}
