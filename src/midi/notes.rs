//! Pairs note-on and note-off events of one track into [`Note`]s.
//!
//! Rules (documented here because other MIDI readers differ):
//! - a note-on with velocity 0 is a note-off;
//! - overlapping notes of one pitch on one channel pair FIFO: a note-off closes the earliest
//!   still-open note of that pitch on that channel (so `on A, on B, off, off` gives A the first
//!   off and B the second);
//! - a note-off with nothing open is ignored;
//! - notes still open at the end of the track end at the track's last tick (its End of Track);
//! - zero-length notes (off at the tick of the on, after rescaling) are dropped: they are
//!   inaudible and have no duration to encode.

use super::Note;
use std::collections::VecDeque;

/// Open notes of one track, keyed by (channel, pitch).
pub(crate) struct NotePairer {
    open: Vec<VecDeque<(u32, u8)>>,
    pub notes: Vec<Note>,
}

impl NotePairer {
    pub fn new() -> Self {
        NotePairer {
            open: vec![VecDeque::new(); 16 * 128],
            notes: Vec::new(),
        }
    }

    fn slot(channel: u8, pitch: u8) -> usize {
        (channel as usize & 15) * 128 + (pitch as usize & 127)
    }

    pub fn note_on(&mut self, tick: u32, channel: u8, pitch: u8, velocity: u8) {
        if velocity == 0 {
            return self.note_off(tick, channel, pitch);
        }
        self.open[Self::slot(channel, pitch)].push_back((tick, velocity));
    }

    pub fn note_off(&mut self, tick: u32, channel: u8, pitch: u8) {
        if let Some((start, velocity)) = self.open[Self::slot(channel, pitch)].pop_front() {
            self.push(start, tick, pitch, velocity);
        }
    }

    fn push(&mut self, start: u32, end: u32, pitch: u8, velocity: u8) {
        if end > start {
            self.notes.push(Note {
                start,
                end,
                pitch,
                velocity,
            });
        }
    }

    /// Closes every open note at `end_tick` and returns the track's notes.
    pub fn finish(mut self, end_tick: u32) -> Vec<Note> {
        let open = std::mem::take(&mut self.open);
        for (slot, queue) in open.into_iter().enumerate() {
            for (start, velocity) in queue {
                self.push(start, end_tick, (slot % 128) as u8, velocity);
            }
        }
        self.notes
    }
}
