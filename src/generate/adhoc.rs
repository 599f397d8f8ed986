//! `pipeline generate`: one task, one sampler (a configured one, its settings changed from the
//! command line), `n` pieces, optionally continuing the user's own MIDI.

use anyhow::{Result, anyhow, bail};
use std::path::PathBuf;

use super::{GenerateConfig, SamplerConfig, Task};
use crate::check::is_plain_name;
use crate::sampling::{BeamConfig, Family};

/// Sampler settings given on the command line, over the configured sampler's.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SamplerOverrides {
    /// Partition name for the changed sampler (default: the configured sampler's).
    #[arg(long)]
    pub name: Option<String>,
    /// Softmax temperature (1 = the model's distribution).
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Sample among the k likeliest tokens; 0 = off.
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Nucleus sampling's mass; 1 = off.
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Locally typical sampling's mass; 1 = off.
    #[arg(long)]
    pub typical_p: Option<f64>,
    /// Drop tokens below this share of the likeliest one's probability; 0 = off.
    #[arg(long)]
    pub min_p: Option<f64>,
    /// A family's override, FAMILY.SETTING=VALUE (bar_position | chord | tempo | pitch |
    /// velocity | duration; temperature | top_k | top_p); repeatable.
    #[arg(long = "family", value_name = "FAMILY.SETTING=VALUE")]
    pub family: Vec<String>,
    /// Beam search of this width instead of sampling; 0 = sampling.
    #[arg(long)]
    pub beam: Option<usize>,
    /// Stochastic beam search (Gumbel top-k) with --beam.
    #[arg(long)]
    pub stochastic: bool,
    /// Beam search's length normalisation exponent (default 1).
    #[arg(long)]
    pub length_penalty: Option<f64>,
}

