//! Parquet token shards (one row per song) and the rejects table. Schema: docs/design.md, "Token shards".

mod read;
mod schema;
mod split;
mod write;

pub use read::{read_rejects, read_shards, shard_files};
pub use split::Split;
pub use write::{write_rejects, write_shard, write_shards};

/// Songs per shard file.
pub const SONGS_PER_SHARD: usize = 256;
/// The shard format; a change makes the tokenize stage rerun.
pub const FORMAT: u32 = 2;

/// One tokenized song: a row of a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SongRecord {
    /// Path under the raw folder without the extension, `/`-separated (e.g. `src_001/12`).
    pub song_id: String,
    /// Path under the raw folder, `/`-separated.
    pub source: String,
    pub source_sha256: String,
    pub split: Split,
    /// The time signatures the file declared, as `n/d@tick` separated by commas (empty: none,
    /// i.e. 4/4); 1/4 and 2/4 were re-barred into 4/4.
    pub meters: String,
    pub n_bars: u32,
    pub n_notes: u32,
    pub n_tokens: u32,
    pub tokens: Vec<u16>,
}

impl SongRecord {
    /// Whether the file declared a meter other than 4/4 (and was re-barred into 4/4).
    pub fn rebarred(&self) -> bool {
        self.meters
            .split(',')
            .any(|m| !m.is_empty() && !m.starts_with("4/4@"))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_round_trip_and_are_byte_identical() {
        let songs: Vec<SongRecord> = (0..5)
            .map(|i| SongRecord {
                song_id: format!("a/{i}"),
                source: format!("a/{i}.mid"),
                source_sha256: "00".repeat(32),
                split: Split::of(&format!("a/{i}")),
                meters: if i % 2 == 0 {
                    "2/4@0".into()
                } else {
                    String::new()
                },
                n_bars: i,
                n_notes: 2 * i,
                n_tokens: 3,
                tokens: vec![1, i as u16, 2],
            })
            .collect();
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        assert_eq!(write_shards(d1.path(), &songs, 2).unwrap(), 3);
        write_shards(d2.path(), &songs, 2).unwrap();
        assert_eq!(read_shards(d1.path()).unwrap(), songs);
        for f in shard_files(d1.path()).unwrap() {
            let g = d2.path().join(f.file_name().unwrap());
            assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(g).unwrap());
        }
        let rejects = vec![Reject {
            source: "b.mid".into(),
            reason: "no_notes".into(),
            detail: "x".into(),
        }];
        let p = d1.path().join("rejects.parquet");
        write_rejects(&p, &rejects).unwrap();
        assert_eq!(read_rejects(&p).unwrap(), rejects);
    }
}
