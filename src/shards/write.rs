// Placeholder: replaced by the real writer.
use super::{Reject, SongRecord};
use anyhow::Result;
use std::path::Path;

pub fn write_shards(_dir: &Path, _songs: &[SongRecord], _per_shard: usize) -> Result<usize> {
    Ok(0)
}
pub fn write_rejects(_path: &Path, _rejects: &[Reject]) -> Result<()> {
    Ok(())
}
