//! The one helper every config section's `validate` uses. A leaf module: the sections import
//! it, and `config` imports the sections, so nothing imports back.

use anyhow::{Result, bail};

/// A value check that names the offending key.
pub fn check(ok: bool, key: &str, why: impl std::fmt::Display) -> Result<()> {
    if ok { Ok(()) } else { bail!("`{key}` {why}") }
}

/// Whether `name` can be a folder name: non-empty, letters, digits, '-', '_', '.'.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}
