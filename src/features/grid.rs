//! Notes on the REMI grid: onset step s = round(tick × 4 / 480) (halves up), offset step
//! e = max(s + 1, the offset tick rounded the same way), bar = s div 16.

use crate::midi::{Note, TPB};
use crate::remi::{STEPS_PER_BAR, onset_step};

/// A note as the features see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridNote {
    pub step: u32,
    /// Exclusive: the note sounds on steps `step..end`.
    pub end: u32,
    pub pitch: u8,
    pub velocity: u8,
    /// The unquantised duration, in beats.
    pub duration_beats: f64,
}

/// The notes on the grid, sorted by (step, pitch) and then the rest, so results do not depend
/// on the input order.
pub fn grid_notes(notes: &[Note]) -> Vec<GridNote> {
    let mut out: Vec<GridNote> = notes
        .iter()
        .map(|n| {
            let step = onset_step(n.start);
            GridNote {
                step,
                end: onset_step(n.end).max(step + 1),
                pitch: n.pitch,
                velocity: n.velocity,
                duration_beats: n.end.saturating_sub(n.start) as f64 / TPB as f64,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.step, a.pitch, a.end, a.velocity)
            .cmp(&(b.step, b.pitch, b.end, b.velocity))
            .then(a.duration_beats.total_cmp(&b.duration_beats))
    });
    out
}

/// The notes with an onset in the `bars` bars from `start_bar` on (every later bar when `None`),
/// moved `start_bar` bars earlier. Offsets are kept: a note may sound past the window's end.
pub fn window(notes: &[GridNote], start_bar: u32, bars: Option<u32>) -> Vec<GridNote> {
    let shift = start_bar.saturating_mul(STEPS_PER_BAR);
    let end = bars.map_or(u32::MAX, |b| {
        start_bar.saturating_add(b).saturating_mul(STEPS_PER_BAR)
    });
    notes
        .iter()
        .filter(|n| n.step >= shift && n.step < end)
        .map(|n| GridNote {
            step: n.step - shift,
            end: n.end - shift,
            ..*n
        })
        .collect()
}

/// What one bar contributes: its pitch-class histogram and its onset positions as a bit mask.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bar {
    pub pitch_classes: [u32; 12],
    pub onsets: u16,
    pub n_notes: u32,
}

/// Bars 0..=last onset bar (none without notes).
pub fn bars_of(notes: &[GridNote]) -> Vec<Bar> {
    let Some(last) = notes.iter().map(|n| n.step / STEPS_PER_BAR).max() else {
        return Vec::new();
    };
    let mut bars = vec![Bar::default(); last as usize + 1];
    for n in notes {
        let bar = &mut bars[(n.step / STEPS_PER_BAR) as usize];
        bar.pitch_classes[(n.pitch % 12) as usize] += 1;
        bar.onsets |= 1 << (n.step % STEPS_PER_BAR);
        bar.n_notes += 1;
    }
    bars
}
