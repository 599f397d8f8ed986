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
        let model = crate::stages::train::model_config(cfg);
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
/// tokens; on CPU beside the PyTorch reference of the same shape, batch and dropout
/// (scripts/bench/train_peer.py, torch installed into the bench venv on first use).
fn train_report(cfg: &Config, t: TrainSteps) -> Result<String> {
    let m = crate::stages::train::model_config(cfg);
    let r = crate::train::backend::bench_on_configured_backend(&cfg.train, &m, t.warmup, t.steps)?;
    let mut report = format!(
        "train benchmark ({} layers, d_model {}, tgt/mem {}/{}, batch {}, dropout {}, {} {}, {} timed steps)\n  \
         cadenza (Burn): {:.0} tokens/s, {:.1} ms/step",
        m.n_layer,
        m.d_model,
        m.tgt_len,
        m.mem_len,
        r.batch_size,
        m.dropout,
        cfg.train.backend,
        cfg.train.precision,
        r.steps,
        r.tokens_per_sec,
        r.ms_per_step,
    );
    if cfg.train.backend != "cpu" {
        return Ok(report);
    }
    let arg = |v: usize| v.to_string();
    let args = [
        ("--n-layer", arg(m.n_layer)),
        ("--d-model", arg(m.d_model)),
        ("--n-head", arg(m.n_head)),
        ("--d-inner", arg(m.d_inner)),
        ("--tgt-len", arg(m.tgt_len)),
        ("--mem-len", arg(m.mem_len)),
        ("--vocab", arg(m.vocab_size)),
        ("--batch", arg(r.batch_size)),
        ("--dropout", m.dropout.to_string()),
        ("--warmup", arg(t.warmup)),
        ("--steps", arg(t.steps)),
    ];
    let args: Vec<&str> = args.iter().flat_map(|(k, v)| [*k, v.as_str()]).collect();
    match python_peer(&["torch"], "train_peer.py", &args) {
        Ok(v) => {
            let peer = v["tokens_per_sec"].as_f64().unwrap_or(f64::NAN);
            report += &format!(
                "\n  PyTorch {} ({} threads), same shape and step: {peer:.0} tokens/s\n  \
                 ratio cadenza/PyTorch: {:.2}x. Target: 1.0x",
                v["torch"].as_str().unwrap_or("?"),
                v["threads"],
                r.tokens_per_sec / peer
            );
        }
        Err(e) => report += &format!("\n  PyTorch peer unavailable: {e:#}"),
    }
    Ok(report)
}
