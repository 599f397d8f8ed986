//! Entry points: the whole configured store (the generate stage) and ad-hoc runs
//! (`pipeline generate --checkpoint PATH --task T --sampler NAME --n N --out DIR`).

use anyhow::{Context, Result, anyhow};
use std::path::{Path, PathBuf};

use super::grammar::remi_specials;
use super::kv::KvXl;
use super::prompts::{Prompt, dir_prompts, test_prompts};
use super::run::{GenerateSummary, generate_store};
use super::xl::load_checkpoint;
use super::{GenerateConfig, Task};
use crate::config::Config;
use crate::model::CpuBackend;

/// The checkpoint generation uses: `generate.checkpoint`, else the train stage's output folder.
pub fn checkpoint_path(cfg: &Config) -> PathBuf {
    cfg.generate
        .checkpoint
        .clone()
        .unwrap_or_else(|| cfg.run_dir().join("train"))
}

/// Continuation prompts: `generate.prompt_dir` if set, else test-split songs from the shards.
/// Empty when no configured task needs prompts.
pub fn prompts_for(cfg: &Config, gcfg: &GenerateConfig) -> Result<Vec<Prompt>> {
    if !gcfg.tasks.contains(&Task::Continuation) {
        return Ok(Vec::new());
    }
    let sp = remi_specials();
    match &gcfg.prompt_dir {
        Some(dir) => dir_prompts(dir, gcfg.prompt_bars, sp),
        None => test_prompts(
            &cfg.tokens_dir(),
            cfg.run.seed,
            gcfg.n_prompts,
            gcfg.prompt_bars,
            sp,
        ),
    }
}

/// Generate the store configured in `cfg` under `out` from `checkpoint`.
pub fn generate_with(
    cfg: &Config,
    gcfg: &GenerateConfig,
    checkpoint: &Path,
    out: &Path,
    force: bool,
) -> Result<GenerateSummary> {
    let device = Default::default();
    let loaded = load_checkpoint::<CpuBackend>(checkpoint, &device)?;
    let model = KvXl::new(&loaded.model, device)?;
    let prompts = prompts_for(cfg, gcfg)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    generate_store(
        &model,
        &loaded.fingerprint,
        gcfg,
        &cfg.audio,
        cfg.run.seed,
        &prompts,
        out,
        force,
    )
}

/// One task × one configured sampler × `n` pieces, into `out/task=…/sampler=…/`.
pub fn generate_adhoc(
    cfg: &Config,
    checkpoint: &Path,
    task: Task,
    sampler: &str,
    n: usize,
    out: &Path,
) -> Result<GenerateSummary> {
    let s = cfg.generate.sampler(sampler).cloned().ok_or_else(|| {
        let names: Vec<_> = cfg
            .generate
            .samplers
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        anyhow!(
            "no sampler `{sampler}` in [[generate.sampler]] (have: {})",
            names.join(", ")
        )
    })?;
    let gcfg = GenerateConfig {
        tasks: vec![task],
        samplers: vec![s],
        pieces_per_sampler: n,
        ..cfg.generate.clone()
    };
    gcfg.validate()?;
    generate_with(cfg, &gcfg, checkpoint, out, false)
}
