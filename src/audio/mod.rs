//! WAV rendering with rustysynth and a General MIDI SoundFont.

use serde::{Deserialize, Serialize};

/// `[audio]` section of the config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioConfig {}

impl AudioConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
