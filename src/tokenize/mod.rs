//! The tokenize work: every MIDI file under the raw folder -> REMI token shards, the rejects
//! table and the vocabulary, written into one folder atomically.

mod sources;

pub use sources::{Source, list_sources, sources_fingerprint};

use anyhow::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::check::{check, is_plain_name};
use crate::fsio::{AtomicDir, fault};
use crate::shards::{self, Reject, SongRecord, Split};
use crate::{hash, midi, remi};

/// `[tokenize]` section of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeConfig {
    /// Name of the token folder under `tokens_dir`.
    #[serde(default = "default_vocab")]
    pub vocab: String,
    #[serde(default = "default_songs_per_shard")]
    pub songs_per_shard: usize,
}

fn default_vocab() -> String {
    "remi".into()
}
fn default_songs_per_shard() -> usize {
    shards::SONGS_PER_SHARD
}

impl Default for TokenizeConfig {
    fn default() -> Self {
        TokenizeConfig {
            vocab: default_vocab(),
            songs_per_shard: default_songs_per_shard(),
        }
    }
}

impl TokenizeConfig {
    pub fn validate(&self) -> Result<()> {
        check(
            is_plain_name(&self.vocab),
            "tokenize.vocab",
            "must be non-empty and use only letters, digits, '-', '_', '.'",
        )?;
        check(
            self.songs_per_shard > 0,
            "tokenize.songs_per_shard",
            "must be > 0",
        )
    }
}

/// What tokenizing a set of files gave.
#[derive(Debug, Clone, Default)]
pub struct Tokenized {
    pub files: usize,
    pub songs: Vec<SongRecord>,
    pub rejects: Vec<Reject>,
}

impl Tokenized {
    pub fn n_tokens(&self) -> u64 {
        self.songs.iter().map(|s| s.n_tokens as u64).sum()
    }
    pub fn n_notes(&self) -> u64 {
        self.songs.iter().map(|s| s.n_notes as u64).sum()
    }
    /// Songs whose file declared 1/4 or 2/4 and were re-barred into 4/4.
    pub fn n_rebarred(&self) -> usize {
        self.songs.iter().filter(|s| s.rebarred()).count()
    }
}

/// Reads and encodes one file; a file that cannot be used becomes a [`Reject`], and so does a
/// panic while handling it (reason `internal_error`): one file never stops the stage.
fn tokenize_one(src: &Source) -> Result<SongRecord, Reject> {
    std::panic::catch_unwind(|| read_and_encode(src)).unwrap_or_else(|panic| {
        Err(reject(
            src,
            "internal_error",
            format!(
                "{}: {} (a bug: please report it)",
                src.rel,
                fault::panic_message(&*panic)
            ),
        ))
    })
}

fn reject(src: &Source, reason: &str, detail: String) -> Reject {
    Reject {
        source: src.rel.clone(),
        reason: reason.into(),
        detail,
    }
}

fn read_and_encode(src: &Source) -> Result<SongRecord, Reject> {
    let io = |e: std::io::Error| reject(src, "io", format!("{}: {e}", src.rel));
    fault::file_point("tokenize:file", &src.rel).map_err(io)?;
    let bytes = std::fs::read(&src.path).map_err(io)?;
    let song =
        midi::read_bytes(&bytes).map_err(|e| reject(src, e.code(), format!("{}: {e}", src.rel)))?;
    let enc =
        remi::encode(&song).map_err(|e| reject(src, "encode", format!("{}: {e:#}", src.rel)))?;
    let meters: Vec<String> = song.meters.iter().map(|m| m.to_string()).collect();
    Ok(SongRecord {
        split: Split::of(&src.id),
        meters: meters.join(","),
        song_id: src.id.clone(),
        source: src.rel.clone(),
        source_sha256: hash::sha256_hex(&bytes),
        n_bars: enc.n_bars,
        n_notes: enc.n_notes,
        n_tokens: enc.tokens.len() as u32,
        tokens: enc.tokens,
    })
}

/// Reads and encodes `sources` on all cores, with a progress bar; songs and rejects keep the
/// order of `sources`.
pub fn tokenize(sources: &[Source]) -> Tokenized {
    let pb = crate::progress::Bar::new(
        sources.len() as u64,
        "tokenize  [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
        "tokenize",
        "files",
    );
    let results: Vec<Result<SongRecord, Reject>> = sources
        .par_iter()
        .map(|s| {
            let r = tokenize_one(s);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    let mut out = Tokenized {
        files: sources.len(),
        ..Default::default()
    };
    for r in results {
        match r {
            Ok(s) => out.songs.push(s),
            Err(rej) => out.rejects.push(rej),
        }
    }
    for r in out.rejects.iter().take(5) {
        eprintln!("warning: rejected {}", r.detail);
    }
    if out.rejects.len() > 5 {
        eprintln!(
            "warning: ... and {} more rejected files (see rejects.parquet)",
            out.rejects.len() - 5
        );
    }
    out
}

/// Writes shards, rejects.parquet and vocab.json as the new contents of `out` (atomically: a
/// failure leaves the previous folder as it was). Returns the fingerprint of what was written.
pub fn write_tokens(out: &Path, t: &Tokenized, songs_per_shard: usize) -> Result<String> {
    let dir = AtomicDir::new(out)?;
    shards::write_shards(dir.path(), &t.songs, songs_per_shard)?;
    shards::write_rejects(&dir.path().join("rejects.parquet"), &t.rejects)?;
    std::fs::write(dir.path().join("vocab.json"), remi::vocab_json())?;
    let fingerprint = hash::tree_fingerprint(dir.path())?;
    fault::point("tokenize:before-commit")?;
    dir.commit()?;
    Ok(fingerprint)
}
