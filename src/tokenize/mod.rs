//! The tokenize work: every MIDI file under the raw folder -> REMI token shards (streamed, one
//! shard in memory at a time), the rejects table and the vocabulary, written into one folder
//! atomically.

mod sources;

pub use sources::{Source, list_sources, sources_fingerprint};

use anyhow::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// What tokenizing a set of files gave: counts and the rejects. The songs went to the shards
/// as they were encoded.
#[derive(Debug, Clone, Default)]
pub struct Tokenized {
    pub files: usize,
    pub songs: usize,
    pub tokens: u64,
    pub notes: u64,
    /// Songs whose file declared 1/4 or 2/4 and were re-barred into 4/4.
    pub rebarred: usize,
    pub songs_by_split: BTreeMap<String, u64>,
    pub rejects: Vec<Reject>,
    /// A hash of the folder written.
    pub fingerprint: String,
}

impl Tokenized {
    fn count(&mut self, s: &SongRecord) {
        self.songs += 1;
        self.tokens += s.n_tokens as u64;
        self.notes += s.n_notes as u64;
        self.rebarred += s.rebarred() as usize;
        *self
            .songs_by_split
            .entry(s.split.as_str().to_string())
            .or_default() += 1;
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

/// Reads and encodes `sources` on all cores, with a progress bar, into shards of
/// `songs_per_shard` songs, the rejects table and the vocabulary: the new contents of `out`,
/// written atomically (a failure leaves the previous folder as it was). Songs are streamed:
/// each shard is written once its songs are encoded, so memory holds one shard and one batch
/// of files, whatever the corpus size. The shards are those of encoding everything first
/// (songs in source order, cut every `songs_per_shard`).
pub fn tokenize_into(out: &Path, sources: &[Source], songs_per_shard: usize) -> Result<Tokenized> {
    let per_shard = songs_per_shard.max(1);
    let dir = AtomicDir::new(out)?;
    let pb = crate::progress::Bar::new(
        sources.len() as u64,
        "tokenize  [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
        "tokenize",
        "files",
    );
    let mut t = Tokenized {
        files: sources.len(),
        ..Default::default()
    };
    let mut pending: Vec<SongRecord> = Vec::with_capacity(per_shard);
    let mut written = 0;
    // A batch keeps every thread busy and stays small beside a shard.
    let batch = per_shard.max(64 * rayon::current_num_threads());
    for files in sources.chunks(batch) {
        let results: Vec<Result<SongRecord, Reject>> = files
            .par_iter()
            .map(|s| {
                let r = tokenize_one(s);
                pb.inc(1);
                r
            })
            .collect();
        for r in results {
            match r {
                Ok(song) => {
                    t.count(&song);
                    pending.push(song);
                }
                Err(rej) => t.rejects.push(rej),
            }
        }
        while pending.len() >= per_shard {
            let rest = pending.split_off(per_shard);
            shards::write_shard(dir.path(), written, &pending)?;
            written += 1;
            pending = rest;
        }
    }
    if !pending.is_empty() {
        shards::write_shard(dir.path(), written, &pending)?;
    }
    pb.finish_and_clear();
    for r in t.rejects.iter().take(5) {
        eprintln!("warning: rejected {}", r.detail);
    }
    if t.rejects.len() > 5 {
        eprintln!(
            "warning: ... and {} more rejected files (see rejects.parquet)",
            t.rejects.len() - 5
        );
    }
    shards::write_rejects(&dir.path().join("rejects.parquet"), &t.rejects)?;
    std::fs::write(dir.path().join("vocab.json"), remi::vocab_json())?;
    std::fs::write(dir.path().join("tokenizer.json"), remi::tokenizer_json())?;
    t.fingerprint = hash::tree_fingerprint(dir.path())?;
    fault::point("tokenize:before-commit")?;
    dir.commit()?;
    Ok(t)
}
