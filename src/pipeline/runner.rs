//! Runs stages in graph order: inputs (upstream fingerprints and the stage's own), freshness,
//! lock, run, manifest, summary line.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::time::Instant;

use super::graph::Graph;
use super::manifest::{Found, Manifest, damaged_outputs, part_dirs, record_outputs};
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

/// The finished output of `stage` (one manifest, or all parts of a sharded one). A damaged
/// manifest is no finished output.
fn finished<C>(stage: &dyn Stage<C>, ctx: &C) -> Result<Option<Manifest>> {
    let dir = stage.output_dir(ctx);
    match Manifest::find(&dir) {
        Found::Complete(m) => Ok(Some(m)),
        Found::Absent if stage.shardable() => Manifest::read_parts(&dir),
        Found::Absent | Found::Damaged(_) => Ok(None),
    }
}

/// What a stage would use now: its upstream stages' fingerprints and its own inputs. Fails,
/// naming the stage to run first, when a required upstream output is missing.
pub fn inputs<C>(graph: &Graph<C>, stage: &dyn Stage<C>, ctx: &C) -> Result<Inputs> {
    let mut inputs = Inputs::new();
    for up in stage.upstream() {
        let upstream = upstream_stage(graph, up.stage)?;
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

fn upstream_stage<'g, C>(graph: &'g Graph<C>, name: &str) -> Result<&'g dyn Stage<C>> {
    match graph.get(name) {
        Some(s) => Ok(s),
        None => bail!("stage `{name}` is not in the graph"),
    }
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

/// A sharded output without a whole manifest, compared part by part: fresh when all N parts
/// of one N are there and each is fresh.
fn compare_parts<C>(stage: &dyn Stage<C>, ctx: &C, inputs: &Inputs) -> Result<State> {
    let parts = part_dirs(&stage.output_dir(ctx));
    let Some(&(first, _)) = parts.first() else {
        return Ok(State::Missing);
    };
    let mut why = Vec::new();
    if let Some((other, _)) = parts.iter().find(|(s, _)| s.count != first.count) {
        why.push(format!(
            "parts of different splits (of {} and of {})",
            first.count, other.count
        ));
    }
    for index in 0..first.count {
        let spec = ShardSpec {
            index,
            count: first.count,
        };
        let part = format!("part {index}/{}", first.count);
        match compare(stage, ctx, spec, inputs)? {
            State::Fresh => {}
            State::Missing => why.push(format!("{part} never finished")),
            State::Stale(w) => why.push(format!("{part}: {}", w.join("; "))),
            State::Blocked(w) => why.push(format!("{part}: {w}")),
        }
    }
    Ok(if why.is_empty() {
        State::Fresh
    } else {
        State::Stale(why)
    })
}

/// Compares the manifest with these current inputs.
fn compare<C>(stage: &dyn Stage<C>, ctx: &C, shard: ShardSpec, inputs: &Inputs) -> Result<State> {
    let m = match Manifest::find(&output_dir(stage, ctx, shard)) {
        Found::Complete(m) => m,
        Found::Damaged(why) => return Ok(State::Stale(vec![why])),
        Found::Absent if shard == ShardSpec::ALL && stage.shardable() => {
            return compare_parts(stage, ctx, inputs);
        }
        Found::Absent => return Ok(State::Missing),
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
        let _locks = lock_output(stage, ctx, opts.shard)?;
        let _reading = lock_upstream(graph, stage, ctx)?;
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
        if stage.in_place() {
            // Until its new manifest is written, the folder is not a finished output.
            Manifest::remove(&out)?;
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

/// The locks a run of `stage` holds while it writes: the output alone for a whole run; for a
/// `--shard i/N` run its part alone and the output shared with the other parts. The first part
/// to start replaces what is not a part of this N (a whole output, parts of another N), taking
/// the output alone for that moment.
fn lock_output<C>(stage: &dyn Stage<C>, ctx: &C, shard: ShardSpec) -> Result<Vec<Lock>> {
    let whole = stage.output_dir(ctx);
    if shard.count <= 1 {
        return Ok(vec![Lock::acquire(&whole)?]);
    }
    let foreign = || not_parts_of(&whole, shard.count);
    match Lock::acquire(&whole) {
        Ok(alone) => {
            remove_foreign(&whole, &foreign()?)?;
            drop(alone);
        }
        Err(e) if !foreign()?.is_empty() => {
            return Err(e.context(format!(
                "cannot replace {} by parts of {}",
                whole.display(),
                shard.count
            )));
        }
        Err(_) => {}
    }
    Ok(vec![
        Lock::shared(&whole)?,
        Lock::acquire(&shard.part_dir(&whole))?,
    ])
}

/// What in a sharded output folder is not a part of `count`: the entries of a whole output
/// (its manifest first) and parts of another N. Hidden files and lock files stay.
fn not_parts_of(whole: &std::path::Path, count: usize) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(whole) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for e in entries {
        let e = e.with_context(|| format!("cannot list {}", whole.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = ShardSpec::of_part_name(&name).is_some_and(|s| s.count == count);
        if !ours && !name.starts_with('.') && !name.ends_with(".lock") {
            found.push(e.path());
        }
    }
    found.sort_by_key(|p| !p.ends_with(super::manifest::FILE));
    Ok(found)
}

fn remove_foreign(whole: &std::path::Path, foreign: &[PathBuf]) -> Result<()> {
    for path in foreign {
        crate::fsio::atomic::remove_entry(path)
            .with_context(|| format!("cannot remove {}", path.display()))?;
    }
    if !foreign.is_empty() {
        crate::fsio::atomic::sync(whole)?;
    }
    Ok(())
}

/// Shared locks on the outputs `stage` reads, so that no run replaces them meanwhile.
fn lock_upstream<C>(graph: &Graph<C>, stage: &dyn Stage<C>, ctx: &C) -> Result<Vec<Lock>> {
    stage
        .upstream()
        .iter()
        .map(|up| Lock::shared(&upstream_stage(graph, up.stage)?.output_dir(ctx)))
        .collect()
}

/// Each stage of the graph with its state, in run order. An output that an interrupted commit
/// left aside is put back first, where no run is writing it (what the next run would do).
pub fn status<C>(graph: &Graph<C>, ctx: &C) -> Result<Vec<(&'static str, State)>> {
    graph
        .stages()
        .iter()
        .map(|s| {
            let out = s.output_dir(ctx);
            if crate::fsio::atomic::interrupted(&out)
                && let Ok(_alone) = Lock::acquire(&out)
            {
                crate::fsio::atomic::recover(&out)?;
            }
            Ok((s.name(), state(graph, *s, ctx, ShardSpec::ALL)?))
        })
        .collect()
}
