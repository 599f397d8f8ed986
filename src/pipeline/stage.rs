//! What a stage is to the runner. The runner is generic over the context `C` the stages read
//! (for cadenza: the config and the run's layout), so it knows no stage and no config.

use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Counts recorded in the manifest (files, songs, tokens, ...).
pub type Counts = BTreeMap<String, serde_json::Value>;

/// Fingerprints of a stage's inputs by name: upstream stages by their name, other inputs
/// (raw files, hand-made pieces) by a name of the stage's choosing.
pub type Inputs = BTreeMap<String, String>;

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

    /// The part a folder name `part-i-of-N` stands for.
    pub fn of_part_name(name: &str) -> Option<ShardSpec> {
        let (i, n) = name.strip_prefix(PART_PREFIX)?.split_once("-of-")?;
        let (index, count) = (i.parse().ok()?, n.parse().ok()?);
        (index < count && count > 1).then_some(ShardSpec { index, count })
    }

    /// The folder of this part inside a shardable stage's output folder (`part-i-of-N`).
    pub fn part_dir(&self, output: &Path) -> PathBuf {
        if self.count > 1 {
            output.join(format!("{PART_PREFIX}{}-of-{}", self.index, self.count))
        } else {
            output.to_path_buf()
        }
    }
}

/// Folder names of the parts written by `--shard i/N` runs.
pub const PART_PREFIX: &str = "part-";

/// An upstream stage whose finished output a stage reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upstream {
    pub stage: &'static str,
    /// Without it the stage cannot run; an optional upstream counts only when it has finished.
    pub required: bool,
}

impl Upstream {
    pub const fn required(stage: &'static str) -> Upstream {
        Upstream {
            stage,
            required: true,
        }
    }
    pub const fn optional(stage: &'static str) -> Upstream {
        Upstream {
            stage,
            required: false,
        }
    }
}

/// What the runner hands a stage for one run.
pub struct Job<'a> {
    /// Where to write (the stage's output folder, or its part with `--shard`); the manifest
    /// goes in here after the stage returns.
    pub out: &'a Path,
    /// The inputs as they are now (upstream fingerprints and the stage's own).
    pub inputs: &'a Inputs,
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

pub trait Stage<C>: Sync {
    fn name(&self) -> &'static str;
    /// The stages whose outputs this one reads: they order the graph, and their fingerprints
    /// are inputs of this stage.
    fn upstream(&self) -> &'static [Upstream] {
        &[]
    }
    /// Whether `--shard i/N` may split the work (each part in its own folder).
    fn shardable(&self) -> bool {
        false
    }
    /// Whether the stage rewrites its folder in place (resuming, keeping what is still fresh)
    /// rather than replacing it whole: its manifest is removed before it starts.
    fn in_place(&self) -> bool {
        false
    }
    /// Where the stage writes; its manifest.json goes in here, last.
    fn output_dir(&self, ctx: &C) -> PathBuf;
    /// Hash of the config the stage uses (only its own sections, so other edits keep it fresh).
    fn config_hash(&self, ctx: &C) -> String;
    /// Fingerprints of inputs that are not upstream stages (raw files, hand-added pieces).
    fn own_inputs(&self, _ctx: &C) -> Result<Inputs> {
        Ok(Inputs::new())
    }
    /// Do the work. Outputs must be written atomically (see `fsio::atomic`), so that a failure
    /// leaves the previous outputs intact.
    fn run(&self, ctx: &C, job: &Job) -> Result<StageOutput>;
}
