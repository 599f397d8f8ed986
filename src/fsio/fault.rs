//! Injected failures for tests of interrupt safety: `CADENZA_FAIL_AT=<point>` makes the named
//! point fail as a crash would (points: `tokenize:before-commit`, ...).

use anyhow::{Result, bail};

pub fn point(name: &str) -> Result<()> {
    if std::env::var("CADENZA_FAIL_AT").is_ok_and(|v| v == name) {
        bail!("injected failure at `{name}` (CADENZA_FAIL_AT)");
    }
    Ok(())
}
