//! manifest.json: what a stage used and made. Written last, so its presence means "complete".

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use super::stage::Counts;
use crate::config::Config;

pub const FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    /// Hash of the config sections the stage used.
    pub config_hash: String,
    /// Fingerprints of the inputs (upstream manifests' fingerprints, or file hashes).
    pub inputs: BTreeMap<String, String>,
    pub crate_version: String,
    /// Hash of what the stage wrote; downstream stages record it as their input.
    pub fingerprint: String,
    pub counts: Counts,
    pub wall_seconds: f64,
    /// True when the input was the built-in demo corpus, not Pop1K7.
    #[serde(default)]
    pub demo_data: bool,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let m = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid manifest", path.display()))?;
        Ok(Some(m))
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        super::atomic::write_file(&dir.join(FILE), text.as_bytes())
    }
}

/// The output folder of a stage, by name (the layout of DESIGN.md).
pub fn stage_dir(cfg: &Config, stage: &str) -> Result<std::path::PathBuf> {
    Ok(match stage {
        "tokenize" => cfg.tokens_dir(),
        "train" => cfg.run_dir().join("train"),
        "generate" => cfg.run_dir().join("generated"),
        "evaluate" => cfg.run_dir().join("metrics"),
        other => bail!("unknown stage `{other}`"),
    })
}

/// The fingerprint of an upstream stage's finished output, or an error that says which stage
/// to run first.
pub fn upstream_fingerprint(cfg: &Config, stage: &str) -> Result<String> {
    Ok(upstream_manifest(cfg, stage)?.fingerprint)
}

pub fn upstream_manifest(cfg: &Config, stage: &str) -> Result<Manifest> {
    let dir = stage_dir(cfg, stage)?;
    match Manifest::read(&dir)? {
        Some(m) => Ok(m),
        None if stage == "tokenize" => merged_shard_manifest(&dir),
        None => bail!(
            "no finished `{stage}` output in {}: run `pipeline run {stage}` first",
            dir.display()
        ),
    }
}

/// Tokens made by N `--shard i/N` runs (folders part-i-of-N/) count as one output once all N
/// parts are there.
fn merged_shard_manifest(dir: &Path) -> Result<Manifest> {
    let missing = || {
        anyhow::anyhow!(
            "no finished `tokenize` output in {}: run `pipeline run tokenize` first",
            dir.display()
        )
    };
    let mut parts = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|_| missing())?.flatten() {
        if e.file_name().to_string_lossy().starts_with("part-") {
            if let Some(m) = Manifest::read(&e.path())? {
                parts.push((e.file_name().to_string_lossy().into_owned(), m));
            }
        }
    }
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    let Some((first, _)) = parts.first() else {
        return Err(missing());
    };
    let total: usize = first
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(missing)?;
    if parts.len() != total {
        bail!(
            "{}: {} of {total} tokenize shards are finished; run the others first",
            dir.display(),
            parts.len()
        );
    }
    let mut m = parts[0].1.clone();
    let joined: Vec<&str> = parts.iter().map(|(_, p)| p.fingerprint.as_str()).collect();
    m.fingerprint = crate::hash::sha256_hex(joined.join(",").as_bytes());
    m.demo_data = parts.iter().any(|(_, p)| p.demo_data);
    Ok(m)
}
