//! `pipeline bench`: each stage's speed beside a peer baseline measured in the same run.
//! Peers are Python packages installed by scripts/bench/venv.sh into a venv under /tmp.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

use crate::config::Config;

pub mod tokenize;

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

/// Steps of the training benchmark.
#[derive(Debug, Clone, Copy)]
pub struct TrainSteps {
    pub warmup: usize,
    pub steps: usize,
}

/// Runs the named benchmark ("all" for every one) and prints its report.
pub fn run(cfg: &Config, which: &str, train: TrainSteps) -> Result<()> {
    let all = which == "all";
    let mut ran = false;
    if all || which == "tokenize" {
        println!("{}", tokenize::bench(cfg)?);
        ran = true;
    }
    if all || which == "evaluate" {
        println!("{}", crate::metrics::bench::bench(cfg)?);
        ran = true;
    }
    if all || which == "train" {
        println!("{}", train_report(cfg, train)?);
        ran = true;
    }
    if all || which == "generate" {
        let model = cfg.model.resolve(crate::remi::Vocab::SIZE);
        println!("{}", crate::generate::bench_generate(&model)?);
        ran = true;
    }
    if !ran {
        bail!(
            "unknown benchmark `{which}`; benchmarks are: tokenize, evaluate, train, generate, or all"
        );
    }
    Ok(())
}

/// Training throughput of the configured model, batch, backend and precision on synthetic
/// tokens; the last line is JSON (scripts/bench_train.sh reads it to compare with PyTorch).
fn train_report(cfg: &Config, t: TrainSteps) -> Result<String> {
    let model = cfg.model.resolve(crate::remi::Vocab::SIZE);
    let r =
        crate::train::backend::bench_on_configured_backend(&cfg.train, &model, t.warmup, t.steps)?;
    let mut line = serde_json::to_value(&r)?;
    line["impl"] = "burn".into();
    line["backend"] = cfg.train.backend.clone().into();
    line["precision"] = cfg.train.precision.clone().into();
    // The shape, so a peer can build the same model.
    line["model"] = serde_json::json!({
        "n_layer": model.n_layer, "d_model": model.d_model, "n_head": model.n_head,
        "d_inner": model.d_inner, "tgt_len": model.tgt_len, "mem_len": model.mem_len,
        "vocab": model.vocab_size,
    });
    Ok(format!(
        "train benchmark ({} layers, d_model {}, tgt/mem {}/{}, batch {}, {} {}): {:.0} tokens/s, {:.1} ms/step over {} steps\n{line}",
        model.n_layer,
        model.d_model,
        model.tgt_len,
        model.mem_len,
        r.batch_size,
        cfg.train.backend,
        cfg.train.precision,
        r.tokens_per_sec,
        r.ms_per_step,
        r.steps
    ))
}
