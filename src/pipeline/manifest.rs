//! manifest.json: what a stage used and made. Written last, so its presence means "complete".

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::stage::{Counts, Inputs, PART_PREFIX};

pub const FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    /// Hash of the config sections the stage used.
    pub config_hash: String,
    /// Fingerprints of the inputs (upstream manifests' fingerprints, or file hashes).
    pub inputs: Inputs,
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
        crate::fsio::write_file(&dir.join(FILE), text.as_bytes())
    }

    /// The manifest of a sharded output: the parts' manifests (folders part-i-of-N/) count as
    /// one once all N are there, with a fingerprint over theirs. `Ok(None)` when there are no
    /// finished parts.
    pub fn read_parts(dir: &Path) -> Result<Option<Manifest>> {
        let mut parts = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(None);
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(PART_PREFIX)
                && let Some(m) = Manifest::read(&e.path())?
            {
                parts.push((name, m));
            }
        }
        parts.sort_by(|a, b| a.0.cmp(&b.0));
        let Some((first, _)) = parts.first() else {
            return Ok(None);
        };
        let Some(total) = first
            .rsplit('-')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return Ok(None);
        };
        if parts.len() != total {
            bail!(
                "{}: {} of {total} shards are finished; run the others first",
                dir.display(),
                parts.len()
            );
        }
        let mut m = parts[0].1.clone();
        let joined: Vec<&str> = parts.iter().map(|(_, p)| p.fingerprint.as_str()).collect();
        m.fingerprint = crate::hash::sha256_hex(joined.join(",").as_bytes());
        m.demo_data = parts.iter().any(|(_, p)| p.demo_data);
        Ok(Some(m))
    }
}
