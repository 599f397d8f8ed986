//! Training: batches from shards, schedule, checkpoints, TensorBoard.

use serde::{Deserialize, Serialize};

/// `[train]` section of the config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {}

impl TrainConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
