//! The MIDI files under the raw folder, and the song id each one gets.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A MIDI file found under the raw folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    /// Relative to the raw folder, `/`-separated: the stable key for ids, sharding and order.
    pub rel: String,
}

impl Source {
    /// The song id: the relative path without its extension (`src_001/12`).
    pub fn song_id(&self) -> String {
        match self.rel.rfind('.') {
            Some(i) => self.rel[..i].to_string(),
            None => self.rel.clone(),
        }
    }
}

fn is_midi(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

/// All MIDI files under `root`, any depth, sorted by relative path.
pub fn list_sources(root: &Path) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).with_context(|| {
            format!(
                "cannot list {} (run `make data` to link or fetch the corpus)",
                dir.display()
            )
        })?;
        for e in entries {
            let path = e?.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_midi(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(Source { path, rel });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// A content hash of the files (relative path and bytes' hash of each), so a touched but
/// identical file leaves it unchanged and an edited one does not.
pub fn sources_fingerprint(sources: &[Source]) -> Result<String> {
    use rayon::prelude::*;
    let lines: Vec<String> = sources
        .par_iter()
        .map(|s| {
            let bytes = std::fs::read(&s.path)
                .with_context(|| format!("cannot read {}", s.path.display()))?;
            Ok(format!("{} {}", s.rel, crate::hash::sha256_hex(&bytes)))
        })
        .collect::<Result<_>>()?;
    Ok(crate::hash::sha256_hex(lines.join("\n").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn song_id_drops_extension_only() {
        let id = |rel: &str| {
            Source {
                path: PathBuf::new(),
                rel: rel.into(),
            }
            .song_id()
        };
        assert_eq!(id("src_001/12.mid"), "src_001/12");
        assert_eq!(id("a.b/c.midi"), "a.b/c");
    }
}
