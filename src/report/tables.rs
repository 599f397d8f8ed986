//! Reading the upstream Parquet tables with Polars, tolerantly: a missing column reads as all
//! nulls and numbers of any type read as f64, so the page survives small schema changes.

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};
use std::path::{Path, PathBuf};

/// A whole Parquet file.
pub fn read_frame(path: &Path) -> Result<DataFrame> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .with_context(|| format!("cannot read {}", path.display()))
}

/// A column as f64 (cast from any numeric type); all nulls when absent or not numeric.
pub fn f64s(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let cast = df
        .column(name)
        .ok()
        .and_then(|c| c.cast(&DataType::Float64).ok());
    match cast.as_ref().and_then(|c| c.f64().ok()) {
        Some(ca) => ca.iter().collect(),
        None => vec![None; df.height()],
    }
}

/// A column as strings (numbers are printed); all nulls when absent.
pub fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let cast = df
        .column(name)
        .ok()
        .and_then(|c| c.cast(&DataType::String).ok());
    match cast.as_ref().and_then(|c| c.str().ok()) {
        Some(ca) => ca.iter().map(|v| v.map(str::to_string)).collect(),
        None => vec![None; df.height()],
    }
}

/// Sub-folders named `<key>=<value>`, as (value, path), sorted by value; none when `dir` is
/// missing.
pub fn hive_children(dir: &Path, key: &str) -> Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let prefix = format!("{key}=");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = e?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some(v) = name.strip_prefix(&prefix)
            && path.is_dir()
        {
            out.push((v.to_string(), path));
        }
    }
    out.sort();
    Ok(out)
}

/// Files directly in `dir` with extension `ext` (case-insensitive), sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = e?.path();
        let ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case(ext));
        if ok && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The join key of a piece name: `"007"`, `"7"` and `7` are the same piece.
pub fn piece_key(piece: &str) -> String {
    piece
        .parse::<u64>()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| piece.to_string())
}
