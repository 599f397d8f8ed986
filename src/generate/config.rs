//! `[generate]` and `[[generate.sampler]]`: tasks, bar counts, the sampler grid.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::check::{check, is_plain_name};
use crate::model::Window;
pub use crate::sampling::Task;
use crate::sampling::{Families, FamilySettings, PitchPrior, SamplerConfig};

/// `[generate]` section of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    #[serde(default = "default_tasks")]
    pub tasks: Vec<Task>,
    /// Pieces per task × sampler.
    #[serde(default = "default_pieces")]
    pub pieces_per_sampler: usize,
    /// Bars of an unconditional piece.
    #[serde(default = "default_unconditional_bars")]
    pub unconditional_bars: u32,
    /// Bars of each continuation prompt.
    #[serde(default = "default_prompt_bars")]
    pub prompt_bars: u32,
    /// New bars after the prompt.
    #[serde(default = "default_continuation_bars")]
    pub continuation_bars: u32,
    /// Test-split songs used as prompts (piece i continues prompt i mod n).
    #[serde(default = "default_pieces")]
    pub n_prompts: usize,
    /// A prompt MIDI file, or a folder of them, to use instead of test-split songs.
    #[serde(default)]
    pub prompt_dir: Option<PathBuf>,
    /// Checkpoint to generate from; default: the train stage's latest.
    #[serde(default)]
    pub checkpoint: Option<PathBuf>,
    /// Pieces decoded together in one batch (all of a sampler when >= pieces_per_sampler).
    #[serde(default = "default_pieces")]
    pub batch_size: usize,
    /// Safety budget per piece: past it, the sampler may only close bars (Bar / Eos when the
    /// grammar allows them), so a degenerate model cannot decode forever.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// Keys a decoding step attends to: "mem_len+1" (the XL memory and the new position) or
    /// "mem_len+tgt_len" (the most a training query saw).
    #[serde(default)]
    pub window: Window,
    #[serde(default = "default_samplers", rename = "sampler")]
    pub samplers: Vec<SamplerConfig>,
    /// Also write task=baseline/sampler=unigram: unconditional pieces drawn from the train
    /// split's token frequencies under the same grammar, so the tables show what the model adds.
    #[serde(default = "yes")]
    pub baseline: bool,
}

fn yes() -> bool {
    true
}

fn default_tasks() -> Vec<Task> {
    vec![Task::Unconditional, Task::Continuation]
}
fn default_pieces() -> usize {
    40
}
fn default_unconditional_bars() -> u32 {
    32
}
fn default_prompt_bars() -> u32 {
    8
}
fn default_continuation_bars() -> u32 {
    24
}
fn default_max_tokens() -> usize {
    8192
}
/// The grid of configs/default.toml (docs/study.md says why each entry is there).
pub fn default_samplers() -> Vec<SamplerConfig> {
    // Top-k 40, durations untruncated (the long notes are the tail of their family), and the
    // piece's own scale, classes and range as a prior (docs/study.md "Pitch prior").
    let sampler = |name, pitch_top_p: Option<f64>, new_class| {
        let mut family = Families::default();
        family.duration = Some(FamilySettings {
            top_k: Some(0),
            ..Default::default()
        });
        family.pitch = pitch_top_p.map(|p| FamilySettings {
            top_p: Some(p),
            ..Default::default()
        });
        SamplerConfig {
            family,
            pitch_prior: Some(PitchPrior {
                out_of_scale: 0.5,
                new_class,
                beyond_range: 0.4,
                after_notes: 8,
            }),
            ..SamplerConfig::new(name, 1.0, 40, 1.0)
        }
    };
    vec![
        sampler("t1.0_k40_pitchp0.95_prior", Some(0.95), 1.0),
        sampler("t1.0_k40_pitchp0.95_prior_n1.5", Some(0.95), 1.5),
        sampler("t1.0_k40_prior", None, 1.0),
    ]
}

