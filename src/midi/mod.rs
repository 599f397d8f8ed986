//! MIDI in and out: read any type-0/1 file into a normalised [`Song`] at 480 ticks per beat,
//! and write a [`Song`] back as a type-1 file.

mod chunks;
mod events;
mod notes;
mod read;
mod write;

pub use read::{read_bytes, read_file};
pub use write::write_bytes;

/// Ticks per beat of every [`Song`]; files with another resolution are rescaled on read.
pub const TPB: u32 = 480;

/// One note, in ticks at [`TPB`]. `end > start` always holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    pub start: u32,
    pub end: u32,
    pub pitch: u8,
    pub velocity: u8,
}

/// A tempo change at `tick`, in beats per minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tempo {
    pub tick: u32,
    pub bpm: f64,
}

/// A chord marker as written in the file (Pop1K7: `root_quality_bass`, e.g. `A_M7_A`, `N_N_N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub tick: u32,
    pub text: String,
}

/// A normalised song: notes of all non-drum tracks merged and sorted by (start, pitch, ...),
/// the tempo map sorted by tick, chord markers sorted by tick.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Song {
    pub notes: Vec<Note>,
    pub tempos: Vec<Tempo>,
    pub chords: Vec<Marker>,
    /// From a `global_bpm_NN` marker, when the file has one.
    pub global_bpm: Option<f64>,
}

/// Why a file cannot become a [`Song`]. `code()` is the short reason stored in rejects tables.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum MidiError {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("not a valid MIDI file: {0}")]
    Malformed(String),
    #[error("SMPTE time division is not supported (only ticks per beat)")]
    Smpte,
    #[error("time signature {0}/{1} at tick {2}: only 4/4 can be represented")]
    TimeSignature(u8, u8, u32),
    #[error("no notes in any non-drum track")]
    NoNotes,
}

impl MidiError {
    /// A stable machine-readable reason, used as the `reason` column of rejects.parquet.
    pub fn code(&self) -> &'static str {
        match self {
            MidiError::Io(_) => "io",
            MidiError::Malformed(_) => "malformed",
            MidiError::Smpte => "smpte_division",
            MidiError::TimeSignature(..) => "time_signature",
            MidiError::NoNotes => "no_notes",
        }
    }
}
