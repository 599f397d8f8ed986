//! The musical features of a note list: H1, H4, GS and the wider set of docs/design.md
//! ("Metrics"), each exact on the REMI grid so that it can be checked by hand.
//!
//! - [`grid`]: notes placed on the 16th-note grid (onset and offset steps, bars).
//! - [`pitch`]: pitch-class entropies, scale consistency, pitch jumps.
//! - [`rhythm`]: grooving similarity and consistency, polyphony, empty beats, onset intervals.
//! - [`structure`]: repeated bars, density drift, runs of one pitch.
//!
//! Both the evaluate stage (after generation) and training (monitoring samples) score with
//! these functions, so the two always agree.

pub mod grid;
pub mod pitch;
pub mod rhythm;
pub mod structure;

use std::ops::Index;

use crate::midi::Note;
use grid::{GridNote, grid_notes};

/// One per-piece value. Undefined values (GS of a one-bar piece, anything of a piece without
/// notes) are NaN in [`Features`] and null in the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    H1,
    H4,
    Gs,
    NBars,
    NNotes,
    NotesPerBar,
    PitchRange,
    MeanVelocity,
    MeanDurationBeats,
    EmptyBarShare,
    PcEntropy,
    NPitchClasses,
    ScaleConsistency,
    GrooveConsistency,
    Polyphony,
    EmptyBeatRate,
    MeanIoi,
    MeanPitchJump,
    RepeatedBarShare,
    DensityDrift,
    LongestPitchRun,
}

impl Feature {
    /// Every feature, in table column order.
    pub const ALL: [Feature; 21] = [
        Feature::H1,
        Feature::H4,
        Feature::Gs,
        Feature::NBars,
        Feature::NNotes,
        Feature::NotesPerBar,
        Feature::PitchRange,
        Feature::MeanVelocity,
        Feature::MeanDurationBeats,
        Feature::EmptyBarShare,
        Feature::PcEntropy,
        Feature::NPitchClasses,
        Feature::ScaleConsistency,
        Feature::GrooveConsistency,
        Feature::Polyphony,
        Feature::EmptyBeatRate,
        Feature::MeanIoi,
        Feature::MeanPitchJump,
        Feature::RepeatedBarShare,
        Feature::DensityDrift,
        Feature::LongestPitchRun,
    ];

    /// The column name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Feature::H1 => "h1",
            Feature::H4 => "h4",
            Feature::Gs => "gs",
            Feature::NBars => "n_bars",
            Feature::NNotes => "n_notes",
            Feature::NotesPerBar => "notes_per_bar",
            Feature::PitchRange => "pitch_range",
            Feature::MeanVelocity => "mean_velocity",
            Feature::MeanDurationBeats => "mean_duration_beats",
            Feature::EmptyBarShare => "empty_bar_share",
            Feature::PcEntropy => "pc_entropy",
            Feature::NPitchClasses => "n_pitch_classes",
            Feature::ScaleConsistency => "scale_consistency",
            Feature::GrooveConsistency => "groove_consistency",
            Feature::Polyphony => "polyphony",
            Feature::EmptyBeatRate => "empty_beat_rate",
            Feature::MeanIoi => "mean_ioi",
            Feature::MeanPitchJump => "mean_pitch_jump",
            Feature::RepeatedBarShare => "repeated_bar_share",
            Feature::DensityDrift => "density_drift",
            Feature::LongestPitchRun => "longest_pitch_run",
        }
    }

    pub fn parse(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whole numbers (stored as UInt32 columns; 0, not null, for a piece without notes).
    pub fn is_count(self) -> bool {
        matches!(
            self,
            Feature::NBars
                | Feature::NNotes
                | Feature::PitchRange
                | Feature::NPitchClasses
                | Feature::LongestPitchRun
        )
    }

    /// Whether the summary compares it with the reference: everything but the length of a piece
    /// (bars and notes), which the generation config fixes rather than the model.
    pub fn compared(self) -> bool {
        !matches!(self, Feature::NBars | Feature::NNotes)
    }
}

/// Every [`Feature`] of one piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features([f64; Feature::ALL.len()]);

impl Index<Feature> for Features {
    type Output = f64;
    fn index(&self, f: Feature) -> &f64 {
        &self.0[f as usize]
    }
}

impl Features {
    /// Built from values in [`Feature::ALL`] order (as read back from a table).
    pub fn from_values(values: [f64; Feature::ALL.len()]) -> Features {
        Features(values)
    }

    /// (feature, value) in column order.
    pub fn iter(&self) -> impl Iterator<Item = (Feature, f64)> + '_ {
        Feature::ALL.into_iter().map(|f| (f, self[f]))
    }
}

/// Every feature of a piece. Notes need not be sorted.
pub fn features(notes: &[Note]) -> Features {
    of_grid(&grid_notes(notes))
}

/// The features of `bars` bars from `start_bar` on (all of them when `None`), re-based to bar 0:
/// a piece's first W bars, or what a continuation adds after its prompt. Notes with an onset
/// outside those bars are left out.
pub fn features_of_bars(notes: &[Note], start_bar: u32, bars: Option<u32>) -> Features {
    of_grid(&grid::window(&grid_notes(notes), start_bar, bars))
}

fn of_grid(notes: &[GridNote]) -> Features {
    let bars = grid::bars_of(notes);
    let n_bars = bars.len() as f64;
    let n_notes = notes.len() as f64;
    let mean = |f: &dyn Fn(&GridNote) -> f64| {
        if notes.is_empty() {
            f64::NAN
        } else {
            notes.iter().map(f).sum::<f64>() / n_notes
        }
    };
    let per_bar = |x: f64| {
        if bars.is_empty() {
            f64::NAN
        } else {
            x / n_bars
        }
    };
    let empty_bars = bars.iter().filter(|b| b.n_notes == 0).count() as f64;
    let mut v = [f64::NAN; Feature::ALL.len()];
    let mut set = |f: Feature, x: f64| v[f as usize] = x;
    set(Feature::H1, pitch::windowed_entropy(&bars, 1));
    set(Feature::H4, pitch::windowed_entropy(&bars, 4));
    set(Feature::Gs, rhythm::grooving_similarity(&bars));
    set(Feature::NBars, n_bars);
    set(Feature::NNotes, n_notes);
    set(Feature::NotesPerBar, per_bar(n_notes));
    set(Feature::PitchRange, pitch::range(notes) as f64);
    set(Feature::MeanVelocity, mean(&|n| n.velocity as f64));
    set(Feature::MeanDurationBeats, mean(&|n| n.duration_beats));
    set(Feature::EmptyBarShare, per_bar(empty_bars));
    set(Feature::PcEntropy, pitch::piece_entropy(notes));
    set(Feature::NPitchClasses, pitch::n_pitch_classes(notes) as f64);
    set(Feature::ScaleConsistency, pitch::scale_consistency(notes));
    set(
        Feature::GrooveConsistency,
        rhythm::groove_consistency(&bars),
    );
    set(Feature::Polyphony, rhythm::polyphony(notes, bars.len()));
    set(
        Feature::EmptyBeatRate,
        rhythm::empty_beat_rate(notes, bars.len()),
    );
    set(Feature::MeanIoi, rhythm::mean_ioi(notes));
    set(Feature::MeanPitchJump, pitch::mean_pitch_jump(notes));
    set(
        Feature::RepeatedBarShare,
        structure::repeated_bar_share(notes, bars.len()),
    );
    set(Feature::DensityDrift, structure::density_drift(&bars));
    set(
        Feature::LongestPitchRun,
        f64::from(structure::longest_pitch_run(notes)),
    );
    Features(v)
}
