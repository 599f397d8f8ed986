//! manifest.json: what a stage used and made. Written last, so its presence means "complete".

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::stage::{Counts, Inputs, ShardSpec};

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

/// What a folder's manifest.json says about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// No manifest: the folder never finished (or a stage is rewriting it).
    Absent,
    /// A manifest that cannot be read or parsed (what a power loss can leave): the folder is
    /// stale, never an error that stops `status` or `run`.
    Damaged(String),
    Complete(Manifest),
}

impl Manifest {
    /// The manifest of `dir`, or why there is none.
    pub fn find(dir: &Path) -> Found {
        let path = dir.join(FILE);
        let text = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Found::Absent,
            Err(e) => return Found::Damaged(format!("cannot read {}: {e}", path.display())),
        };
        match serde_json::from_slice(&text) {
            Ok(m) => Found::Complete(m),
            Err(e) => Found::Damaged(format!("{} is not a valid manifest: {e}", path.display())),
        }
    }

    /// The manifest of `dir`: `Ok(None)` when there is none, an error when it is damaged.
    pub fn read(dir: &Path) -> Result<Option<Manifest>> {
        match Manifest::find(dir) {
            Found::Absent => Ok(None),
            Found::Damaged(why) => bail!("{why}"),
            Found::Complete(m) => Ok(Some(m)),
        }
    }

    /// This manifest with the outputs under `dir` recorded anew (after a command changed them
    /// on purpose).
    pub fn with_outputs_of(mut self, dir: &Path) -> Result<Manifest> {
        self.outputs = record_outputs(dir)?;
        Ok(self)
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::fsio::write_file(&dir.join(FILE), text.as_bytes())
    }

    /// Removes the manifest of `dir` (durably), so that the folder no longer counts as
    /// finished: what a stage that rewrites its folder in place does before it starts.
    pub fn remove(dir: &Path) -> Result<()> {
        let path = dir.join(FILE);
        match std::fs::remove_file(&path) {
            Ok(()) => crate::fsio::atomic::sync_parent(&path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }

    /// The manifest of a sharded output: the parts' manifests (folders part-i-of-N/) count as
    /// one once all N are there, with a fingerprint over theirs. `Ok(None)` when there are no
    /// parts; an error naming what is missing when they are incomplete or from different N.
    pub fn read_parts(dir: &Path) -> Result<Option<Manifest>> {
        let parts = part_dirs(dir);
        let Some(&(first, _)) = parts.first() else {
            return Ok(None);
        };
        let mut finished = Vec::new();
        for (spec, path) in &parts {
            if spec.count != first.count {
                bail!(
                    "{}: parts of different splits (of {} and of {}): run `pipeline run <stage> --shard i/N` for one N only",
                    dir.display(),
                    first.count,
                    spec.count
                );
            }
            if let Found::Complete(m) = Manifest::find(path) {
                finished.push(m);
            }
        }
        if finished.len() != first.count {
            bail!(
                "{}: {} of {} shards are finished; run the others first",
                dir.display(),
                finished.len(),
                first.count
            );
        }
        let mut m = finished[0].clone();
        let joined: Vec<&str> = finished.iter().map(|p| p.fingerprint.as_str()).collect();
        m.fingerprint = crate::hash::sha256_hex(joined.join(",").as_bytes());
        m.demo_data = finished.iter().any(|p| p.demo_data);
        Ok(Some(m))
    }
}

/// The part folders (`part-i-of-N`) of a sharded output, sorted by N then i.
pub fn part_dirs(dir: &Path) -> Vec<(ShardSpec, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut parts: Vec<(ShardSpec, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let spec = ShardSpec::of_part_name(&e.file_name().to_string_lossy())?;
            Some((spec, e.path()))
        })
        .collect();
    parts.sort_by_key(|(s, _)| (s.count, s.index));
    parts
}
