//! `pipeline bench`: each stage's speed beside a peer baseline measured in the same run.
//! Peers are Python packages installed by scripts/bench/venv.sh into a venv under /tmp.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

use crate::model::{TransformerXlConfig, Window};
use crate::train::TrainConfig;

pub mod evaluate;
pub mod generate;
pub mod tokenize;
pub mod train;
pub mod window;

/// Runs a Python peer script from scripts/bench/ in the bench venv (created on first use with
/// `packages`) and parses the JSON line it prints last.
pub fn python_peer(packages: &[&str], script: &str, args: &[&str]) -> Result<serde_json::Value> {
    let out = Command::new("scripts/bench/venv.sh")
        .args(packages)
        .output()
        .context(
            "cannot run scripts/bench/venv.sh (run `pipeline bench` from the repository root)",
        )?;
    if !out.status.success() {
        bail!(
            "cannot set up the peer venv: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = Command::new(&python)
        .arg(Path::new("scripts/bench").join(script))
        .args(args)
        .output()
        .with_context(|| format!("cannot run {script}"))?;
    if !out.status.success() {
        bail!(
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last).with_context(|| format!("{script} printed no JSON result: {stdout}"))
}

/// What the benchmarks measure: the corpus, and the configured model and training settings.
pub struct BenchInputs<'a> {
    pub raw_dir: &'a Path,
    pub songs_per_shard: usize,
    pub model: TransformerXlConfig,
    pub train: &'a TrainConfig,
    /// The decoder window generation uses.
    pub window: Window,
    /// Timed steps of the training benchmark, after `warmup` untimed ones.
    pub train_steps: usize,
    pub warmup: usize,
    /// The run's train folder and token shards (`window`, which measures the trained model).
    pub train_dir: &'a Path,
    pub tokens_dir: &'a Path,
    /// Valid songs and tokens per song that `window` scores.
    pub window_songs: usize,
    pub window_tokens: usize,
}

/// The benchmarks, in the order `all` runs them.
pub const BENCHMARKS: [&str; 4] = ["tokenize", "evaluate", "train", "generate"];

/// Runs the named benchmark (`all` for every speed benchmark; `window` measures a trained model
/// and runs only when named) and prints each report.
pub fn run(which: &str, b: &BenchInputs) -> Result<()> {
    if which == "window" {
        let report = window::report(b.train_dir, b.tokens_dir, b.window_songs, b.window_tokens)?;
        println!("{report}");
        return Ok(());
    }
    if which != "all" && !BENCHMARKS.contains(&which) {
        bail!(
            "unknown benchmark `{which}`; benchmarks are: {}, all, or window",
            BENCHMARKS.join(", ")
        );
    }
    for name in BENCHMARKS
        .into_iter()
        .filter(|n| which == "all" || *n == which)
    {
        let report = match name {
            "tokenize" => tokenize::bench(b.raw_dir, b.songs_per_shard)?,
            "evaluate" => evaluate::bench(b.raw_dir)?,
            "train" => train::report(b.train, &b.model, b.warmup, b.train_steps)?,
            _ => generate::bench_generate(&b.model, b.window)?,
        };
        println!("{report}");
    }
    Ok(())
}
