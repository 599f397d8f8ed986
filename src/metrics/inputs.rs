//! What evaluate scores: generated pieces, the real reference songs, or any folder of MIDI.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::pieces::{Group, PieceJob};
use crate::rng::Rng;
use crate::samples::{SAMPLES_FILE, piece_stem, read_samples};
use crate::shards::{SongRecord, Split};

/// Every `*.mid` directly under `<generated>/task=T/sampler=S/`, sorted; the piece is the file
/// stem, and its start bar and prompt come from the partition's samples.parquet (none for a
/// file that table does not list). A missing folder gives no jobs (reference rows only).
pub fn generated_jobs(generated_dir: &Path) -> Result<Vec<PieceJob>> {
    let mut jobs = Vec::new();
    for (task, task_dir) in hive_children(generated_dir, "task")? {
        for (sampler, sampler_dir) in hive_children(&task_dir, "sampler")? {
            let group = Group::new(task.clone(), sampler);
            let facts = sample_facts(&sampler_dir)?;
            for path in sorted_entries(&sampler_dir)? {
                if path.is_file() && has_ext(&path, &["mid"]) {
                    let piece = path
                        .file_stem()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    let (start_bar, prompt) = facts.get(&piece).cloned().unzip();
                    jobs.push(PieceJob {
                        group: group.clone(),
                        start_bar,
                        prompt: prompt.flatten(),
                        piece,
                        path,
                    });
                }
            }
        }
    }
    Ok(jobs)
}

/// File stem -> (start bar, prompt source), from a partition's samples.parquet (empty without
/// one).
fn sample_facts(partition: &Path) -> Result<BTreeMap<String, (u32, Option<String>)>> {
    let path = partition.join(SAMPLES_FILE);
    if !path.is_file() {
        return Ok(BTreeMap::new());
    }
    Ok(read_samples(&path)?
        .into_iter()
        .map(|r| (piece_stem(r.piece), (r.start_bar, r.prompt_source)))
        .collect())
}

/// The songs of one split as reference jobs; the piece is the song id.
pub fn reference_jobs(songs: &[SongRecord], split: Split, raw_dir: &Path) -> Vec<PieceJob> {
    let mut jobs: Vec<PieceJob> = songs
        .iter()
        .filter(|s| s.split == split)
        .map(|s| song_job(Group::reference(), s, raw_dir))
        .collect();
    jobs.sort_by(|a, b| a.piece.cmp(&b.piece));
    jobs
}

/// `n` training songs chosen by a hash of (seed, song id), as [`Group::real_train`] jobs.
pub fn real_train_jobs(songs: &[SongRecord], n: usize, seed: u64, raw_dir: &Path) -> Vec<PieceJob> {
    let mut train: Vec<&SongRecord> = songs.iter().filter(|s| s.split == Split::Train).collect();
    train.sort_by_cached_key(|s| {
        (
            Rng::derive(seed, &["real-train", &s.song_id]),
            s.song_id.clone(),
        )
    });
    let mut jobs: Vec<PieceJob> = train
        .into_iter()
        .take(n)
        .map(|s| song_job(Group::real_train(), s, raw_dir))
        .collect();
    jobs.sort_by(|a, b| a.piece.cmp(&b.piece));
    jobs
}

fn song_job(group: Group, s: &SongRecord, raw_dir: &Path) -> PieceJob {
    PieceJob {
        group,
        piece: s.song_id.clone(),
        path: raw_dir.join(&s.source),
        start_bar: None,
        prompt: None,
    }
}

/// Every `.mid`/`.midi` under `dir` at any depth, sorted; the piece is the path relative to
/// `dir` without the extension, `/`-separated.
pub fn folder_jobs(dir: &Path, group: &Group) -> Result<Vec<PieceJob>> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(dir).unwrap_or(&path).with_extension("");
            let piece = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            PieceJob {
                group: group.clone(),
                piece,
                path,
                start_bar: None,
                prompt: None,
            }
        })
        .collect())
}

/// A hash over the generated MIDI files (relative paths and contents), so new, removed or
/// changed pieces make evaluate stale.
pub fn generated_fingerprint(generated_dir: &Path) -> Result<String> {
    let files: Vec<PathBuf> = generated_jobs(generated_dir)?
        .into_iter()
        .map(|j| j.path)
        .collect();
    crate::hash::files_fingerprint(generated_dir, &files)
}

/// Subfolders named `<key>=<value>`, as (value, path), sorted; none when `dir` is missing.
fn hive_children(dir: &Path, key: &str) -> Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let prefix = format!("{key}=");
    let mut out = Vec::new();
    for path in sorted_entries(dir)? {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some(value) = name.strip_prefix(&prefix)
            && path.is_dir()
        {
            super::pieces::check_label(key, value)
                .with_context(|| format!("bad generated folder {}", path.display()))?;
            out.push((value.to_string(), path));
        }
    }
    Ok(out)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    v.sort();
    Ok(v)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            walk(&path, out)?;
        } else if has_ext(&path, &["mid", "midi"]) {
            out.push(path);
        }
    }
    Ok(())
}

fn has_ext(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}
