//! Injected faults, for tests of crash safety. `CADENZA_FAULT=<point>=<action>[;...]` makes the
//! named point act as:
//! - `error`: fail as an I/O error would (the stage fails, the process exits normally);
//! - `abort`: the process dies on the spot, as on a crash or SIGKILL (no destructors run);
//! - `panic`: panic (in a per-file worker: one file's bug);
//! - `sleep:<ms>`: pause, a window for a test to kill the process or to start another one.
//!
//! `CADENZA_FAIL_AT=<point>` is short for `CADENZA_FAULT=<point>=error`. Points: `<stage>:start`
//! (the runner, before a stage runs); `shards:file-written`, `tokenize:before-commit`,
//! `train:after-checkpoint`, `generate:after-partition`, `evaluate:before-commit`; every atomic
//! commit's `commit:aside` and `commit:swapped`; the per-file `tokenize:file:<path>` and
//! `evaluate:file:<piece>`.

use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
enum Action {
    Error,
    Abort,
    Panic,
    Sleep(u64),
}

/// The faults configured in the environment, read once.
fn faults() -> &'static [(String, Action)] {
    static FAULTS: OnceLock<Vec<(String, Action)>> = OnceLock::new();
    FAULTS.get_or_init(|| {
        let mut out = Vec::new();
        if let Ok(point) = std::env::var("CADENZA_FAIL_AT") {
            out.push((point, Action::Error));
        }
        for spec in std::env::var("CADENZA_FAULT")
            .unwrap_or_default()
            .split(';')
        {
            let Some((point, action)) = spec.rsplit_once('=') else {
                continue;
            };
            let action = match action {
                "error" => Action::Error,
                "abort" => Action::Abort,
                "panic" => Action::Panic,
                a => match a.strip_prefix("sleep:").and_then(|ms| ms.parse().ok()) {
                    Some(ms) => Action::Sleep(ms),
                    None => continue,
                },
            };
            out.push((point.to_string(), action));
        }
        out
    })
}

/// Whether any fault is configured (callers skip building per-file point names otherwise).
pub fn active() -> bool {
    !faults().is_empty()
}

/// The fault point `name`: does what the environment asks of it, if anything.
pub fn point(name: &str) -> std::io::Result<()> {
    for (point, action) in faults() {
        if point != name {
            continue;
        }
        match action {
            Action::Error => {
                return Err(std::io::Error::other(format!(
                    "injected failure at `{name}` (CADENZA_FAULT)"
                )));
            }
            Action::Abort => {
                eprintln!("injected abort at `{name}` (CADENZA_FAULT)");
                std::process::abort();
            }
            Action::Panic => panic!("injected panic at `{name}` (CADENZA_FAULT)"),
            Action::Sleep(ms) => {
                // Tests wait for this line before they kill the process.
                eprintln!("fault: sleeping at `{name}`");
                std::thread::sleep(std::time::Duration::from_millis(*ms));
            }
        }
    }
    Ok(())
}

/// The message of a caught panic (its payload, when it is text).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// The per-file fault point `<prefix>:<file>`.
pub fn file_point(prefix: &str, file: &str) -> std::io::Result<()> {
    if active() {
        point(&format!("{prefix}:{file}"))?;
    }
    Ok(())
}
