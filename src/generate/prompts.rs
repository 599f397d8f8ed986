//! Continuation prompts: the first bars of the songs of one split, or of a folder of MIDI files,
//! each with the song's real continuation (the reference that continuations are judged
//! against).

use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

use crate::remi::vocab::{Kind, kind};
use crate::rng::Rng;
use crate::sampling::Specials;
use crate::shards::{Split, read_shards};

/// A prompt: Bos + the first bars of a song, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// `<split>:<song_id>` (`test:src_001/12`) or the MIDI file's path.
    pub source: String,
    pub tokens: Vec<u16>,
    /// Bos + the same song's first bars, as many as a continuation will have (fewer when the
    /// song is shorter, or ends them with empty bars), + Eos: the prompt followed by its real
    /// continuation.
    pub real: Vec<u16>,
}

impl Prompt {
    /// The bars the prompt holds (its Bar tokens).
    pub fn bars(&self, sp: Specials) -> u32 {
        self.tokens.iter().filter(|&&t| t == sp.bar).count() as u32
    }
}

/// The bars of `song` for a prompt of `bars` bars continued by `more` bars.
fn prompt_of(source: String, song: &[u16], bars: u32, more: u32, sp: Specials) -> Prompt {
    let mut real = with_bos(cut_bars(song, bars + more, sp), sp);
    drop_trailing_empty_bars(&mut real, sp);
    real.push(sp.eos);
    Prompt {
        source,
        tokens: with_bos(cut_bars(song, bars, sp), sp),
        real,
    }
}

/// The tokens before the `(bars + 1)`-th Bar, without Eos or Pad.
pub fn cut_bars(tokens: &[u16], bars: u32, sp: Specials) -> Vec<u16> {
    let mut out = Vec::new();
    let mut seen = 0u32;
    for &t in tokens {
        if t == sp.eos {
            break;
        }
        if t == sp.pad {
            continue;
        }
        if t == sp.bar {
            if seen == bars {
                break;
            }
            seen += 1;
        }
        out.push(t);
    }
    out
}

/// Eos may only follow a bar with a note (the grammar): the bars after the last note go.
fn drop_trailing_empty_bars(tokens: &mut Vec<u16>, sp: Specials) {
    while let Some(last_bar) = tokens.iter().rposition(|&t| t == sp.bar) {
        if tokens[last_bar..].iter().any(|&t| kind(t) == Kind::Pitch) {
            break;
        }
        tokens.truncate(last_bar);
    }
}

/// `n` songs of `split` with at least `bars + more` bars (a prompt and a whole real
/// continuation), chosen by a hash of (seed, song id), cut to `bars`, with their next `more`
/// bars as the real continuation.
pub fn split_prompts(
    tokens_dir: &Path,
    split: Split,
    seed: u64,
    n: usize,
    (bars, more): (u32, u32),
    sp: Specials,
) -> Result<Vec<Prompt>> {
    let songs = read_shards(tokens_dir)
        .with_context(|| format!("reading token shards in {}", tokens_dir.display()))?;
    let mut long: Vec<_> = songs
        .into_iter()
        .filter(|s| s.split == split && s.n_bars >= bars + more)
        .collect();
    if long.is_empty() {
        bail!(
            "no {split}-split song with at least {} bars in {}: run `pipeline run tokenize` first, or set generate.prompt_dir",
            bars + more,
            tokens_dir.display()
        );
    }
    long.sort_by_cached_key(|s| {
        (
            Rng::derive(seed, &["prompt", &s.song_id]),
            s.song_id.clone(),
        )
    });
    Ok(long
        .into_iter()
        .take(n)
        .map(|s| prompt_of(format!("{split}:{}", s.song_id), &s.tokens, bars, more, sp))
        .collect())
}

/// The MIDI file `path`, or every `.mid`/`.midi` file directly in the folder `path` (sorted by
/// name), read, encoded and cut to `bars`, with its next `more` bars as the real continuation.
/// A file with fewer bars is used whole (and a note says so).
pub fn dir_prompts(path: &Path, (bars, more): (u32, u32), sp: Specials) -> Result<Vec<Prompt>> {
    let files: Vec<PathBuf> = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list the prompt folder {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi")
                })
            })
            .collect();
        files.sort();
        files
    };
    if files.is_empty() {
        bail!("the prompt folder {} holds no .mid files", path.display());
    }
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let song =
            crate::midi::read_file(&f).map_err(|e| anyhow!("prompt {}: {e}", f.display()))?;
        let enc = crate::remi::encode(&song).map_err(|e| anyhow!("prompt {}: {e}", f.display()))?;
        let p = prompt_of(f.display().to_string(), &enc.tokens, bars, more, sp);
        let have = p.bars(sp);
        if have < bars {
            eprintln!(
                "note: prompt {} has {have} bars, fewer than the {bars} asked for: used whole",
                f.display()
            );
        }
        out.push(p);
    }
    Ok(out)
}

fn with_bos(mut tokens: Vec<u16>, sp: Specials) -> Vec<u16> {
    if tokens.first() != Some(&sp.bos) {
        tokens.insert(0, sp.bos);
    }
    tokens
}
