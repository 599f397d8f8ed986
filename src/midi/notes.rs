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
//!
//! Speed: a note is stored at its note-on, so the notes of a track come out in start order
//! (track ticks never decrease) and the reader's final sort has almost nothing to do. The open
//! notes of each (channel, pitch) form a FIFO linked through note indices, so pairing needs no
//! allocation per pitch and costs O(1) per event.

use super::Note;

const CHANNELS: usize = 16;
const PITCHES: usize = 128;
/// "No note" in the FIFO links.
const NONE: u32 = u32::MAX;

/// Open notes of one track, keyed by (channel, pitch).
pub(crate) struct NotePairer {
    /// Every note-on so far, in event order; `end` is set when the note closes.
    notes: Vec<Note>,
    /// Per note: the next-younger open note of the same (channel, pitch), or [`NONE`].
    next_open: Vec<u32>,
    /// Per (channel, pitch): the oldest and the youngest open note, or [`NONE`].
    oldest: Vec<u32>,
    youngest: Vec<u32>,
}

impl NotePairer {
    /// `track_bytes`: the length of the track, to size the note list once (growing it by
    /// doubling cost as much as the pairing itself).
    pub fn new(track_bytes: usize) -> Self {
        // A note takes at least 6 bytes: note-on and note-off of 3 bytes each under running
        // status. A track of notes without offs may need more; the Vec then grows as usual.
        let capacity = track_bytes / 6;
        NotePairer {
            notes: Vec::with_capacity(capacity),
            next_open: Vec::with_capacity(capacity),
            oldest: vec![NONE; CHANNELS * PITCHES],
            youngest: vec![NONE; CHANNELS * PITCHES],
        }
    }

    fn slot(channel: u8, pitch: u8) -> usize {
        (channel as usize & 15) * PITCHES + (pitch as usize & 127)
    }

    pub fn note_on(&mut self, tick: u32, channel: u8, pitch: u8, velocity: u8) {
        if velocity == 0 {
            return self.note_off(tick, channel, pitch);
        }
        let index = self.notes.len() as u32;
        self.notes.push(Note {
            start: tick,
            end: tick,
            pitch,
            velocity,
        });
        self.next_open.push(NONE);
        let slot = Self::slot(channel, pitch);
        match self.youngest[slot] {
            NONE => self.oldest[slot] = index,
            young => self.next_open[young as usize] = index,
        }
        self.youngest[slot] = index;
    }

    pub fn note_off(&mut self, tick: u32, channel: u8, pitch: u8) {
        let slot = Self::slot(channel, pitch);
        let index = self.oldest[slot];
        if index == NONE {
            return;
        }
        self.oldest[slot] = self.next_open[index as usize];
        if self.oldest[slot] == NONE {
            self.youngest[slot] = NONE;
        }
        self.notes[index as usize].end = tick;
    }

    /// Closes every open note at `end_tick` and returns the track's notes, sorted by
    /// (start, pitch, end, velocity).
    pub fn finish(mut self, end_tick: u32) -> Vec<Note> {
        for slot in 0..self.oldest.len() {
            let mut index = self.oldest[slot];
            while index != NONE {
                self.notes[index as usize].end = end_tick;
                index = self.next_open[index as usize];
            }
        }
        let mut notes = self.notes;
        // A note still at `end == start` was closed at its own tick (or the track ended there).
        notes.retain(|n| n.end > n.start);
        // Already in start order; only notes that share a start need ordering.
        for same_start in notes.chunk_by_mut(|a, b| a.start == b.start) {
            same_start.sort_unstable_by_key(|n| (n.pitch, n.end, n.velocity));
        }
        notes
    }
}
