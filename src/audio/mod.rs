//! WAV rendering with rustysynth and a General MIDI SoundFont.
//!
//! The renderer drives rustysynth's `Synthesizer` from our own note list, following the song's
//! tempo map, so it needs no MIDI bytes; the SoundFont is loaded once and shared across threads.

mod render;
mod wav;

pub use render::{Renderer, song_seconds, tick_seconds};
pub use wav::{Audio, wav_bytes, write_wav};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::check::check;

/// `[audio]` section of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioConfig {
    /// A General MIDI SoundFont (.sf2). Debian/Ubuntu: `apt-get install fluid-soundfont-gm`.
    #[serde(default = "default_soundfont")]
    pub soundfont: PathBuf,
    /// When true, a missing SoundFont is an error; otherwise generation writes MIDI only.
    #[serde(default)]
    pub required: bool,
    #[serde(default = "default_sample_rate")]
    pub sample_rate: u32,
    /// Seconds rendered after the last note-off, so the release is not cut.
    #[serde(default = "default_tail")]
    pub tail_seconds: f64,
    /// General MIDI program (0 = acoustic grand piano).
    #[serde(default)]
    pub program: u8,
}

fn default_soundfont() -> PathBuf {
    "/usr/share/sounds/sf2/FluidR3_GM.sf2".into()
}
fn default_sample_rate() -> u32 {
    44_100
}
fn default_tail() -> f64 {
    1.0
}

impl Default for AudioConfig {
    fn default() -> Self {
        AudioConfig {
            soundfont: default_soundfont(),
            required: false,
            sample_rate: default_sample_rate(),
            tail_seconds: default_tail(),
            program: 0,
        }
    }
}

impl AudioConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        check(
            !self.soundfont.as_os_str().is_empty(),
            "audio.soundfont",
            "must be a path to a .sf2 file",
        )?;
        check(
            (8_000..=192_000).contains(&self.sample_rate),
            "audio.sample_rate",
            "must be in 8000..=192000",
        )?;
        check(
            self.tail_seconds.is_finite() && (0.0..=30.0).contains(&self.tail_seconds),
            "audio.tail_seconds",
            "must be in 0..=30",
        )?;
        check(
            self.program < 128,
            "audio.program",
            "must be a General MIDI program 0..=127",
        )?;
        Ok(())
    }

    /// The renderer, or `None` with a printed notice when the SoundFont is missing and not required.
    pub fn renderer(&self) -> anyhow::Result<Option<Renderer>> {
        if !self.soundfont.is_file() {
            let msg = format!(
                "SoundFont {} not found: install it (`apt-get install fluid-soundfont-gm`) or set audio.soundfont",
                self.soundfont.display()
            );
            if self.required {
                anyhow::bail!("{msg} (audio.required = true)");
            }
            eprintln!("warning: {msg}; writing MIDI only (has_wav = false)");
            return Ok(None);
        }
        Renderer::load(self).map(Some)
    }
}
