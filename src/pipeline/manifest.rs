//! manifest.json: what a stage used and made. Written last, so its presence means "complete".

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::stage::{Counts, Inputs, PART_PREFIX};

pub const FILE: &str = "manifest.json";

/// One file a stage wrote, as it left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputFile {
    pub size: u64,
    /// Modification time (ns since the epoch): while it is unchanged the file is not re-hashed.
    pub modified_ns: u64,
    pub sha256: String,
}

/// Every file under `dir` (relative path -> record), but the manifest and hidden files.
pub fn record_outputs(dir: &Path) -> Result<BTreeMap<String, OutputFile>> {
    let files = crate::hash::tree_files(dir)?;
    files
        .par_iter()
        .filter_map(|path| {
            let rel = path
                .strip_prefix(dir)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            let hidden = rel.split('/').any(|part| part.starts_with('.'));
            (rel != FILE && !hidden).then_some((rel, path))
        })
        .map(|(rel, path)| {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let record = OutputFile {
                size: bytes.len() as u64,
                modified_ns: modified_ns(path).unwrap_or(0),
                sha256: crate::hash::sha256_hex(&bytes),
            };
            Ok((rel, record))
        })
        .collect()
}

fn modified_ns(path: &Path) -> Option<u64> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_nanos() as u64)
}

/// What happened to the recorded outputs under `dir` since: one line per file that is missing
/// or changed. A file with its recorded size and modification time is taken as unchanged;
/// another time makes it hashed again.
pub fn damaged_outputs(dir: &Path, outputs: &BTreeMap<String, OutputFile>) -> Vec<String> {
    let mut why: Vec<String> = outputs
        .par_iter()
        .filter_map(|(rel, rec)| {
            let path = dir.join(rel);
            let Ok(meta) = std::fs::metadata(&path) else {
                return Some(format!("output `{rel}` is missing"));
            };
            let changed = meta.len() != rec.size
                || (modified_ns(&path) != Some(rec.modified_ns)
                    && std::fs::read(&path)
                        .map(|b| crate::hash::sha256_hex(&b) != rec.sha256)
                        .unwrap_or(true));
            changed.then(|| format!("output `{rel}` changed"))
        })
        .collect();
    why.sort();
    why
}

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
    /// Every file the stage wrote (see [`record_outputs`]), so that a damaged or deleted output
    /// makes the stage stale.
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputFile>,
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

    /// Records the outputs under `dir` anew (after a command changed them on purpose).
    pub fn refresh_outputs(dir: &Path) -> Result<()> {
        if let Some(mut m) = Manifest::read(dir)? {
            m.outputs = record_outputs(dir)?;
            m.write(dir)?;
        }
        Ok(())
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
