//! Generation: samplers, tasks, batched grammar-constrained decoding, the artifact store.
//!
//! - [`config`]: `[generate]`, the sampler grid and the tasks.
//! - [`decode`], [`sampler`], [`distribution`]: the decoding loop over any [`NextToken`] model
//!   (from `sampling`).
//! - [`adhoc`]: `pipeline generate`'s one-off settings.
//! - [`prompts`], [`unigram`]: continuation prompts and the untrained baseline.
//! - [`partition`], [`store`], [`samples`]: one task × sampler partition, the store of them on
//!   disk, and its samples.parquet table.
//!
//! [`generate`] writes a whole configured store from a checkpoint.

mod adhoc;
mod config;
pub mod partition;
pub mod prompts;
pub mod store;
pub mod unigram;

pub use crate::sampling::{
    BeamConfig, DecodeOptions, Decoded, Families, Family, FamilySettings, PiecePitches, PitchPrior,
    Request, SamplerConfig, Specials, TokenGrammar, decode, decode_batch, distribution,
    remi_specials, sampler,
};
pub use adhoc::{AdhocArgs, SamplerOverrides};
pub use config::{GenerateConfig, Task, default_samplers};
pub use partition::{
    PartitionPlan, audio_fingerprint, generate_pieces, partition_fingerprint, piece_seed, song_bars,
};
pub use prompts::{Prompt, cut_bars, dir_prompts, split_prompts};
pub use store::{Fingerprinted, GenerateSummary, StoreSpec, write_store};

use anyhow::{Context, Result};
use std::path::Path;

use crate::audio::AudioConfig;
use crate::model::{Checkpoint, CpuBackend, KvDecoder, NextToken};
use crate::shards::Split;
use unigram::Unigram;

/// What a generation run reads.
pub struct GenerateJob<'a> {
    pub generate: &'a GenerateConfig,
    pub audio: &'a AudioConfig,
    pub seed: u64,
    /// The split whose songs are the continuation prompts.
    pub split: Split,
    /// The token shards: the prompts and the baseline's token frequencies.
    pub tokens_dir: &'a Path,
    /// A checkpoint folder, a checkpoints folder or a train output folder (newest checkpoint).
    pub checkpoint: &'a Path,
}

/// Generates the store `job.generate` configures into `out` (CPU, cached decoding), skipping
/// partitions that are fresh unless `force`.
pub fn generate(job: &GenerateJob, out: &Path, force: bool) -> Result<GenerateSummary> {
    let g = job.generate;
    let ckpt = Checkpoint::resolve(job.checkpoint)?;
    let fingerprint = ckpt.fingerprint()?;
    let model = ckpt
        .load_model::<CpuBackend>(&Default::default())
        .with_context(|| format!("loading checkpoint {}", ckpt.dir.display()))?;
    let decoder = KvDecoder::new(&model, ckpt.model_config()?.tgt_len, g.window)?;
    let prompts = prompts_for(g, job.tokens_dir, job.split, job.seed)?;
    let unigram = if g.baseline {
        let songs = crate::shards::read_shards(job.tokens_dir)?;
        Some(Unigram::from_songs(&songs, decoder.vocab_size()))
    } else {
        None
    };
    let unigram_fp = unigram
        .as_ref()
        .map(Unigram::fingerprint)
        .unwrap_or_default();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let spec = StoreSpec {
        generate: g,
        audio: job.audio,
        run_seed: job.seed,
        prompts: &prompts,
        root: out,
        force,
    };
    let model = Fingerprinted {
        model: &decoder,
        fingerprint: &fingerprint,
    };
    let baseline = unigram.as_ref().map(|u| Fingerprinted {
        model: u,
        fingerprint: &unigram_fp,
    });
    write_store(&spec, model, baseline)
}

/// Continuation prompts: `generate.prompt_dir` if set, else songs of `split` from the shards.
/// Empty when no configured task needs prompts.
pub fn prompts_for(
    g: &GenerateConfig,
    tokens_dir: &Path,
    split: Split,
    seed: u64,
) -> Result<Vec<Prompt>> {
    if !g.tasks.contains(&Task::Continuation) {
        return Ok(Vec::new());
    }
    let sp = remi_specials();
    let bars = (g.prompt_bars, g.continuation_bars);
    match &g.prompt_dir {
        Some(dir) => dir_prompts(dir, bars, sp),
        None => split_prompts(tokens_dir, split, seed, g.n_prompts, bars, sp),
    }
}
