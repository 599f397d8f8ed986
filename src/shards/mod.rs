//! Parquet token shards (one row per song) and the rejects table. Schema: DESIGN.md, "Token shards".

mod read;
mod split;
mod write;

pub use read::{read_rejects, read_shards, shard_files};
pub use split::Split;
pub use write::{write_rejects, write_shards};

/// Songs per shard file.
pub const SONGS_PER_SHARD: usize = 256;

/// One tokenized song: a row of a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SongRecord {
    /// Path under the raw folder without the extension, `/`-separated (e.g. `src_001/12`).
    pub song_id: String,
    /// Path under the raw folder, `/`-separated.
    pub source: String,
    pub source_sha256: String,
    pub split: Split,
    pub n_bars: u32,
    pub n_notes: u32,
    pub n_tokens: u32,
    pub tokens: Vec<u16>,
}

/// A file the tokenizer could not use: a row of rejects.parquet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub source: String,
    /// Short stable code (`malformed`, `smpte_division`, ...).
    pub reason: String,
    /// The full message, naming the problem.
    pub detail: String,
}
