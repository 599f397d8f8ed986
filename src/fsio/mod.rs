//! File-system primitives every writer of outputs uses: atomic folders and files, the lock
//! beside a stage's output, and fault points for interrupt tests. Imports nothing else from
//! the crate, so any module may use it.

pub mod atomic;
pub mod fault;
pub mod lock;

pub use atomic::{AtomicDir, ReadGuard, write_file};
pub use lock::Lock;
