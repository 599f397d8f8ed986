//! The artifact store: `<root>/task=<task>/sampler=<name>/{NNN.mid, NNN.wav, pieces.parquet,
//! fingerprint.txt}`. Each partition is built in a temporary folder beside it and renamed into
//! place, so an interrupted run leaves the previous partition intact.

use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::pieces::{PieceRow, write_pieces};
use crate::audio::{Renderer, write_wav};
use crate::midi::Song;
use crate::pipeline::atomic::AtomicDir;
use crate::pipeline::fault;

pub const FINGERPRINT_FILE: &str = "fingerprint.txt";
pub const PIECES_FILE: &str = "pieces.parquet";

/// A decoded piece ready to be written.
#[derive(Debug, Clone)]
pub struct GeneratedPiece {
    pub row: PieceRow,
    pub song: Song,
}

pub fn partition_dir(root: &Path, task: &str, sampler: &str) -> PathBuf {
    root.join(format!("task={task}"))
        .join(format!("sampler={sampler}"))
}

pub fn piece_stem(index: u32) -> String {
    format!("{index:03}")
}

/// Whether the partition exists, is complete and was made with this fingerprint.
pub fn partition_is_fresh(root: &Path, task: &str, sampler: &str, fingerprint: &str) -> bool {
    let dir = partition_dir(root, task, sampler);
    dir.join(PIECES_FILE).is_file()
        && std::fs::read_to_string(dir.join(FINGERPRINT_FILE))
            .is_ok_and(|s| s.trim() == fingerprint)
}

/// Write one partition atomically; renders WAVs in parallel when a renderer is given.
/// Returns the rows as written (with `has_wav`).
pub fn write_partition(
    root: &Path,
    task: &str,
    sampler: &str,
    fingerprint: &str,
    pieces: &[GeneratedPiece],
    renderer: Option<&Renderer>,
) -> Result<Vec<PieceRow>> {
    let dir = AtomicDir::new(&partition_dir(root, task, sampler))?;
    let tmp = dir.path();

    let rows: Vec<PieceRow> = pieces
        .par_iter()
        .map(|p| -> Result<PieceRow> {
            let stem = piece_stem(p.row.piece);
            let mid = tmp.join(format!("{stem}.mid"));
            std::fs::write(&mid, crate::midi::write_bytes(&p.song))
                .with_context(|| format!("cannot write {}", mid.display()))?;
            let mut row = p.row.clone();
            row.has_wav = false;
            if let Some(r) = renderer {
                let audio = r
                    .render(&p.song)
                    .with_context(|| format!("rendering {task}/{sampler}/{stem}"))?;
                write_wav(&tmp.join(format!("{stem}.wav")), &audio)?;
                row.has_wav = true;
            }
            Ok(row)
        })
        .collect::<Result<_>>()?;
    write_pieces(&tmp.join(PIECES_FILE), &rows)?;
    // The fingerprint last: a partition without it is never taken as fresh.
    std::fs::write(tmp.join(FINGERPRINT_FILE), format!("{fingerprint}\n"))?;
    dir.commit()?;
    fault::point("generate:after-partition")?;
    Ok(rows)
}

/// Remove partitions (and leftover temporary folders) not in `keep` = {(task, sampler)};
/// returns the removed partitions as `task/sampler`.
pub fn remove_stale_partitions(
    root: &Path,
    keep: &BTreeSet<(String, String)>,
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let Ok(tasks) = std::fs::read_dir(root) else {
        return Ok(removed);
    };
    for t in tasks.flatten() {
        let tname = t.file_name().to_string_lossy().into_owned();
        let Some(task) = tname.strip_prefix("task=") else {
            continue;
        };
        if !t.path().is_dir() {
            continue;
        }
        for s in std::fs::read_dir(t.path())?.flatten() {
            let sname = s.file_name().to_string_lossy().into_owned();
            let stale = match sname.strip_prefix("sampler=") {
                Some(sampler) => !keep.contains(&(task.to_string(), sampler.to_string())),
                // Leftovers of a killed run (see pipeline::atomic).
                None => sname.starts_with(".sampler="),
            };
            if stale {
                std::fs::remove_dir_all(s.path())
                    .with_context(|| format!("cannot remove {}", s.path().display()))?;
                if !sname.starts_with('.') {
                    removed.push(format!("{task}/{sname}"));
                }
            }
        }
        if std::fs::read_dir(t.path())?.next().is_none() {
            std::fs::remove_dir(t.path())?;
        }
    }
    removed.sort();
    Ok(removed)
}
