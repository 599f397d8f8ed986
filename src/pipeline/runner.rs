//! Runs stages in graph order: freshness check, lock, run, manifest, summary line.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use super::graph::Graph;
use super::lock::Lock;
use super::manifest::Manifest;
use super::stage::{ShardSpec, Stage, StageCtx};
use crate::config::Config;

/// A stage's state as `pipeline status` prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Fresh,
    /// Outputs exist but were made from something else; the reasons say what changed.
    Stale(Vec<String>),
    /// Never finished.
    Missing,
    /// Cannot run yet: an upstream output is missing.
    Blocked(String),
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            State::Fresh => write!(f, "fresh"),
            State::Stale(why) => write!(f, "stale ({})", why.join("; ")),
            State::Missing => write!(f, "missing (never finished)"),
            State::Blocked(why) => write!(f, "blocked ({why})"),
        }
    }
}

/// The file in the raw folder that marks the built-in demo corpus.
pub const DEMO_MARKER: &str = "DEMO_CORPUS.txt";

pub fn is_demo_corpus(cfg: &Config) -> bool {
    cfg.run.raw_dir.join(DEMO_MARKER).exists()
}

pub fn demo_banner() {
    eprintln!(
        "!!! DEMO DATA: data/raw/pop1k7 holds the small built-in synthetic corpus, not Pop1K7. \
         Results say nothing about real music; link or download the real corpus (`make data`). !!!"
    );
}

fn output_dir(stage: &dyn Stage, cfg: &Config, shard: ShardSpec) -> PathBuf {
    let dir = stage.output_dir(cfg);
    if shard.count > 1 {
        dir.join(format!("part-{}-of-{}", shard.index, shard.count))
    } else {
        dir
    }
}

/// Compares what a stage would use now with its manifest.
pub fn state(stage: &dyn Stage, cfg: &Config, shard: ShardSpec) -> Result<State> {
    match stage.inputs(cfg) {
        Ok(inputs) => compare(stage, cfg, shard, &inputs),
        Err(e) => Ok(State::Blocked(format!("{e:#}"))),
    }
}

/// Compares the manifest with these current inputs.
fn compare(
    stage: &dyn Stage,
    cfg: &Config,
    shard: ShardSpec,
    inputs: &BTreeMap<String, String>,
) -> Result<State> {
    let Some(m) = Manifest::read(&output_dir(stage, cfg, shard))? else {
        return Ok(State::Missing);
    };
    let mut why = Vec::new();
    if m.config_hash != stage.config_hash(cfg) {
        why.push(format!(
            "config changed (the sections `{}` uses)",
            stage.name()
        ));
    }
    for (k, v) in inputs {
        match m.inputs.get(k) {
            Some(old) if old == v => {}
            Some(_) => why.push(format!("input `{k}` changed")),
            None => why.push(format!("new input `{k}`")),
        }
    }
    for k in m.inputs.keys().filter(|k| !inputs.contains_key(*k)) {
        why.push(format!("input `{k}` is gone"));
    }
    if m.crate_version != env!("CARGO_PKG_VERSION") {
        why.push(format!(
            "code version changed ({} -> {})",
            m.crate_version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    Ok(if why.is_empty() {
        State::Fresh
    } else {
        State::Stale(why)
    })
}

/// Runs `target` ("all" or a stage). Returns (stage, seconds, ran) for each stage considered.
pub fn run(
    cfg: &Config,
    graph: &Graph,
    stages: &dyn Fn(&str) -> Option<Box<dyn Stage>>,
    target: &str,
    force: bool,
    shard: ShardSpec,
) -> Result<Vec<(String, f64, bool)>> {
    let plan = graph.plan(target)?;
    let demo = is_demo_corpus(cfg);
    let mut report = Vec::new();
    for node in plan {
        let Some(stage) = stages(&node.name) else {
            bail!(
                "stage `{}` is declared in the graph but this build has no such stage",
                node.name
            )
        };
        if shard.count > 1 && node.name != "tokenize" {
            bail!(
                "--shard applies to tokenize only; `{}` runs whole",
                node.name
            );
        }
        let out = output_dir(stage.as_ref(), cfg, shard);
        let _lock = Lock::acquire(&out)?;
        let inputs = stage
            .inputs(cfg)
            .with_context(|| format!("cannot run `{}`", node.name))?;
        let st = compare(stage.as_ref(), cfg, shard, &inputs)?;
        if st == State::Fresh && !force {
            println!("{:<9} fresh, skipped ({})", node.name, out.display());
            report.push((node.name.clone(), 0.0, false));
            continue;
        }
        if demo {
            demo_banner();
        }
        let t0 = Instant::now();
        let ctx = StageCtx { cfg, force, shard };
        let done = stage
            .run(&ctx, &out)
            .with_context(|| format!("stage `{}` failed", node.name))?;
        let wall = t0.elapsed().as_secs_f64();
        let manifest = Manifest {
            stage: node.name.clone(),
            config_hash: stage.config_hash(cfg),
            inputs,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            fingerprint: done.fingerprint,
            counts: done.counts,
            wall_seconds: wall,
            demo_data: demo,
        };
        manifest.write(&out)?;
        println!(
            "{:<9} {} ({wall:.1} s){}",
            node.name,
            done.summary,
            if demo { " [DEMO DATA]" } else { "" }
        );
        report.push((node.name.clone(), wall, true));
    }
    Ok(report)
}

/// Each stage of the graph with its state.
pub fn status(
    cfg: &Config,
    graph: &Graph,
    stages: &dyn Fn(&str) -> Option<Box<dyn Stage>>,
) -> Result<Vec<(String, State)>> {
    let mut out = Vec::new();
    for node in &graph.stages {
        let st = match stages(&node.name) {
            Some(stage) => state(stage.as_ref(), cfg, ShardSpec::ALL)?,
            None => State::Blocked("not part of this build".into()),
        };
        out.push((node.name.clone(), st));
    }
    Ok(out)
}
