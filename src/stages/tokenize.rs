//! The tokenize stage: every MIDI file under the raw folder -> REMI token shards + rejects.

use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Config;
use crate::pipeline::atomic::AtomicDir;
use crate::pipeline::fault;
use crate::pipeline::stage::{Counts, Stage, StageCtx, StageOutput};
use crate::shards::{Reject, SongRecord, Split};
use crate::{hash, midi, remi, shards};

pub struct Tokenize;

/// A MIDI file found under the raw folder.
pub struct Source {
    pub path: PathBuf,
    /// Relative to the raw folder, `/`-separated: the stable key for ids, sharding and order.
    pub rel: String,
}

fn is_midi(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

/// All MIDI files under `root`, any depth, sorted by relative path.
pub fn list_sources(root: &Path) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).with_context(|| {
            format!(
                "cannot list {} (run `make data` to link or fetch the corpus)",
                dir.display()
            )
        })?;
        for e in entries {
            let path = e?.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_midi(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(Source { path, rel });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn song_id(rel: &str) -> String {
    match rel.rfind('.') {
        Some(i) => rel[..i].to_string(),
        None => rel.to_string(),
    }
}

/// Reads and encodes one file; a file that cannot be used becomes a [`Reject`].
fn tokenize_one(src: &Source) -> Result<SongRecord, Reject> {
    let reject = |reason: &str, detail: String| Reject {
        source: src.rel.clone(),
        reason: reason.into(),
        detail,
    };
    let bytes = std::fs::read(&src.path).map_err(|e| reject("io", format!("{}: {e}", src.rel)))?;
    let song =
        midi::read_bytes(&bytes).map_err(|e| reject(e.code(), format!("{}: {e}", src.rel)))?;
    let enc = remi::encode(&song).map_err(|e| reject("encode", format!("{}: {e:#}", src.rel)))?;
    let id = song_id(&src.rel);
    Ok(SongRecord {
        split: Split::of(&id),
        song_id: id,
        source: src.rel.clone(),
        source_sha256: hash::sha256_hex(&bytes),
        n_bars: enc.n_bars,
        n_notes: enc.n_notes,
        n_tokens: enc.tokens.len() as u32,
        tokens: enc.tokens,
    })
}

pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix:>9} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

impl Stage for Tokenize {
    fn name(&self) -> &'static str {
        "tokenize"
    }

    fn config_hash(&self, cfg: &Config) -> String {
        Config::section_hash(&cfg.tokenize)
    }

    fn output_dir(&self, cfg: &Config) -> PathBuf {
        cfg.tokens_dir()
    }

    fn inputs(&self, cfg: &Config) -> Result<BTreeMap<String, String>> {
        // Content hashes, so a touched-but-identical file stays fresh and an edited one does not.
        let sources = list_sources(&cfg.run.raw_dir)?;
        let lines: Vec<String> = sources
            .par_iter()
            .map(|s| {
                Ok(format!(
                    "{} {}",
                    s.rel,
                    hash::sha256_hex(&std::fs::read(&s.path)?)
                ))
            })
            .collect::<Result<_>>()?;
        let mut m = BTreeMap::new();
        m.insert(
            "raw_files".to_string(),
            hash::sha256_hex(lines.join("\n").as_bytes()),
        );
        Ok(m)
    }

    fn run(&self, ctx: &StageCtx, out: &Path) -> Result<StageOutput> {
        let t0 = Instant::now();
        let sources: Vec<Source> = list_sources(&ctx.cfg.run.raw_dir)?
            .into_iter()
            .filter(|s| ctx.shard.owns(&s.rel))
            .collect();
        let pb = progress_bar(sources.len() as u64, "tokenize");
        let results: Vec<Result<SongRecord, Reject>> = sources
            .par_iter()
            .map(|s| {
                let r = tokenize_one(s);
                pb.inc(1);
                r
            })
            .collect();
        pb.finish_and_clear();
        let (mut songs, mut rejects) = (Vec::new(), Vec::new());
        for r in results {
            match r {
                Ok(s) => songs.push(s),
                Err(rej) => rejects.push(rej),
            }
        }
        for r in rejects.iter().take(5) {
            eprintln!("warning: rejected {}", r.detail);
        }
        if rejects.len() > 5 {
            eprintln!(
                "warning: ... and {} more rejected files (see rejects.parquet)",
                rejects.len() - 5
            );
        }

        let dir = AtomicDir::new(out)?;
        shards::write_shards(dir.path(), &songs, ctx.cfg.tokenize.songs_per_shard)?;
        shards::write_rejects(&dir.path().join("rejects.parquet"), &rejects)?;
        std::fs::write(dir.path().join("vocab.json"), remi::vocab_json())?;
        let fingerprint = hash::tree_fingerprint(dir.path())?;
        fault::point("tokenize:before-commit")?;
        dir.commit()?;

        let secs = t0.elapsed().as_secs_f64();
        let counts = counts(sources.len(), &songs, &rejects);
        let n_tokens: u64 = songs.iter().map(|s| s.n_tokens as u64).sum();
        let summary = format!(
            "{} files, {} rejected, {} songs, {} tokens, {:.2} s, {:.0} files/s",
            sources.len(),
            rejects.len(),
            songs.len(),
            n_tokens,
            secs,
            sources.len() as f64 / secs.max(1e-9)
        );
        Ok(StageOutput {
            counts,
            fingerprint,
            summary,
        })
    }
}

fn counts(files: usize, songs: &[SongRecord], rejects: &[Reject]) -> Counts {
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for r in rejects {
        *by_reason.entry(r.reason.clone()).or_default() += 1;
    }
    let mut by_split: BTreeMap<&str, u64> = BTreeMap::new();
    for s in songs {
        *by_split.entry(s.split.as_str()).or_default() += 1;
    }
    let mut c = Counts::new();
    c.insert("files".into(), files.into());
    c.insert("songs".into(), songs.len().into());
    c.insert("rejected".into(), rejects.len().into());
    c.insert(
        "rejects_by_reason".into(),
        serde_json::to_value(by_reason).unwrap_or_default(),
    );
    c.insert(
        "songs_by_split".into(),
        serde_json::to_value(by_split).unwrap_or_default(),
    );
    c.insert(
        "notes".into(),
        songs.iter().map(|s| s.n_notes as u64).sum::<u64>().into(),
    );
    c.insert(
        "tokens".into(),
        songs.iter().map(|s| s.n_tokens as u64).sum::<u64>().into(),
    );
    c
}

#[cfg(test)]
mod tests {
    #[test]
    fn song_id_drops_extension_only() {
        assert_eq!(super::song_id("src_001/12.mid"), "src_001/12");
        assert_eq!(super::song_id("a.b/c.midi"), "a.b/c");
    }
}
