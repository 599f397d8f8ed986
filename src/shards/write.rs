//! Parquet writers for token shards and the rejects table. Deterministic: same rows, same bytes.

use anyhow::{Context, Result};
use arrow_array::builder::{ListBuilder, StringBuilder, UInt16Builder, UInt32Builder};
use arrow_array::{ArrayRef, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

use super::schema::{rejects_schema, shard_schema};
use super::{Reject, SongRecord};

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid zstd level"),
        ))
        .build()
}

fn write_batch(path: &Path, batch: &RecordBatch) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props()))?;
    w.write(batch)?;
    w.close()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Writes `songs` (already in their final order) as shard-00000.parquet, ... into `dir`,
/// `per_shard` rows each. Returns the number of files written.
pub fn write_shards(dir: &Path, songs: &[SongRecord], per_shard: usize) -> Result<usize> {
    let mut n = 0;
    for chunk in songs.chunks(per_shard.max(1)) {
        write_shard(dir, n, chunk)?;
        n += 1;
    }
    Ok(n)
}

/// Writes `songs` as shard number `index` (shard-NNNNN.parquet) into `dir`.
pub fn write_shard(dir: &Path, index: usize, songs: &[SongRecord]) -> Result<()> {
    let batch = shard_batch(songs)?;
    write_batch(&dir.join(format!("shard-{index:05}.parquet")), &batch)?;
    crate::fsio::fault::point("shards:file-written")?;
    Ok(())
}

fn shard_batch(songs: &[SongRecord]) -> Result<RecordBatch> {
    let mut id = StringBuilder::new();
    let mut source = StringBuilder::new();
    let mut sha = StringBuilder::new();
    let mut split = StringBuilder::new();
    let mut meters = StringBuilder::new();
    let mut bars = UInt32Builder::new();
    let mut notes = UInt32Builder::new();
    let mut n_tokens = UInt32Builder::new();
    let mut tokens = ListBuilder::new(UInt16Builder::new()).with_field(super::schema::token_item());
    for s in songs {
        id.append_value(&s.song_id);
        source.append_value(&s.source);
        sha.append_value(&s.source_sha256);
        split.append_value(s.split.as_str());
        meters.append_value(&s.meters);
        bars.append_value(s.n_bars);
        notes.append_value(s.n_notes);
        n_tokens.append_value(s.n_tokens);
        tokens.values().append_slice(&s.tokens);
        tokens.append(true);
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(source.finish()),
        Arc::new(sha.finish()),
        Arc::new(split.finish()),
        Arc::new(meters.finish()),
        Arc::new(bars.finish()),
        Arc::new(notes.finish()),
        Arc::new(n_tokens.finish()),
        Arc::new(tokens.finish()),
    ];
    Ok(RecordBatch::try_new(Arc::new(shard_schema()), cols)?)
}

/// Writes rejects.parquet (source, reason, detail).
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
    let mut source = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut detail = StringBuilder::new();
    for r in rejects {
        source.append_value(&r.source);
        reason.append_value(&r.reason);
        detail.append_value(&r.detail);
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(source.finish()),
        Arc::new(reason.finish()),
        Arc::new(detail.finish()),
    ];
    write_batch(
        path,
        &RecordBatch::try_new(Arc::new(rejects_schema()), cols)?,
    )
}
