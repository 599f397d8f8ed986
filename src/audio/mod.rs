//! Audio rendering with rustysynth and a General MIDI SoundFont, stored as FLAC or WAV.
//!
//! The renderer drives rustysynth's `Synthesizer` from our own note list, following the song's
//! tempo map, so it needs no MIDI bytes; the SoundFont is loaded once and shared across threads.

mod flac;
mod render;
mod wav;

pub use flac::flac_bytes;
pub use render::{Renderer, song_seconds, tick_seconds};
pub use wav::{Audio, wav_bytes};

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
    /// Each rendered piece is scaled so its highest sample sits at this level (dBFS): the
    /// SoundFont alone renders solo piano at about −18 dBFS peak, far softer than music a
    /// listener compares it with. Peak rather than loudness (LUFS) normalisation: it cannot
    /// clip, and one instrument's pieces differ little in crest factor.
    #[serde(default = "default_peak")]
    pub peak_dbfs: f64,
    /// The audio files' format: "flac" (lossless, about half the size; every current browser
    /// plays it) or "wav".
    #[serde(default)]
    pub format: AudioFormat,
}

/// How rendered audio is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    #[default]
    Flac,
    Wav,
}

impl AudioFormat {
    /// Every format, in the order a reader looks for a piece's audio file.
    pub const ALL: [AudioFormat; 2] = [AudioFormat::Flac, AudioFormat::Wav];

    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            AudioFormat::Flac => "flac",
            AudioFormat::Wav => "wav",
        }
    }

    /// The file's bytes.
    pub fn bytes(self, audio: &Audio) -> anyhow::Result<Vec<u8>> {
        match self {
            AudioFormat::Flac => flac_bytes(audio),
            AudioFormat::Wav => Ok(wav_bytes(audio)),
        }
    }
}

/// Writes `audio` as `<stem>.<ext>`; returns the path.
pub fn write_audio(
    stem: &std::path::Path,
    audio: &Audio,
    format: AudioFormat,
) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let path = stem.with_extension(format.ext());
    std::fs::write(&path, format.bytes(audio)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
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
fn default_peak() -> f64 {
    -1.0
}

impl Default for AudioConfig {
    fn default() -> Self {
        AudioConfig {
            soundfont: default_soundfont(),
            required: false,
            sample_rate: default_sample_rate(),
            tail_seconds: default_tail(),
            program: 0,
            peak_dbfs: default_peak(),
            format: AudioFormat::default(),
        }
    }
}

/// What makes `path` no usable SoundFont, from its RIFF header: absent, empty, another
/// format, or shorter than its header says.
fn sf2_problem(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Some("not found".into());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = [0u8; 12];
    if file.read_exact(&mut head).is_err() {
        return Some(format!("is not a SoundFont ({len} bytes)"));
    }
    if &head[0..4] != b"RIFF" || &head[8..12] != b"sfbk" {
        return Some("is not a SoundFont (no RIFF sfbk header)".into());
    }
    let declared = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as u64 + 8;
    (len < declared).then(|| format!("is truncated ({len} of {declared} bytes)"))
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
        check(
            self.peak_dbfs.is_finite() && (-40.0..=0.0).contains(&self.peak_dbfs),
            "audio.peak_dbfs",
            "must be in -40..=0 (dBFS)",
        )?;
        Ok(())
    }

    /// Why there will be no audio, when the SoundFont is missing or is no SoundFont (an empty
    /// or truncated file, another format): what is wrong, what to install, which key to set,
    /// and how to go on without sound.
    pub fn missing(&self) -> Option<String> {
        let problem = sf2_problem(&self.soundfont)?;
        Some(format!(
            "SoundFont {} {problem}: install Debian's fluid-soundfont-gm \
             (`sudo apt-get install fluid-soundfont-gm`; `make pipeline` does it when it can), \
             or set audio.soundfont to a General MIDI .sf2 file, \
             or set audio.required = false to write MIDI only",
            self.soundfont.display()
        ))
    }

    /// Refuses a run that needs audio it cannot have (`audio.required`), before any work: the
    /// SoundFont must be there and read whole.
    pub fn check_available(&self) -> anyhow::Result<()> {
        if !self.required {
            return Ok(());
        }
        if let Some(msg) = self.missing() {
            anyhow::bail!("{msg} (audio.required = true)");
        }
        Renderer::load(self).map(drop).map_err(|e| {
            e.context(
                "set audio.soundfont to a good General MIDI .sf2 file (audio.required = true)",
            )
        })
    }

    /// The renderer, or `None` with a printed notice when the SoundFont is missing and not required.
    pub fn renderer(&self) -> anyhow::Result<Option<Renderer>> {
        if let Some(msg) = self.missing() {
            anyhow::ensure!(!self.required, "{msg} (audio.required = true)");
            eprintln!("warning: {msg}; writing MIDI only (has_audio = false)");
            return Ok(None);
        }
        Renderer::load(self).map(Some)
    }
}
