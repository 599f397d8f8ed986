//! REMI: vocabulary, encoder, decoder, grammar, transposition (docs/design.md, "REMI tokens").

mod chord;
mod decode;
mod encode;
pub mod grammar;
mod text;
mod transpose;
pub mod vocab;

pub use chord::{Chord, Quality};
pub use decode::decode;
pub use encode::{Encoded, QuantNote, duration_bin, encode, quantise};
pub use grammar::{Grammar, GrammarError, validate};
pub use text::{TokenFormat, format_tokens, parse_tokens};
pub use transpose::{shift_tempo, transpose};
pub use vocab::{
    BAR, BOS, EOS, PAD, Token, VOCAB_NAME, Vocab, tempo_bin, tokenizer_json, vocab_json,
};

use crate::midi::TPB;

/// Grid steps per beat (16th notes) and per 4/4 bar.
pub const STEPS_PER_BEAT: u32 = 4;
pub const STEPS_PER_BAR: u32 = 16;

/// The grid step of an onset at 480 tpb: round(tick * 4 / 480), halves rounded up.
/// (The reader rescales other resolutions with floor, which keeps this exact.)
pub fn onset_step(tick: u32) -> u32 {
    let step_ticks = (TPB / STEPS_PER_BEAT) as u64;
    // u64: a tick near u32::MAX must not overflow.
    ((tick as u64 + step_ticks / 2) / step_ticks) as u32
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemiError {
    #[error("no note with a pitch in 21..108 to encode")]
    NoNotes,
    #[error("ungrammatical token sequence: {0}")]
    Grammar(#[from] GrammarError),
    #[error("token sequence ends inside a note or right after a Position")]
    Incomplete,
    #[error("token sequence is too long for 32-bit ticks")]
    TooLong,
}
