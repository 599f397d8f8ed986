//! Atomic outputs: write into a temporary folder or file beside the target, rename into place
//! only on success. A crash or kill at any moment leaves the previous output or the new one
//! complete, never a mix and never neither:
//!
//! 1. the new folder is written as `.<name>.tmp-<pid>`;
//! 2. commit moves the old folder aside as `.<name>.old-<pid>` ...
//! 3. ... moves the new folder in as `<name>` ...
//! 4. ... and deletes the old one.
//!
//! A crash before 2 leaves the old output (and a tmp folder); between 2 and 3, only the old one
//! aside; after 3, the new output (and maybe the old one aside). [`recover`], which
//! [`AtomicDir::new`] runs first, puts an orphaned old folder back and removes the rest. It must
//! run under the output's lock ([`super::Lock`]), so that no other process is committing.
//!
//! Durability (a lost machine, not only a killed process): before 2, every file and folder of
//! the new tree is fsynced, deepest first; after 3, the parent folder is fsynced, so the renames
//! are on disk before anything (a manifest, a pruned checkpoint) depends on them. An error inside
//! the commit (a failed rename, an injected `error`) puts the old folder back before it returns.
//!
//! Steps 2 and 3 run under an exclusive lock on the hidden file `.<name>.swap`; a reader that
//! holds [`ReadGuard`] (the same lock, shared) sees the old output or the new one, never the
//! moment between the two renames.

use anyhow::{Context, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::fault;

/// A folder being written; becomes `target` on [`AtomicDir::commit`], vanishes if dropped.
pub struct AtomicDir {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// `.<name>.<suffix>` beside `target`.
fn hidden(target: &Path, suffix: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{suffix}"))
}

/// `.<name>.<tag>-<pid>` beside `target`: this process's temporary or old copy.
fn sibling(target: &Path, tag: &str) -> PathBuf {
    hidden(target, &format!("{tag}-{}", std::process::id()))
}

impl AtomicDir {
    /// Starts writing a new `target`; first [`recover`]s what an interrupted commit left.
    pub fn new(target: &Path) -> Result<AtomicDir> {
        let parent = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        recover(target)?;
        let tmp = sibling(target, "tmp");
        std::fs::create_dir_all(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(AtomicDir {
            tmp,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Replaces `target` with the written folder (steps 2 to 4 above).
    pub fn commit(mut self) -> Result<()> {
        sync_tree(&self.tmp)?;
        let old = sibling(&self.target, "old");
        let swap = swap_file(&self.target)?;
        swap.lock()
            .with_context(|| format!("cannot lock {}", self.target.display()))?;
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("cannot move {} aside", self.target.display()))?;
        }
        let swapped = fault::point("commit:aside")
            .map_err(anyhow::Error::from)
            .and_then(|()| {
                std::fs::rename(&self.tmp, &self.target).with_context(|| {
                    format!("cannot move new output into {}", self.target.display())
                })
            });
        if let Err(e) = swapped {
            if had_old {
                std::fs::rename(&old, &self.target).with_context(|| {
                    format!(
                        "{e:#}; and cannot put the old output back from {}",
                        old.display()
                    )
                })?;
            }
            return Err(e);
        }
        self.committed = true;
        sync_parent(&self.target)?;
        swap.unlock()?;
        fault::point("commit:swapped")?;
        if old.exists() {
            std::fs::remove_dir_all(&old).ok();
        }
        Ok(())
    }
}

impl Drop for AtomicDir {
    fn drop(&mut self) {
        if !self.committed {
            std::fs::remove_dir_all(&self.tmp).ok();
        }
    }
}

/// The file whose lock guards the swap of `target` (created when missing).
fn swap_file(target: &Path) -> Result<File> {
    let path = hidden(target, "swap");
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Removes an output folder written by [`AtomicDir`], and the lock file of its commits.
pub fn remove(target: &Path) -> Result<()> {
    std::fs::remove_dir_all(target)
        .with_context(|| format!("cannot remove {}", target.display()))?;
    std::fs::remove_file(hidden(target, "swap")).ok();
    Ok(())
}

/// Held by a reader of an output: no commit swaps it meanwhile (a commit under way is waited
/// for). Released when dropped.
pub struct ReadGuard {
    _file: Option<File>,
}

impl ReadGuard {
    /// Waits for a swap of `target` under way, then keeps others from starting one. An output
    /// whose folder cannot hold the lock file (a read-only place) is read without it.
    pub fn new(target: &Path) -> Result<ReadGuard> {
        let Ok(file) = swap_file(target) else {
            return Ok(ReadGuard { _file: None });
        };
        file.lock_shared()
            .with_context(|| format!("cannot lock {} for reading", target.display()))?;
        Ok(ReadGuard { _file: Some(file) })
    }
}

/// Whether a commit of `target` was interrupted between its two renames: no `target`, but its
/// old folder aside.
pub fn interrupted(target: &Path) -> bool {
    !target.exists() && !leftovers(target).0.is_empty()
}

/// The old folders moved aside and the temporary ones beside `target`.
fn leftovers(target: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut olds, mut tmps) = (Vec::new(), Vec::new());
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return (olds, tmps);
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return (olds, tmps);
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        match n.strip_prefix(&prefix) {
            Some(rest) if rest.starts_with("old-") => olds.push(e.path()),
            Some(rest) if rest.starts_with("tmp-") => tmps.push(e.path()),
            _ => {}
        }
    }
    (olds, tmps)
}

/// Finishes what an interrupted commit of `target` left: an old folder moved aside but no new
/// one in its place goes back; other leftovers (`.tmp-*`, an `.old-*` beside a complete
/// target) are removed. Call it holding the output's lock.
pub fn recover(target: &Path) -> Result<()> {
    let (mut olds, tmps) = leftovers(target);
    if !target.exists()
        && let Some(old) = olds.pop()
    {
        std::fs::rename(&old, target).with_context(|| {
            format!(
                "cannot put {} back after an interrupted commit",
                old.display()
            )
        })?;
        sync_parent(target)?;
        eprintln!(
            "note: {} restored: a previous run was interrupted while replacing it",
            target.display()
        );
    }
    for leftover in olds.into_iter().chain(tmps) {
        remove_entry(&leftover)
            .with_context(|| format!("cannot remove the leftover {}", leftover.display()))?;
    }
    Ok(())
}

/// Removes a file, or a folder with everything in it.
pub fn remove_entry(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Writes a file atomically and durably: a temp file in the same folder, fsynced, renamed into
/// place, then the folder fsynced.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = sibling(path, "tmp");
    let mut file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    sync_parent(path)
}

/// Fsyncs every file and folder under `dir` (files and subfolders before their folder).
pub fn sync_tree(dir: &Path) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for e in entries {
        let path = e?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            sync(&path)?;
        }
    }
    sync(dir)
}

/// Fsyncs the folder that holds `path`, so a rename or removal in it is on disk.
pub fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync(p),
        _ => sync(Path::new(".")),
    }
}

