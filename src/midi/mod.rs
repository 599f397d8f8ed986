//! MIDI in and out: read any type-0/1 file into a normalised [`Song`] at 480 ticks per beat,
//! and write a [`Song`] back as a type-1 file.

mod chunks;
mod events;
mod notes;
mod read;
mod write;

pub use read::{read_bytes, read_file};
pub use write::write_bytes;

/// Ticks of a 4/4 bar (four beats).
pub const BAR_TICKS: u32 = 4 * TPB;

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

/// A time signature as the file declares it, from `tick` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meter {
    pub tick: u32,
    pub numerator: u8,
    pub denominator: u8,
}

impl std::fmt::Display for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}@{}", self.numerator, self.denominator, self.tick)
    }
}

/// A normalised song: notes of all non-drum tracks merged and sorted by (start, pitch, ...),
/// the tempo map sorted by tick, chord markers sorted by tick. Always in 4/4 bars from tick 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Song {
    pub notes: Vec<Note>,
    pub tempos: Vec<Tempo>,
    pub chords: Vec<Marker>,
    /// From a `global_bpm_NN` marker, when the file has one.
    pub global_bpm: Option<f64>,
    /// The time signatures the file declared (each change once, by tick); empty means none,
    /// i.e. 4/4. 1/4 and 2/4 are re-barred into 4/4: the notes are the same, the bars group by
    /// four beats (see `read`).
    pub meters: Vec<Meter>,
}

impl Song {
    /// Whether the file declared a meter other than 4/4 (and was re-barred into 4/4).
    pub fn rebarred(&self) -> bool {
        self.meters
            .iter()
            .any(|m| (m.numerator, m.denominator) != (4, 4))
    }
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
    #[error(
        "time signature {0}/{1} at tick {2}: only 4/4, or 1/4 and 2/4 re-barred into 4/4, can be represented"
    )]
    TimeSignature(u8, u8, u32),
    #[error(
        "time signature {0}/{1} at tick {2} is off the 4/4 bar grid (not a multiple of 4 beats from the start): the bars cannot be re-barred into 4/4"
    )]
    MeterOffGrid(u8, u8, u32),
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
            MidiError::TimeSignature(..) | MidiError::MeterOffGrid(..) => "time_signature",
            MidiError::NoNotes => "no_notes",
        }
    }
}
