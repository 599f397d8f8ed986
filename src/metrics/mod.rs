//! H1, H4, GS and per-piece statistics; the evaluate tables; queries.

use serde::{Deserialize, Serialize};

/// `[evaluate]` section of the config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateConfig {}

impl EvaluateConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
