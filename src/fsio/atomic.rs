//! Atomic outputs: write into a temporary folder or file beside the target, rename into place
//! only on success. A crash or Ctrl-C leaves the previous output untouched (at worst a stray
//! `.tmp-*` folder, which the next run removes).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A folder being written; becomes `target` on [`AtomicDir::commit`], vanishes if dropped.
pub struct AtomicDir {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

fn sibling(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

impl AtomicDir {
    pub fn new(target: &Path) -> Result<AtomicDir> {
        let parent = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        remove_stale_siblings(target);
        let tmp = sibling(target, "tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
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

    /// Replaces `target` with the written folder: two renames, so there is no moment without a
    /// complete folder on disk except between them, and a crash there leaves `.old` to recover.
    pub fn commit(mut self) -> Result<()> {
        let old = sibling(&self.target, "old");
        if self.target.exists() {
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("cannot move {} aside", self.target.display()))?;
        }
        std::fs::rename(&self.tmp, &self.target)
            .with_context(|| format!("cannot move new output into {}", self.target.display()))?;
        self.committed = true;
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

/// Removes `.tmp-*` / `.old-*` siblings of `target` left by a killed run of another process.
fn remove_stale_siblings(target: &Path) {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    }) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if let Some(rest) = n.strip_prefix(&prefix) {
            let pid = rest.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            if (rest.starts_with("tmp-") || rest.starts_with("old-"))
                && pid.is_some_and(|p| !super::lock::alive(p))
            {
                let p = e.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(&p).ok()
                } else {
                    std::fs::remove_file(&p).ok()
                };
            }
        }
    }
}

/// Writes a file atomically (temp file in the same folder + rename).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = sibling(path, "tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(std::fs::read_to_string(target.join("x")).unwrap(), "1");
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            1,
            "no temp folder left behind"
        );
    }
}
