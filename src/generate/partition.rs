//! One partition (task × sampler): its requests, their batched decoding into songs, and the
//! fingerprint of everything its files depend on.

use anyhow::{Result, anyhow};

use super::prompts::Prompt;
use super::{GenerateConfig, SamplerConfig, Task};
use crate::audio::{AudioConfig, song_seconds};
use crate::midi::Song;
use crate::model::NextToken;
use crate::remi::{Grammar, STEPS_PER_BAR, onset_step};
use crate::rng::Rng;
use crate::samples::SampleRow;
use crate::sampling::{DecodeOptions, Request, decode_batch, remi_specials};

/// A decoded piece ready to be written.
#[derive(Debug, Clone)]
pub struct GeneratedPiece {
    pub row: SampleRow,
    pub song: Song,
}

/// Bars as evaluate counts them: last onset bar + 1 (0 without notes).
pub fn song_bars(song: &Song) -> u32 {
    song.notes
        .iter()
        .map(|n| onset_step(n.start) / STEPS_PER_BAR + 1)
        .max()
        .unwrap_or(0)
}

/// The seed of one piece: (run seed, task, sampler, index).
pub fn piece_seed(run_seed: u64, task: Task, sampler: &str, index: usize) -> u64 {
    Rng::derive(run_seed, &[task.as_str(), sampler, &index.to_string()])
}

/// What one partition is made from.
#[derive(Debug, Clone)]
pub struct PartitionPlan<'a> {
    pub task: Task,
    pub sampler: &'a SamplerConfig,
    pub n: usize,
    /// Continuation prompts (piece i continues prompt i mod len); ignored for unconditional.
    pub prompts: &'a [Prompt],
    pub run_seed: u64,
}

/// Decode the pieces of one partition (in batches of `gcfg.batch_size`) and turn them into songs.
pub fn generate_pieces<M: NextToken>(
    model: &M,
    gcfg: &GenerateConfig,
    plan: &PartitionPlan,
) -> Result<Vec<GeneratedPiece>> {
    let sp = remi_specials();
    let mut reqs = Vec::with_capacity(plan.n);
    let mut sources = Vec::with_capacity(plan.n);
    for i in 0..plan.n {
        let seed = piece_seed(plan.run_seed, plan.task, &plan.sampler.name, i);
        let (prompt, target, source) = match plan.task {
            Task::Unconditional | Task::Baseline => (vec![sp.bos], gcfg.unconditional_bars, None),
            Task::Continuation => {
                let p = plan
                    .prompts
                    .get(i % plan.prompts.len().max(1))
                    .ok_or_else(|| anyhow!("continuation needs at least one prompt"))?;
                (
                    p.tokens.clone(),
                    p.bars(sp) + gcfg.continuation_bars,
                    Some(p.source.clone()),
                )
            }
        };
        reqs.push(Request {
            prompt,
            target_bars: target,
            seed,
        });
        sources.push(source);
    }
    let opts = DecodeOptions {
        sampler: plan.sampler.clone(),
        specials: sp,
        max_tokens: gcfg.max_tokens,
    };
    let mut out = Vec::with_capacity(plan.n);
    for (b, chunk) in reqs.chunks(gcfg.batch_size).enumerate() {
        let decoded = decode_batch(model, Grammar::new, chunk, &opts)?;
        for (j, (d, r)) in decoded.into_iter().zip(chunk).enumerate() {
            let i = b * gcfg.batch_size + j;
            let song = crate::remi::decode(&d.tokens).map_err(|e| {
                anyhow!(
                    "piece {i} of {}/{} does not decode: {e}",
                    plan.task,
                    plan.sampler.name
                )
            })?;
            out.push(GeneratedPiece {
                row: SampleRow {
                    piece: i as u32,
                    seed: r.seed,
                    n_tokens: d.tokens.len() as u32,
                    n_bars: song_bars(&song),
                    prompt_source: sources[i].clone(),
                    start_bar: d.start_bar,
                    seconds: song_seconds(&song),
                    has_audio: false,
                    tokens: d.tokens,
                },
                song,
            });
        }
    }
    Ok(out)
}