impl Default for GenerateConfig {
    fn default() -> Self {
        GenerateConfig {
            tasks: default_tasks(),
            baseline: true,
            pieces_per_sampler: default_pieces(),
            unconditional_bars: default_unconditional_bars(),
            prompt_bars: default_prompt_bars(),
            continuation_bars: default_continuation_bars(),
            n_prompts: default_pieces(),
            prompt_dir: None,
            checkpoint: None,
            batch_size: default_pieces(),
            max_tokens: default_max_tokens(),
            window: Window::default(),
            samplers: default_samplers(),
        }
    }
}

impl GenerateConfig {
    pub fn validate(&self) -> Result<()> {
        check(
            !self.tasks.is_empty(),
            "generate.tasks",
            "must name at least one task",
        )?;
        check(
            !self.tasks.contains(&Task::Baseline),
            "generate.tasks",
            "cannot name `baseline`: it is switched on by `generate.baseline`",
        )?;
        check(
            self.pieces_per_sampler > 0,
            "generate.pieces_per_sampler",
            "must be > 0",
        )?;
        check(
            self.pieces_per_sampler <= 999,
            "generate.pieces_per_sampler",
            "must be <= 999 (NNN.mid)",
        )?;
        check(
            self.unconditional_bars > 0,
            "generate.unconditional_bars",
            "must be > 0",
        )?;
        check(self.prompt_bars > 0, "generate.prompt_bars", "must be > 0")?;
        check(
            self.continuation_bars > 0,
            "generate.continuation_bars",
            "must be > 0",
        )?;
        check(self.n_prompts > 0, "generate.n_prompts", "must be > 0")?;
        check(self.batch_size > 0, "generate.batch_size", "must be > 0")?;
        check(
            self.max_tokens >= 16,
            "generate.max_tokens",
            "must be >= 16",
        )?;
        check(
            !self.samplers.is_empty(),
            "generate.sampler",
            "needs at least one [[generate.sampler]]",
        )?;
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in self.samplers.iter().enumerate() {
            let key = |k: &str| format!("generate.sampler[{i}].{k}");
            check(
                seen.insert(&s.name),
                &key("name"),
                format!("`{}` is used twice", s.name),
            )?;
            validate_sampler(s, &key)?;
        }
        for &task in &self.tasks {
            check(
                self.samplers.iter().any(|s| s.runs_for(task)),
                "generate.sampler",
                format!("no sampler runs for task `{task}` (each names other `tasks`)"),
            )?;
        }
        Ok(())
    }

    /// The configured partitions, task by task: (task, sampler) for every sampler that runs
    /// for the task.
    pub fn partitions(&self) -> Vec<(Task, &SamplerConfig)> {
        self.tasks
            .iter()
            .flat_map(|&t| {
                self.samplers
                    .iter()
                    .filter(move |s| s.runs_for(t))
                    .map(move |s| (t, s))
            })
            .collect()
    }

    pub fn sampler(&self, name: &str) -> Option<&SamplerConfig> {
        self.samplers.iter().find(|s| s.name == name)
    }
}

/// One `[[generate.sampler]]` entry on its own, its keys named by `key`.
fn validate_sampler(s: &SamplerConfig, key: &dyn Fn(&str) -> String) -> Result<()> {
    check(
        is_plain_name(&s.name),
        &key("name"),
        "must be non-empty and use only letters, digits, '-', '_', '.'",
    )?;
    check(
        s.name != crate::samples::REAL_SAMPLER,
        &key("name"),
        "cannot be `real`: that partition holds the real continuations",
    )?;
    s.validate_settings(key)?;
    check(
        !s.tasks.contains(&Task::Baseline),
        &key("tasks"),
        "cannot name `baseline` (its sampler is fixed)",
    )?;
    let deterministic = s.beam.is_some_and(|b| !b.stochastic);
    check(
        !(deterministic && s.runs_for(Task::Unconditional)),
        &key("beam"),
        "a deterministic beam search from Bos gives every piece the same tokens: \
         set `tasks = [\"continuation\"]` or `beam.stochastic = true`",
    )
}
