//! Transformer-XL (Dai et al. 2019) in Burn.

use serde::{Deserialize, Serialize};

/// `[model]` section of the config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {}

impl ModelConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
