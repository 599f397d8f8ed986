//! Runs stages in graph order: inputs (upstream fingerprints and the stage's own), freshness,
//! lock, run, manifest, summary line.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::time::Instant;

use super::graph::Graph;
use super::manifest::{Manifest, damaged_outputs, record_outputs};
use super::stage::{Inputs, Job, ShardSpec, Stage};
use crate::fsio::Lock;

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

/// How to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Run even when fresh.
    pub force: bool,
    pub shard: ShardSpec,
    /// The input is the built-in demo corpus: say so before each stage and in its manifest.
    pub demo: bool,
}

/// One stage considered by [`run`].
#[derive(Debug, Clone, PartialEq)]
pub struct StageRun {
    pub stage: &'static str,
    pub seconds: f64,
    /// False when it was fresh and skipped.
    pub ran: bool,
}

fn output_dir<C>(stage: &dyn Stage<C>, ctx: &C, shard: ShardSpec) -> PathBuf {
    shard.part_dir(&stage.output_dir(ctx))
}

/// The finished output of `stage` (one manifest, or all parts of a sharded one).
fn finished<C>(stage: &dyn Stage<C>, ctx: &C) -> Result<Option<Manifest>> {
    let dir = stage.output_dir(ctx);
    match Manifest::read(&dir)? {
        Some(m) => Ok(Some(m)),
        None if stage.shardable() => Manifest::read_parts(&dir),
        None => Ok(None),
    }
}

/// What a stage would use now: its upstream stages' fingerprints and its own inputs. Fails,
/// naming the stage to run first, when a required upstream output is missing.
pub fn inputs<C>(graph: &Graph<C>, stage: &dyn Stage<C>, ctx: &C) -> Result<Inputs> {
    let mut inputs = Inputs::new();
    for up in stage.upstream() {
        let Some(upstream) = graph.get(up.stage) else {
            bail!("stage `{}` is not in the graph", up.stage);
        };
        match finished(upstream, ctx)? {
            Some(m) => {
                inputs.insert(up.stage.to_string(), m.fingerprint);
            }
            None if up.required => bail!(
                "no finished `{0}` output in {1}: run `pipeline run {0}` first",
                up.stage,
                upstream.output_dir(ctx).display()
            ),
            None => {}
        }
    }
    inputs.extend(stage.own_inputs(ctx)?);
    Ok(inputs)
}

/// Compares what a stage would use now with its manifest.
pub fn state<C>(
    graph: &Graph<C>,
    stage: &dyn Stage<C>,
    ctx: &C,
    shard: ShardSpec,
) -> Result<State> {
    match inputs(graph, stage, ctx) {
        Ok(inputs) => compare(stage, ctx, shard, &inputs),
        Err(e) => Ok(State::Blocked(format!("{e:#}"))),
    }
}

/// Compares the manifest with these current inputs.
fn compare<C>(stage: &dyn Stage<C>, ctx: &C, shard: ShardSpec, inputs: &Inputs) -> Result<State> {
    let Some(m) = Manifest::read(&output_dir(stage, ctx, shard))? else {
        return Ok(State::Missing);
    };
    let mut why = Vec::new();
    if m.config_hash != stage.config_hash(ctx) {
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
    why.extend(damaged_outputs(&output_dir(stage, ctx, shard), &m.outputs));
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

/// Runs `target` ("all" or a stage) and returns each stage considered, in order.
pub fn run<C>(graph: &Graph<C>, ctx: &C, target: &str, opts: RunOptions) -> Result<Vec<StageRun>> {
    let mut report = Vec::new();
    for stage in graph.plan(target)? {
        let name = stage.name();
        if opts.shard.count > 1 && !stage.shardable() {
            let split: Vec<&str> = graph
                .stages()
                .iter()
                .filter(|s| s.shardable())
                .map(|s| s.name())
                .collect();
            bail!(
                "--shard applies to {} only; `{name}` runs whole",
                split.join(", ")
            );
        }
        let out = output_dir(stage, ctx, opts.shard);
        let _lock = Lock::acquire(&out)?;
        crate::fsio::atomic::recover(&out)?;
        let inputs = inputs(graph, stage, ctx).with_context(|| format!("cannot run `{name}`"))?;
        if !opts.force && compare(stage, ctx, opts.shard, &inputs)? == State::Fresh {
            println!("{name:<9} fresh, skipped ({})", out.display());
            report.push(StageRun {
                stage: name,
                seconds: 0.0,
                ran: false,
            });
            continue;
        }
        if opts.demo {
            crate::demo::banner();
        }
        crate::fsio::fault::point(&format!("{name}:start"))?;
        let t0 = Instant::now();
        let job = Job {
            out: &out,
            inputs: &inputs,
            force: opts.force,
            shard: opts.shard,
        };
        let done = stage
            .run(ctx, &job)
            .with_context(|| format!("stage `{name}` failed"))?;
        let wall = t0.elapsed().as_secs_f64();
        let manifest = Manifest {
            stage: name.to_string(),
            config_hash: stage.config_hash(ctx),
            inputs,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            fingerprint: done.fingerprint,
            counts: done.counts,
            wall_seconds: wall,
            demo_data: opts.demo,
            outputs: record_outputs(&out)?,
        };
        manifest.write(&out)?;
        let tag = if opts.demo { " [DEMO DATA]" } else { "" };
        println!("{name:<9} {} ({wall:.1} s){tag}", done.summary);
        report.push(StageRun {
            stage: name,
            seconds: wall,
            ran: true,
        });
    }
    Ok(report)
}

/// Each stage of the graph with its state, in run order.
pub fn status<C>(graph: &Graph<C>, ctx: &C) -> Result<Vec<(&'static str, State)>> {
    graph
        .stages()
        .iter()
        .map(|s| Ok((s.name(), state(graph, *s, ctx, ShardSpec::ALL)?)))
        .collect()
}