/// The real continuations of the prompts (task=continuation, sampler=real): piece i is prompt
/// i's song, prompt and following bars, decoded from its tokens as a generated piece is.
pub fn real_pieces(prompts: &[Prompt]) -> Result<Vec<GeneratedPiece>> {
    let sp = remi_specials();
    prompts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let song = crate::remi::decode(&p.real).map_err(|e| {
                anyhow!("the real continuation of {} does not decode: {e}", p.source)
            })?;
            Ok(GeneratedPiece {
                row: SampleRow {
                    piece: i as u32,
                    seed: 0,
                    n_tokens: p.real.len() as u32,
                    n_bars: song_bars(&song),
                    prompt_source: Some(p.source.clone()),
                    start_bar: p.bars(sp),
                    seconds: song_seconds(&song),
                    has_audio: false,
                    tokens: p.real.clone(),
                },
                song,
            })
        })
        .collect()
}

/// The fingerprint of the real continuations' pieces.
pub fn real_fingerprint(prompts: &[Prompt]) -> String {
    let real: Vec<(&str, &[u16])> = prompts
        .iter()
        .map(|p| (p.source.as_str(), p.real.as_slice()))
        .collect();
    let key = serde_json::json!({
        "real": real,
        "version": env!("CARGO_PKG_VERSION"),
    });
    crate::hash::sha256_hex(key.to_string().as_bytes())
}

/// The fingerprint of a partition's pieces: everything its tokens and MIDI depend on (its
/// audio has its own, [`audio_fingerprint`]).
pub fn partition_fingerprint(
    model_fp: &str,
    gcfg: &GenerateConfig,
    plan: &PartitionPlan,
) -> String {
    let prompts: Vec<(&str, &[u16])> = match plan.task {
        Task::Unconditional | Task::Baseline => Vec::new(),
        Task::Continuation => plan
            .prompts
            .iter()
            .map(|p| (p.source.as_str(), p.tokens.as_slice()))
            .collect(),
    };
    let bars = match plan.task {
        Task::Unconditional | Task::Baseline => gcfg.unconditional_bars,
        Task::Continuation => gcfg.continuation_bars,
    };
    // The tasks a sampler runs for pick partitions; they do not change its pieces.
    let sampler = SamplerConfig {
        tasks: Vec::new(),
        ..plan.sampler.clone()
    };
    let key = serde_json::json!({
        "model": model_fp,
        "task": plan.task.as_str(),
        "sampler": sampler,
        "seed": plan.run_seed,
        "n": plan.n,
        "bars": bars,
        "max_tokens": gcfg.max_tokens,
        "window": gcfg.window.name(),
        "prompts": prompts,
        "version": env!("CARGO_PKG_VERSION"),
    });
    crate::hash::sha256_hex(key.to_string().as_bytes())
}

/// The fingerprint of a partition's audio: the audio settings and the SoundFont's identity
/// when pieces are rendered, a fixed text when they are MIDI only. A SoundFont installed (or
/// replaced) later changes it, and then only the audio is rendered again.
pub fn audio_fingerprint(audio: &AudioConfig, rendered: bool) -> String {
    if !rendered {
        return "midi-only".into();
    }
    let key = serde_json::json!({
        "audio": serde_json::to_value(audio).unwrap_or_default(),
        "soundfont": soundfont_identity(&audio.soundfont),
        "version": env!("CARGO_PKG_VERSION"),
    });
    crate::hash::sha256_hex(key.to_string().as_bytes())
}

/// The SoundFont file's size and modification time (hashing its 140 MB on every status would
/// be slow), or "absent".
pub fn soundfont_identity(path: &std::path::Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} bytes, modified {mtime}", m.len())
        }
        _ => "absent".into(),
    }
}
