//! REMI: vocabulary, encoder, decoder, grammar, transposition.

use crate::midi::TPB;

/// Grid steps per beat (16th notes) and per 4/4 bar.
pub const STEPS_PER_BEAT: u32 = 4;
pub const STEPS_PER_BAR: u32 = 16;

/// The grid step of an onset at 480 tpb: round(tick * 4 / 480), halves rounded up.
/// (The reader rescales other resolutions with floor, which keeps this exact.)
pub fn onset_step(tick: u32) -> u32 {
    let step_ticks = TPB / STEPS_PER_BEAT;
    (tick + step_ticks / 2) / step_ticks
}
