//! `pipeline generate`: one task, one sampler (a configured one, its settings changed from the
//! command line), `n` pieces.

use anyhow::{Result, anyhow, bail};

use super::{GenerateConfig, SamplerConfig, Task};
use crate::check::is_plain_name;
use crate::sampling::{BeamConfig, Family};

/// Sampler settings given on the command line, over the configured sampler's.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SamplerOverrides {
    /// Partition name for the changed sampler (default: the configured sampler's).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub temperature: Option<f64>,
    /// 0 = off.
    #[arg(long)]
    pub top_k: Option<usize>,
    /// 1 = off.
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Locally typical sampling's mass; 1 = off.
    #[arg(long)]
    pub typical_p: Option<f64>,
    /// 0 = off.
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

impl GenerateConfig {
    /// The same settings narrowed to one task, one configured sampler (with `overrides`) and
    /// `n` pieces, without the baseline (`pipeline generate`).
    pub fn adhoc(
        &self,
        task: Task,
        sampler: &str,
        overrides: &SamplerOverrides,
        n: usize,
    ) -> Result<GenerateConfig> {
        let s = self.sampler(sampler).cloned().ok_or_else(|| {
            let names: Vec<_> = self.samplers.iter().map(|s| s.name.as_str()).collect();
            anyhow!(
                "no sampler `{sampler}` in [[generate.sampler]] (have: {})",
                names.join(", ")
            )
        })?;
        let s = SamplerConfig {
            tasks: vec![task],
            ..overrides.apply(s)?
        };
        let g = GenerateConfig {
            tasks: vec![task],
            samplers: vec![s],
            pieces_per_sampler: n,
            baseline: false,
            ..self.clone()
        };
        g.validate()?;
        Ok(g)
    }
}
