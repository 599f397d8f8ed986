//! Drive rustysynth's synthesizer from a [`Song`]'s notes, following its tempo map.

use anyhow::{Context, Result, anyhow};
use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};
use std::sync::Arc;

use super::{Audio, AudioConfig, AudioFormat, write_audio};
use crate::midi::{Song, TPB};
use std::path::{Path, PathBuf};

/// Tempo before the first tempo event (the MIDI default).
const DEFAULT_BPM: f64 = 120.0;

/// A loaded SoundFont plus render settings; cheap to share (`Arc`) across rayon threads.
#[derive(Clone)]
pub struct Renderer {
    font: Arc<SoundFont>,
    sample_rate: u32,
    tail_seconds: f64,
    program: u8,
    /// Linear peak level every render is scaled to.
    peak: f32,
    format: AudioFormat,
}

impl Renderer {
    pub fn load(cfg: &AudioConfig) -> Result<Renderer> {
        let file = std::fs::File::open(&cfg.soundfont)
            .with_context(|| format!("cannot open SoundFont {}", cfg.soundfont.display()))?;
        let mut reader = std::io::BufReader::new(file);
        let font = SoundFont::new(&mut reader)
            .map_err(|e| anyhow!("cannot read SoundFont {}: {e:?}", cfg.soundfont.display()))?;
        Ok(Renderer {
            font: Arc::new(font),
            sample_rate: cfg.sample_rate,
            tail_seconds: cfg.tail_seconds,
            program: cfg.program,
            peak: 10f64.powf(cfg.peak_dbfs / 20.0) as f32,
            format: cfg.format,
        })
    }

    /// Writes `audio` as `<stem>.<ext>` in the configured format; returns the path.
    pub fn write(&self, stem: &Path, audio: &Audio) -> Result<PathBuf> {
        write_audio(stem, audio, self.format)
    }

    /// Render the whole song plus the release tail.
    pub fn render(&self, song: &Song) -> Result<Audio> {
        let settings = SynthesizerSettings::new(self.sample_rate as i32);
        let mut synth =
            Synthesizer::new(&self.font, &settings).map_err(|e| anyhow!("synthesizer: {e:?}"))?;
        const CH: i32 = 0;
        synth.process_midi_message(CH, 0xC0, self.program as i32, 0);

        // Events as (sample index, is_on, pitch, velocity); offs before ons at the same sample so
        // a repeated pitch restarts.
        let sr = self.sample_rate as f64;
        let at = |tick: u32| (tick_seconds(song, tick) * sr).round() as usize;
        let mut events: Vec<(usize, bool, u8, u8)> = Vec::with_capacity(song.notes.len() * 2);
        for n in &song.notes {
            events.push((at(n.start), true, n.pitch, n.velocity.max(1)));
            events.push((at(n.end), false, n.pitch, 0));
        }
        events.sort_by_key(|&(s, on, p, _)| (s, on, p));

        let total =
            (song_seconds(song) * sr).ceil() as usize + (self.tail_seconds * sr).round() as usize;
        let (mut left, mut right) = (vec![0f32; total], vec![0f32; total]);
        let mut pos = 0usize;
        for &(sample, on, pitch, vel) in &events {
            let sample = sample.min(total);
            if sample > pos {
                synth.render(&mut left[pos..sample], &mut right[pos..sample]);
                pos = sample;
            }
            if on {
                synth.note_on(CH, pitch as i32, vel as i32);
            } else {
                synth.note_off(CH, pitch as i32);
            }
        }
        if total > pos {
            synth.render(&mut left[pos..], &mut right[pos..]);
        }
        let mut audio = Audio {
            sample_rate: self.sample_rate,
            left,
            right,
        };
        audio.scale_peak_to(self.peak);
        Ok(audio)
    }
}

/// Seconds from the start to `tick`, integrating the tempo map (120 BPM before the first event).
pub fn tick_seconds(song: &Song, tick: u32) -> f64 {
    let mut secs = 0.0;
    let (mut last_tick, mut bpm) = (0u32, DEFAULT_BPM);
    for t in &song.tempos {
        if t.tick >= tick {
            break;
        }
        secs += (t.tick - last_tick) as f64 * 60.0 / (bpm * TPB as f64);
        last_tick = t.tick;
        if t.bpm.is_finite() && t.bpm > 0.0 {
            bpm = t.bpm;
        }
    }
    secs + (tick - last_tick) as f64 * 60.0 / (bpm * TPB as f64)
}

/// Seconds until the last note-off.
pub fn song_seconds(song: &Song) -> f64 {
    let end = song.notes.iter().map(|n| n.end).max().unwrap_or(0);
    tick_seconds(song, end)
}
