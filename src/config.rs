//! The run configuration (configs/*.toml): one section per stage, each defined by the module
//! that uses it. Unknown keys and bad values are refused before any work starts, with the file
//! and the key in the message. Only the CLI commands and the stage glue see the whole config;
//! the domain modules take their own section.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::audio::AudioConfig;
use crate::check::{check, is_plain_name};
use crate::generate::GenerateConfig;
use crate::metrics::EvaluateConfig;
use crate::model::ModelConfig;
use crate::shards::Split;
use crate::tokenize::TokenizeConfig;
use crate::train::TrainConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub run: RunConfig,
    #[serde(default)]
    pub tokenize: TokenizeConfig,
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub train: TrainConfig,
    #[serde(default)]
    pub generate: GenerateConfig,
    #[serde(default)]
    pub audio: AudioConfig,
    #[serde(default)]
    pub evaluate: EvaluateConfig,
    /// The file this was read from (not a key).
    #[serde(skip)]
    pub source: PathBuf,
}

/// `[run]`: names, seed and the folders every stage reads and writes (see [`crate::layout`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Outputs go to `<artifacts_dir>/<name>/`.
    pub name: String,
    /// Every random choice derives from this seed.
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_raw_dir")]
    pub raw_dir: PathBuf,
    #[serde(default = "default_tokens_dir")]
    pub tokens_dir: PathBuf,
    #[serde(default = "default_artifacts_dir")]
    pub artifacts_dir: PathBuf,
    /// The held-out split the run is judged on: continuation prompts, their real
    /// continuations and the reference songs come from it. Tune on `valid`, report on `test`.
    #[serde(default = "default_split")]
    pub split: String,
}

impl RunConfig {
    /// [`RunConfig::split`], checked by [`Config::parse`].
    pub fn split(&self) -> Split {
        Split::parse(&self.split).unwrap_or(Split::Test)
    }
}

fn default_raw_dir() -> PathBuf {
    "data/raw/pop1k7".into()
}
fn default_tokens_dir() -> PathBuf {
    "data/tokens".into()
}
fn default_artifacts_dir() -> PathBuf {
    "artifacts".into()
}
fn default_split() -> String {
    "test".into()
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// The config of a file that sets nothing but `run.name`: every default, the default
    /// sampler grid included.
    pub fn builtin() -> Config {
        Self::parse(
            "[run]\nname = \"default\"\n",
            Path::new("(built-in defaults)"),
        )
        .expect("the built-in defaults validate")
    }

    /// The whole config as TOML, every key with its value (defaults included); it parses
    /// back to the same config.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).context("cannot write the config as TOML")
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "bad config {}: {}",
                path.display(),
                e.to_string().trim_end()
            )
        })?;
        cfg.source = path.to_path_buf();
        cfg.validate()
            .with_context(|| format!("bad config {}", path.display()))?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<()> {
        check(
            is_plain_name(&self.run.name),
            "run.name",
            "must be non-empty and use only letters, digits, '-', '_', '.'",
        )?;
        check(
            Split::parse(&self.run.split).is_some(),
            "run.split",
            format!("is {:?}: must be train, valid or test", self.run.split),
        )?;
        self.tokenize.validate()?;
        self.model.validate()?;
        self.train.validate()?;
        self.generate.validate()?;
        self.audio.validate()?;
        self.evaluate.validate()?;
        Ok(())
    }
}
