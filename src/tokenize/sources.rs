//! The MIDI files under the raw folder, and the song id each one gets.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A MIDI file found under the raw folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    /// Relative to the raw folder, `/`-separated: the stable key for sharding and order.
    pub rel: String,
    /// The song id: `rel` without its extension (`src_001/12`), or the whole `rel` where two
    /// files would otherwise share one (`x.mid` beside `x.MID`). Unique in a listing.
    pub id: String,
}

/// `rel` without its extension.
fn stem(rel: &str) -> &str {
    match rel.rfind('.') {
        Some(i) if !rel[i..].contains('/') => &rel[..i],
        _ => rel,
    }
}

/// A path component as text, one-to-one: a name that is not UTF-8 keeps its readable part and
/// gains a hash of its bytes, so two such names never become one.
fn component_text(name: &OsStr) -> String {
    match name.to_str() {
        Some(s) => s.to_string(),
        None => {
            let bytes = name.as_encoded_bytes();
            let hash = crate::hash::sha256_hex(bytes);
            format!("{}#{}", name.to_string_lossy(), &hash[..8])
        }
    }
}

fn is_midi(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

/// All MIDI files under `root`, any depth, sorted by relative path. A file that cannot be
/// statted (a dangling link) is still listed: reading it makes it an `io` reject.
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
            let path = e
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if is_midi(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel = rel
                    .components()
                    .map(|c| component_text(c.as_os_str()))
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(Source {
                    path,
                    id: stem(&rel).to_string(),
                    rel,
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for s in &out {
        *by_id.entry(s.id.clone()).or_default() += 1;
    }
    for s in &mut out {
        if by_id[&s.id] > 1 {
            s.id = s.rel.clone();
        }
    }
    Ok(out)
}

/// A content hash of the files (relative path and bytes' hash of each), so a touched but
/// identical file leaves it unchanged and an edited one does not. A file that cannot be read
/// enters as its error: tokenize then records it as rejected instead of stopping.
pub fn sources_fingerprint(sources: &[Source]) -> String {
    use rayon::prelude::*;
    let lines: Vec<String> = sources
        .par_iter()
        .map(|s| match std::fs::read(&s.path) {
            Ok(bytes) => format!("{} {}", s.rel, crate::hash::sha256_hex(&bytes)),
            Err(e) => format!("{} unreadable: {}", s.rel, e.kind()),
        })
        .collect();
    crate::hash::sha256_hex(lines.join("\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_drop_the_extension_and_stay_unique() {
        let d = tempfile::tempdir().unwrap();
        for name in ["src_001/12.mid", "a.b/c.midi", "x.mid", "x.MID", "y"] {
            let p = d.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"").unwrap();
        }
        let ids: Vec<String> = list_sources(d.path())
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, ["a.b/c", "src_001/12", "x.MID", "x.mid"]);
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_stay_apart() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        for bytes in [&b"\xff1.mid"[..], &b"\xfe1.mid"[..]] {
            std::fs::write(d.path().join(OsStr::from_bytes(bytes)), b"").unwrap();
        }
        let s = list_sources(d.path()).unwrap();
        assert_eq!(s.len(), 2);
        assert_ne!(s[0].id, s[1].id, "{s:?}");
        assert_ne!(s[0].rel, s[1].rel);
    }
}
