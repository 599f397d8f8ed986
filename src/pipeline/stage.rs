//! What a stage is to the runner.

use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// Counts recorded in the manifest and printed in the summary line (files, songs, tokens, ...).
pub type Counts = BTreeMap<String, serde_json::Value>;

/// Which 1/N of the work this process does (`--shard i/N`, for array jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: usize,
    pub count: usize,
}

impl ShardSpec {
    pub const ALL: ShardSpec = ShardSpec { index: 0, count: 1 };

    /// Whether the item with this stable key belongs to this shard.
    pub fn owns(&self, key: &str) -> bool {
        self.count <= 1
            || (crate::rng::Rng::derive(0, &["shard", key]) % self.count as u64) as usize
                == self.index
    }
}

/// What the runner hands a stage.
pub struct StageCtx<'a> {
    pub cfg: &'a Config,
    pub force: bool,
    pub shard: ShardSpec,
}

/// Outcome of a stage run, written into its manifest.
pub struct StageOutput {
    pub counts: Counts,
    /// A hash of what the stage wrote, so downstream stages notice when it changes.
    pub fingerprint: String,
    /// The one-line summary printed at the end.
    pub summary: String,
}

pub trait Stage: Sync {
    fn name(&self) -> &'static str;
    /// Hash of the config the stage uses (only its own sections, so other edits keep it fresh).
    fn config_hash(&self, cfg: &Config) -> String;
    /// Where the stage writes; its manifest.json goes in here, last.
    fn output_dir(&self, cfg: &Config) -> PathBuf;
    /// Fingerprints of the inputs as they are now: upstream manifests' fingerprints or file hashes.
    /// Fails, naming the stage to run first, when an upstream output is missing.
    fn inputs(&self, cfg: &Config) -> Result<BTreeMap<String, String>>;
    /// Do the work. Outputs must be written atomically (see `pipeline::atomic`), so that a failure
    /// leaves the previous outputs intact.
    fn run(&self, ctx: &StageCtx, out: &Path) -> Result<StageOutput>;
}