/// Fsyncs one file or folder.
pub fn sync(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {} to disk", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("x")).unwrap()
    }

    #[test]
    fn commit_replaces_and_drop_keeps_previous() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("out");
        let a = AtomicDir::new(&target).unwrap();
        std::fs::write(a.path().join("x"), "1").unwrap();
        a.commit().unwrap();
        let b = AtomicDir::new(&target).unwrap();
        std::fs::write(b.path().join("x"), "2").unwrap();
        drop(b); // failure: never committed
        assert_eq!(read(&target), "1");
        let names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| n == "out" || n == ".out.swap"),
            "no temp folder left behind: {names:?}"
        );
    }

    /// What a kill at each step of a commit leaves, and what the next writer makes of it.
    #[test]
    fn recovery_after_a_kill_at_each_step_keeps_old_or_new() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("out");
        let (old, tmp) = (d.path().join(".out.old-1"), d.path().join(".out.tmp-1"));
        let write = |dir: &Path, v: &str| {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("x"), v).unwrap();
        };
        // Killed while writing the new folder: the old output stays, the tmp goes.
        write(&target, "old");
        write(&tmp, "half");
        recover(&target).unwrap();
        assert_eq!(read(&target), "old");
        assert!(!tmp.exists());
        // Killed after moving the old folder aside: it comes back.
        std::fs::rename(&target, &old).unwrap();
        write(&tmp, "new");
        recover(&target).unwrap();
        assert_eq!(read(&target), "old");
        assert!(!old.exists() && !tmp.exists());
        // Killed after moving the new folder in: the new one stays, the old one goes.
        std::fs::rename(&target, &old).unwrap();
        write(&target, "new");
        recover(&target).unwrap();
        assert_eq!(read(&target), "new");
        assert!(!old.exists());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
