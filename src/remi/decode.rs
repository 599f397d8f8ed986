//! REMI tokens -> Song: onset = step x 120 ticks, end = onset + d x 60, velocity = bin x 4 + 2,
//! tempo events and chord markers (`Root_quality_Root`, `N_N_N`) at their step.
//!
//! The input must be grammatical ([`Grammar`]). A sequence without Eos is decoded too, as long
//! as it stops on a boundary (not inside a note or right after a Position), so a generator can
//! decode what it has; Pad is allowed after Eos only.

use super::RemiError;
use super::grammar::Grammar;
use super::vocab::{Token, Vocab};
use super::{STEPS_PER_BAR, STEPS_PER_BEAT};
use crate::midi::{Marker, Note, Song, TPB, Tempo};

const STEP_TICKS: u32 = TPB / STEPS_PER_BEAT;
const DURATION_TICKS: u32 = TPB / 8;

pub fn decode(tokens: &[u16]) -> Result<Song, RemiError> {
    let mut grammar = Grammar::new();
    let mut song = Song::default();
    let mut bar_start: Option<u32> = None;
    let mut onset = 0u32;
    let mut pitch = 0u8;
    let mut velocity = 0u8;
    for &id in tokens {
        grammar.push(id)?;
        let Some(token) = Vocab::token(id) else {
            unreachable!("the grammar refuses ids outside the vocabulary")
        };
        match token {
            Token::Bar => {
                let start =
                    bar_start.map_or(Some(0), |s| s.checked_add(STEPS_PER_BAR * STEP_TICKS));
                bar_start = Some(start.ok_or(RemiError::TooLong)?);
                onset = bar_start.unwrap_or(0);
            }
            Token::Position(p) => onset = bar_start.unwrap_or(0) + p as u32 * STEP_TICKS,
            Token::Chord(c) => song.chords.push(Marker {
                tick: onset,
                text: c.marker_text(),
            }),
            Token::Tempo(bpm) => song.tempos.push(Tempo {
                tick: onset,
                bpm: bpm as f64,
            }),
            Token::Pitch(p) => pitch = p,
            Token::Velocity(v) => velocity = v * 4 + 2,
            Token::Duration(d) => song.notes.push(Note {
                start: onset,
                end: onset
                    .checked_add(d as u32 * DURATION_TICKS)
                    .ok_or(RemiError::TooLong)?,
                pitch,
                velocity,
            }),
            Token::Pad | Token::Bos | Token::Eos => {}
        }
    }
    if !grammar.at_boundary() {
        return Err(RemiError::Incomplete);
    }
    song.notes
        .sort_by_key(|n| (n.start, n.pitch, n.end, n.velocity));
    Ok(song)
}
