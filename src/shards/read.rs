//! Parquet readers for token shards and the rejects table.

use anyhow::{Context, Result, anyhow, bail};
use arrow_array::cast::AsArray;
use arrow_array::types::{UInt16Type, UInt32Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

use super::{Reject, SongRecord, Split};

/// The shard files of a token folder, sorted: its own shard-*.parquet, or, when it has none, those
/// of its part-i-of-N/ folders (written by `--shard i/N` runs on several machines).
pub fn shard_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let own = shards_in(dir)?;
    if !own.is_empty() {
        return Ok(own);
    }
    let mut parts = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir()
            && p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        {
            parts.extend(shards_in(&p)?);
        }
    }
    parts.sort();
    Ok(parts)
}

fn shards_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for e in entries {
        let p = e?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("shard-") && name.ends_with(".parquet") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

fn batches(path: &Path) -> Result<Vec<RecordBatch>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a Parquet file", path.display()))?
        .build()?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot read {}", path.display()))
}

fn column<'a>(b: &'a RecordBatch, name: &str, path: &Path) -> Result<&'a dyn Array> {
    b.column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| anyhow!("{}: missing column `{name}`", path.display()))
}

/// Every song of every shard in `dir`, in the corpus' order (by source path): the same songs
/// in the same order whether they were written whole or in parts.
pub fn read_shards(dir: &Path) -> Result<Vec<SongRecord>> {
    let mut out = Vec::new();
    for path in shard_files(dir)? {
        for b in batches(&path)? {
            let id = column(&b, "song_id", &path)?.as_string::<i32>();
            let source = column(&b, "source", &path)?.as_string::<i32>();
            let sha = column(&b, "source_sha256", &path)?.as_string::<i32>();
            let split = column(&b, "split", &path)?.as_string::<i32>();
            // Shards written before the column existed: no meter was declared but 4/4.
            let meters = b.column_by_name("meters").map(|c| c.as_string::<i32>());
            let bars = column(&b, "n_bars", &path)?.as_primitive::<UInt32Type>();
            let notes = column(&b, "n_notes", &path)?.as_primitive::<UInt32Type>();
            let n_tokens = column(&b, "n_tokens", &path)?.as_primitive::<UInt32Type>();
            let tokens = column(&b, "tokens", &path)?.as_list::<i32>();
            for i in 0..b.num_rows() {
                let Some(sp) = Split::parse(split.value(i)) else {
                    bail!(
                        "{}: row {i} has unknown split `{}`",
                        path.display(),
                        split.value(i)
                    );
                };
                let toks = tokens.value(i);
                out.push(SongRecord {
                    song_id: id.value(i).to_string(),
                    source: source.value(i).to_string(),
                    source_sha256: sha.value(i).to_string(),
                    split: sp,
                    meters: meters.map(|m| m.value(i).to_string()).unwrap_or_default(),
                    n_bars: bars.value(i),
                    n_notes: notes.value(i),
                    n_tokens: n_tokens.value(i),
                    tokens: toks.as_primitive::<UInt16Type>().values().to_vec(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(out)
}

pub fn read_rejects(path: &Path) -> Result<Vec<Reject>> {
    let mut out = Vec::new();
    for b in batches(path)? {
        let source = column(&b, "source", path)?.as_string::<i32>();
        let reason = column(&b, "reason", path)?.as_string::<i32>();
        let detail = column(&b, "detail", path)?.as_string::<i32>();
        for i in 0..b.num_rows() {
            out.push(Reject {
                source: source.value(i).to_string(),
                reason: reason.value(i).to_string(),
                detail: detail.value(i).to_string(),
            });
        }
    }
    Ok(out)
}
