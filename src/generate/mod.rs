//! Generation: samplers, tasks, batched cached decoding.

use serde::{Deserialize, Serialize};

/// `[generate]` section of the config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {}

impl GenerateConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
