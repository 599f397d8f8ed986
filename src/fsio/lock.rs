//! A lock beside a stage's output (`<output>.lock`), so two runs never write the same output at
//! once. It is an advisory lock held by the operating system on the open file: taking it is one
//! atomic step, and the kernel releases it when the holder exits, however it exits (crash,
//! kill -9), so there is no stale lock to take over and no window between creating and claiming.
//! The file stays (removing it would let a third process lock a new file while a second still
//! waits on the old one); it holds the holder's pid, for the message only.

use anyhow::{Context, Result, bail};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Held while the output is being written (exclusive) or read (shared: by the stages that read
/// it, and by the `--shard` runs that each write one part of it); released when dropped (or when
/// the process dies).
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes `<output>.lock` alone, or fails at once naming the process that holds it.
    pub fn acquire(output: &Path) -> Result<Lock> {
        Lock::take(output, false)
    }

    /// Takes `<output>.lock` beside other readers, or fails at once if a run is writing it.
    pub fn shared(output: &Path) -> Result<Lock> {
        Lock::take(output, true)
    }

    fn take(output: &Path, shared: bool) -> Result<Lock> {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = output.with_file_name(format!("{name}.lock"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open lock {}", path.display()))?;
        let taken = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match taken {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) if shared => bail!(
                "{} is being written by another run; wait for it to finish",
                output.display()
            ),
            // Readers hold it if a shared lock can still be had.
            Err(TryLockError::WouldBlock) if file.try_lock_shared().is_ok() => bail!(
                "{} is being read by another run; wait for it to finish",
                output.display()
            ),
            Err(TryLockError::WouldBlock) => {
                let mut owner = String::new();
                file.read_to_string(&mut owner).ok();
                let owner = match owner.trim() {
                    "" => String::new(),
                    pid => format!(" (pid {pid})"),
                };
                bail!(
                    "{} is being written by another run{owner}; wait for it to finish",
                    output.display()
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        if shared {
            return Ok(Lock { _file: file });
        }
        // Ours alone now: record the pid for the message above.
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let first = Lock::acquire(&out).unwrap();
        let err = Lock::acquire(&out).err().unwrap().to_string();
        assert!(err.contains("being written by another run"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(Lock::shared(&out).is_err(), "no reader while it is written");
        drop(first);
        let (r1, r2) = (Lock::shared(&out).unwrap(), Lock::shared(&out).unwrap());
        let err = Lock::acquire(&out).err().unwrap().to_string();
        assert!(err.contains("being read by another run"), "{err}");
        drop((r1, r2));
        Lock::acquire(&out).unwrap();
    }
}
