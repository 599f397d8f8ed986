//! A lock file beside a stage's output, so two runs never write the same output at once.
//! The file holds the owner's pid; a lock whose owner is gone (crash, kill -9) is taken over.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Lock {
    path: PathBuf,
}

/// Whether a process with this pid is running (Linux: /proc/<pid>).
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

impl Lock {
    /// Takes `<output>.lock`, or fails naming the process that holds it.
    pub fn acquire(output: &Path) -> Result<Lock> {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = output.with_file_name(format!("{name}.lock"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    write!(f, "{}", std::process::id())?;
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let owner = std::fs::read_to_string(&path).unwrap_or_default();
                    match owner.trim().parse::<u32>() {
                        Ok(pid) if alive(pid) => bail!(
                            "{} is being written by another run (pid {pid}); wait for it, or remove {} if that process is not a pipeline",
                            output.display(),
                            path.display()
                        ),
                        // The owner died without cleaning up: take the lock over.
                        _ => std::fs::remove_file(&path).ok(),
                    };
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot create lock {}", path.display()));
                }
            }
        }
        bail!("cannot take lock {}", path.display())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        std::fs::remove_file(&self.path).ok();
    }
}
