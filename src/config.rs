//! The run configuration (configs/*.toml): one section per stage. Unknown keys and bad values
//! are refused before any work starts, with the file and the key in the message.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::audio::AudioConfig;
use crate::generate::GenerateConfig;
use crate::metrics::EvaluateConfig;
use crate::model::ModelConfig;
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

/// `[run]`: names, seed and the folders every stage reads and writes.
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

/// `[tokenize]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeConfig {
    /// Name of the token folder under `tokens_dir`.
    #[serde(default = "default_vocab")]
    pub vocab: String,
    #[serde(default = "default_songs_per_shard")]
    pub songs_per_shard: usize,
}

fn default_vocab() -> String {
    "remi".into()
}
fn default_songs_per_shard() -> usize {
    crate::shards::SONGS_PER_SHARD
}

impl Default for TokenizeConfig {
    fn default() -> Self {
        TokenizeConfig {
            vocab: default_vocab(),
            songs_per_shard: default_songs_per_shard(),
        }
    }
}

/// A value check that names the offending key.
pub fn check(ok: bool, key: &str, why: impl std::fmt::Display) -> Result<()> {
    if ok { Ok(()) } else { bail!("`{key}` {why}") }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text, path)
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
        let name_ok = !self.run.name.is_empty()
            && self
                .run
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        check(
            name_ok,
            "run.name",
            "must be non-empty and use only letters, digits, '-', '_', '.'",
        )?;
        let vocab_ok = !self.tokenize.vocab.is_empty()
            && self
                .tokenize
                .vocab
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        check(
            vocab_ok,
            "tokenize.vocab",
            "must be non-empty and use only letters, digits, '-', '_', '.'",
        )?;
        check(
            self.tokenize.songs_per_shard > 0,
            "tokenize.songs_per_shard",
            "must be > 0",
        )?;
        self.model.validate()?;
        self.train.validate()?;
        self.generate.validate()?;
        self.audio.validate()?;
        self.evaluate.validate()?;
        Ok(())
    }

    /// data/tokens/<vocab>
    pub fn tokens_dir(&self) -> PathBuf {
        self.run.tokens_dir.join(&self.tokenize.vocab)
    }

    /// artifacts/<run>
    pub fn run_dir(&self) -> PathBuf {
        self.run.artifacts_dir.join(&self.run.name)
    }

    /// The TOML text of one section, canonicalised, for the stage's config hash.
    pub fn section_hash<T: Serialize>(section: &T) -> String {
        let text = toml::to_string(section).unwrap_or_default();
        crate::hash::sha256_hex(text.as_bytes())
    }
}
