//! MIDI -> [`Song`]: any type-0/1 file, any ticks-per-beat, all non-drum tracks merged.
//!
//! - Ticks are rescaled to 480 per beat with floor (`tick * 480 / tpb`), which keeps the REMI
//!   grid step exact (floor((floor(x) + 60) / 120) = floor((x + 60) / 120)).
//! - Drums (MIDI channel 10, midly channel 9) are ignored.
//! - Tempo events come from every track; several at one tick keep the last one read.
//! - Marker meta events `global_bpm_NN` set `global_bpm`; markers shaped `a_b_c` (Pop1K7's
//!   `root_quality_bass`) go to `chords` verbatim. Other markers and text events are ignored.
//! - Note pairing: see [`super::notes`].
//! - Meter: a file without time signature is 4/4. Many pop-piano files declare 1/4 or 2/4 for
//!   music in 4/4 (an exporter habit); bars of 1, 2 or 4 beats group evenly into 4/4 bars, so
//!   a file whose time signatures are all n/4 with n in {1, 2, 4}, each change on a 4-beat
//!   boundary from the start, is read as it is (notes unchanged, 4/4 bars from tick 0) and
//!   its declared meters are kept in [`Song::meters`].
//! - Rejected: malformed container or events, SMPTE division, any other meter or a change off
//!   the 4-beat grid (with the meter and its tick), no notes.

use super::chunks;
use super::events::{Events, Kind};
use super::notes::NotePairer;
use super::{BAR_TICKS, Marker, Meter, MidiError, Song, TPB, Tempo};
use std::path::Path;

const DRUM_CHANNEL: u8 = 9;

pub fn read_file(path: &Path) -> Result<Song, MidiError> {
    let bytes =
        std::fs::read(path).map_err(|e| MidiError::Io(format!("{}: {e}", path.display())))?;
    read_bytes(&bytes)
}

pub fn read_bytes(bytes: &[u8]) -> Result<Song, MidiError> {
    let container = chunks::parse(bytes)?;
    let tpb = container.ticks_per_beat as u64;
    let mut song = Song::default();
    for (index, track) in container.tracks.iter().enumerate() {
        read_track(track, tpb, &mut song).map_err(|e| match e {
            MidiError::Malformed(m) => MidiError::Malformed(format!("track {index}: {m}")),
            other => other,
        })?;
    }
    check_meters(&mut song.meters)?;
    if song.notes.is_empty() {
        return Err(MidiError::NoNotes);
    }
    // Each track's notes come sorted (see `NotePairer::finish`), so with one note track this
    // stable sort only checks the order, and with several it merges the sorted runs.
    song.notes
        .sort_by_key(|n| (n.start, n.pitch, n.end, n.velocity));
    // Stable sorts keep file order among events at one tick, so "last one wins" is well defined.
    song.tempos.sort_by_key(|t| t.tick);
    song.tempos.dedup_by(|later, earlier| {
        if later.tick == earlier.tick {
            *earlier = *later;
            true
        } else {
            false
        }
    });
    song.chords.sort_by_key(|m| m.tick);
    Ok(song)
}

fn rescale(tick: u64, tpb: u64) -> Result<u32, MidiError> {
    u32::try_from(tick * TPB as u64 / tpb)
        .map_err(|_| MidiError::Malformed(format!("tick {tick} is too far (over 2^32 at 480 tpb)")))
}

fn read_track(raw: &[u8], tpb: u64, song: &mut Song) -> Result<(), MidiError> {
    let mut events = Events::new(raw);
    let mut pairer = NotePairer::new(raw.len());
    let mut abs: u64 = 0;
    let mut tick: u32 = 0;
    loop {
        let before = events.unread().len();
        let event = match events.next() {
            Some(ev) => ev,
            // Like non-strict midly, the iteration ends silently on a broken event; bytes left
            // over mean exactly that.
            None if before > 0 => {
                return Err(MidiError::Malformed(format!(
                    "unreadable event at byte {} of the track",
                    raw.len() - before
                )));
            }
            None => break,
        };
        abs += event.delta as u64;
        tick = rescale(abs, tpb)?;
        match event.kind {
            Kind::NoteOn { channel, .. } | Kind::NoteOff { channel, .. }
                if channel == DRUM_CHANNEL => {}
            Kind::NoteOn {
                channel,
                key,
                velocity,
            } => pairer.note_on(tick, channel, key, velocity),
            Kind::NoteOff { channel, key } => pairer.note_off(tick, channel, key),
            Kind::Tempo(us) => read_tempo(us, tick, song),
            Kind::TimeSignature(num, denom_pow) => song.meters.push(Meter {
                tick,
                numerator: num,
                denominator: 1u32.checked_shl(denom_pow as u32).unwrap_or(0).min(255) as u8,
            }),
            Kind::Marker(bytes) => read_marker(bytes, tick, song),
            Kind::EndOfTrack => break,
            Kind::Ignored => {}
        }
    }
    let notes = pairer.finish(tick);
    if song.notes.is_empty() {
        song.notes = notes; // the usual case, one track with notes: no copy
    } else {
        song.notes.extend(notes);
    }
    Ok(())
}

/// A tempo event: `us` microseconds per beat.
fn read_tempo(us: u32, tick: u32, song: &mut Song) {
    // A zero tempo is meaningless (infinite BPM); skip it rather than reject the song.
    if us > 0 {
        song.tempos.push(Tempo {
            tick,
            bpm: 60_000_000.0 / us as f64,
        });
    }
}

/// Sorts the declared meters by tick and keeps each change once; refuses a meter that cannot be
/// re-barred into 4/4 and a change off the 4-beat grid.
fn check_meters(meters: &mut Vec<Meter>) -> Result<(), MidiError> {
    // Stable: several tracks may declare the same meter; at one tick the last one read counts.
    meters.sort_by_key(|m| m.tick);
    meters.dedup_by(|later, earlier| {
        if later.tick == earlier.tick {
            *earlier = *later;
            true
        } else {
            false
        }
    });
    let mut current = (4, 4);
    meters.retain(|m| {
        let changed = (m.numerator, m.denominator) != current || m.tick == 0;
        current = (m.numerator, m.denominator);
        changed
    });
    for m in meters.iter() {
        if m.denominator != 4 || ![1, 2, 4].contains(&m.numerator) {
            return Err(MidiError::TimeSignature(m.numerator, m.denominator, m.tick));
        }
        if m.tick % BAR_TICKS != 0 {
            return Err(MidiError::MeterOffGrid(m.numerator, m.denominator, m.tick));
        }
    }
    Ok(())
}

fn read_marker(bytes: &[u8], tick: u32, song: &mut Song) {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if let Some(bpm) = text.strip_prefix("global_bpm_") {
        if let Ok(bpm) = bpm.parse::<f64>()
            && bpm.is_finite()
            && bpm > 0.0
        {
            song.global_bpm = Some(bpm);
        }
    } else if is_chord_shaped(text) {
        song.chords.push(Marker {
            tick,
            text: text.to_string(),
        });
    }
}

/// `root_quality_bass`: three non-empty parts separated by underscores.
fn is_chord_shaped(text: &str) -> bool {
    // Bytes, not chars: '_' is ASCII and never part of a multi-byte UTF-8 sequence, and the
    // byte split is much cheaper than the char searcher. Runs for every marker of every file.
    let mut parts = text.as_bytes().split(|b| *b == b'_');
    (0..3).all(|_| parts.next().is_some_and(|p| !p.is_empty())) && parts.next().is_none()
}