impl SamplerOverrides {
    /// `s` with these settings; refuses a bad one naming its flag.
    pub fn apply(&self, mut s: SamplerConfig) -> Result<SamplerConfig> {
        if let Some(name) = &self.name {
            if !is_plain_name(name) {
                bail!("--name: must be non-empty and use only letters, digits, '-', '_', '.'");
            }
            s.name = name.clone();
        }
        set(&mut s.temperature, self.temperature);
        set(&mut s.top_k, self.top_k);
        set(&mut s.top_p, self.top_p);
        set(&mut s.typical_p, self.typical_p);
        set(&mut s.min_p, self.min_p);
        for f in &self.family {
            set_family(&mut s, f).map_err(|e| anyhow!("--family {f}: {e}"))?;
        }
        match self.beam {
            Some(0) => s.beam = None,
            Some(width) => {
                let b = s.beam.get_or_insert(BeamConfig {
                    width,
                    stochastic: false,
                    length_penalty: 1.0,
                });
                b.width = width;
            }
            None => {}
        }
        if self.stochastic || self.length_penalty.is_some() {
            let Some(b) = s.beam.as_mut() else {
                bail!("--stochastic and --length-penalty need --beam (or a beam sampler)");
            };
            b.stochastic |= self.stochastic;
            set(&mut b.length_penalty, self.length_penalty);
        }
        s.validate_settings(&|k| format!("--{}", k.replace('_', "-")))?;
        Ok(s)
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// Applies one `FAMILY.SETTING=VALUE`.
fn set_family(s: &mut SamplerConfig, spec: &str) -> Result<()> {
    let (path, value) = spec
        .split_once('=')
        .ok_or_else(|| anyhow!("expected FAMILY.SETTING=VALUE"))?;
    let (family, setting) = path
        .split_once('.')
        .ok_or_else(|| anyhow!("expected FAMILY.SETTING=VALUE"))?;
    let f = Family::ALL
        .into_iter()
        .find(|f| f.key() == family)
        .ok_or_else(|| anyhow!("unknown family `{family}`"))?;
    let o = s.family.get_mut(f).get_or_insert_default();
    let bad = |_| anyhow!("`{value}` is not a number");
    match setting {
        "temperature" => o.temperature = Some(value.parse().map_err(bad)?),
        "top_p" => o.top_p = Some(value.parse().map_err(bad)?),
        "top_k" => {
            o.top_k = Some(
                value
                    .parse()
                    .map_err(|_| anyhow!("`{value}` is not a count"))?,
            )
        }
        _ => bail!("unknown setting `{setting}` (temperature | top_k | top_p)"),
    }
    Ok(())
}

/// What `pipeline generate` makes, besides the checkpoint and the output folder.
#[derive(Debug, Clone, clap::Args)]
pub struct AdhocArgs {
    /// unconditional | continuation (default: continuation with --prompt, else unconditional).
    #[arg(long, value_parser = parse_task)]
    pub task: Option<Task>,
    /// A sampler name from the config's [[generate.sampler]] entries; the options below change
    /// its settings.
    #[arg(long, default_value = "t1.0_k40_pitchp0.95_prior")]
    pub sampler: String,
    /// Pieces (each prompt in turn when there are several).
    #[arg(long, default_value_t = 4)]
    pub n: usize,
    /// A MIDI file, or a folder of them, to continue (instead of test-split songs).
    #[arg(long)]
    pub prompt: Option<PathBuf>,
    /// Bars of each prompt kept (a shorter file is used whole).
    #[arg(long)]
    pub prompt_bars: Option<u32>,
    /// Bars to generate: after the prompt (continuation) or in all (unconditional).
    #[arg(long)]
    pub bars: Option<u32>,
    /// The seed of the pieces (default: the config's run.seed); the same seed gives the same
    /// pieces.
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub overrides: SamplerOverrides,
}

fn parse_task(s: &str) -> Result<Task, String> {
    Task::parse(s).ok_or_else(|| format!("unknown task `{s}`: unconditional or continuation"))
}

impl AdhocArgs {
    /// `n` pieces of `task` with `sampler` and the defaults otherwise.
    pub fn new(task: Task, sampler: &str, n: usize) -> AdhocArgs {
        AdhocArgs {
            task: Some(task),
            sampler: sampler.into(),
            n,
            prompt: None,
            prompt_bars: None,
            bars: None,
            seed: None,
            overrides: SamplerOverrides::default(),
        }
    }
}

impl GenerateConfig {
    /// The same settings narrowed to what `a` asks for: one task, one configured sampler (with
    /// its overrides), `n` pieces, the user's prompts; without the baseline.
    pub fn adhoc(&self, a: &AdhocArgs) -> Result<GenerateConfig> {
        let task = match (a.task, &a.prompt) {
            (Some(Task::Unconditional), Some(_)) => {
                bail!("--prompt continues a MIDI file: use it with --task continuation")
            }
            (Some(t), _) => t,
            (None, Some(_)) => Task::Continuation,
            (None, None) => Task::Unconditional,
        };
        let s = self.sampler(&a.sampler).cloned().ok_or_else(|| {
            let names: Vec<_> = self.samplers.iter().map(|s| s.name.as_str()).collect();
            anyhow!(
                "no sampler `{}` in [[generate.sampler]] (have: {})",
                a.sampler,
                names.join(", ")
            )
        })?;
        let s = SamplerConfig {
            tasks: vec![task],
            ..a.overrides.apply(s)?
        };
        let mut g = GenerateConfig {
            tasks: vec![task],
            samplers: vec![s],
            pieces_per_sampler: a.n,
            baseline: false,
            ..self.clone()
        };
        if let Some(p) = &a.prompt {
            if !p.exists() {
                bail!("--prompt {}: no such file or folder", p.display());
            }
            g.prompt_dir = Some(p.clone());
        }
        if let Some(b) = a.prompt_bars {
            g.prompt_bars = b;
        }
        match (a.bars, task) {
            (Some(b), Task::Continuation) => g.continuation_bars = b,
            (Some(b), _) => g.unconditional_bars = b,
            (None, _) => {}
        }
        g.validate()?;
        Ok(g)
    }
}
