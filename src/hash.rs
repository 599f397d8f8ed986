//! Content hashes used for song ids, splits, fingerprints and manifests.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::path::{Path, PathBuf};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Hash over files (their paths relative to `root`, and their bytes), in the order given.
/// Lengths prefix both, so no two different sets of files hash alike.
pub fn files_fingerprint(root: &Path, files: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(hex(&h.finalize()))
}

/// Every file under `dir`, any depth, sorted; none when `dir` does not exist.
pub fn tree_files(dir: &Path) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let p = e?.path();
            if p.is_dir() {
                walk(&p, out)?
            } else {
                out.push(p)
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    if dir.is_dir() {
        walk(dir, &mut files)?;
    }
    files.sort();
    Ok(files)
}

/// The file in a folder that lists the SHA-256 of the folder's other files.
pub const CHECKSUMS_FILE: &str = "checksums.json";

/// Writes [`CHECKSUMS_FILE`] into `dir`: the SHA-256 of every file directly in it, except the
/// names in `skip` (and the list itself).
pub fn write_checksums(dir: &Path, skip: &[&str]) -> Result<()> {
    let mut sums = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let p = e?.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_file() && name != CHECKSUMS_FILE && !skip.contains(&name.as_str()) {
            let bytes =
                std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            sums.insert(name, sha256_hex(&bytes));
        }
    }
    let text = serde_json::to_string_pretty(&sums)?;
    std::fs::write(dir.join(CHECKSUMS_FILE), text)
        .with_context(|| format!("cannot write {}", dir.join(CHECKSUMS_FILE).display()))
}

/// The first file of `dir` that is missing or does not match [`CHECKSUMS_FILE`]; `Ok(None)`
/// when all match, or when the folder has no list (written before lists existed).
pub fn damaged_file(dir: &Path) -> Result<Option<PathBuf>> {
    let list = dir.join(CHECKSUMS_FILE);
    let Ok(text) = std::fs::read_to_string(&list) else {
        return Ok(None);
    };
    let sums: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&text).with_context(|| format!("{} is damaged", list.display()))?;
    for (file, sum) in &sums {
        let p = dir.join(file);
        if !std::fs::read(&p).is_ok_and(|b| sha256_hex(&b) == *sum) {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// [`files_fingerprint`] of everything under `dir`.
pub fn tree_fingerprint(dir: &Path) -> Result<String> {
    files_fingerprint(dir, &tree_files(dir)?)
}
