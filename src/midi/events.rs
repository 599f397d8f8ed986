//! The events of one track, read by the rules of midly's (non-strict) `EventIter`.
//!
//! Why not midly alone: decoding every event into midly's general event types cost about a
//! third of the whole read. The frequent events (channel messages, i.e. notes, and tempo and
//! marker meta events) are decoded here, following midly's non-strict rules to the letter
//! (see [`read_varlen`], `channel_event`, `meta_event`). Every other event with a status byte
//! of 0xF0 and above (other meta events, SysEx, escapes, and the system messages midly
//! refuses), and any meta event that is not plainly well-formed, is handed to midly from the
//! event's first byte. midly reads those without the running status (they reset it, or fail),
//! so acceptance and errors stay exactly midly's.

use midly::{EventIter, MetaMessage, TrackEventKind};

/// One event: its delta time in file ticks and what the reader needs to know of it.
#[derive(Debug, PartialEq)]
pub(crate) struct Event<'a> {
    pub delta: u32,
    pub kind: Kind<'a>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Kind<'a> {
    NoteOn {
        channel: u8,
        key: u8,
        velocity: u8,
    },
    NoteOff {
        channel: u8,
        key: u8,
    },
    /// Microseconds per beat.
    Tempo(u32),
    /// Numerator and the power of two of the denominator.
    TimeSignature(u8, u8),
    /// The bytes of a marker meta event.
    Marker(&'a [u8]),
    EndOfTrack,
    /// Controllers, program changes, other meta events, SysEx...: unused.
    Ignored,
}

const META: u8 = 0xFF;
const META_MARKER: u8 = 0x06;
const META_TEMPO: u8 = 0x51;

/// Iterates the events of one track's bytes. Like midly's non-strict iterator, it ends early
/// at an unreadable event; [`Events::unread`] is then not empty.
pub(crate) struct Events<'a> {
    rest: &'a [u8],
    running_status: Option<u8>,
}

/// What the fast path made of the next event.
enum Fast<'a> {
    Read(Event<'a>),
    /// A broken event: the iteration ends here.
    Unreadable,
    /// Not decoded here: midly reads it.
    ToMidly,
}

impl<'a> Events<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        Events {
            rest: raw,
            running_status: None,
        }
    }

    /// The bytes not read yet.
    pub fn unread(&self) -> &'a [u8] {
        self.rest
    }

    /// Decodes the next event when it is a channel message, a tempo or a marker. Consumes
    /// nothing unless it returns [`Fast::Read`].
    fn fast_event(&mut self) -> Fast<'a> {
        let (delta, after_delta) = read_varlen(self.rest);
        let Some((&first, after_status)) = after_delta.split_first() else {
            return Fast::Unreadable; // no status byte
        };
        // A byte below 0x80 is the first data byte of a message under running status.
        match (first, self.running_status) {
            (META, _) => self.meta_event(delta, after_status),
            (0xF0..=0xFE, _) => Fast::ToMidly,
            (0x80..=0xEF, _) => self.channel_event(delta, first, after_status),
            (_, Some(running)) => self.channel_event(delta, running, after_delta),
            (_, None) => Fast::Unreadable,
        }
    }

    fn channel_event(&mut self, delta: u32, status: u8, data: &'a [u8]) -> Fast<'a> {
        // Note off/on, aftertouch, controller and pitch bend carry 2 data bytes; program
        // change and channel aftertouch 1. A data byte with its top bit set is an error.
        let len = if matches!(status >> 4, 0xC | 0xD) {
            1
        } else {
            2
        };
        let Some(bytes) = data.get(..len).filter(|b| b.iter().all(|b| *b < 0x80)) else {
            return Fast::Unreadable;
        };
        self.running_status = Some(status);
        self.rest = &data[len..];
        let channel = status & 0x0F;
        let kind = match status >> 4 {
            0x9 => Kind::NoteOn {
                channel,
                key: bytes[0],
                velocity: bytes[1],
            },
            0x8 => Kind::NoteOff {
                channel,
                key: bytes[0],
            },
            _ => Kind::Ignored,
        };
        Fast::Read(Event { delta, kind })
    }

    /// Tempo and marker events with a complete body; others go to midly.
    fn meta_event(&mut self, delta: u32, after_status: &'a [u8]) -> Fast<'a> {
        let Some((&meta_type, after_type)) = after_status.split_first() else {
            return Fast::ToMidly;
        };
        let (len, body) = read_varlen(after_type);
        // A body that runs past the track is midly's to handle (it takes what is left).
        let Some(data) = body.get(..len as usize) else {
            return Fast::ToMidly;
        };
        let kind = match meta_type {
            META_MARKER => Kind::Marker(data),
            // midly reads the first 3 bytes, big-endian, when there are at least 3.
            META_TEMPO if data.len() >= 3 => {
                Kind::Tempo(u32::from_be_bytes([0, data[0], data[1], data[2]]))
            }
            _ => return Fast::ToMidly,
        };
        self.running_status = None;
        self.rest = &body[len as usize..];
        Fast::Read(Event { delta, kind })
    }

    /// Any other event (or an error) through midly; all of them reset the running status.
    fn midly_event(&mut self) -> Option<Event<'a>> {
        let mut iter = EventIter::new(self.rest);
        let event = iter.next()?.ok()?;
        self.rest = iter.unread();
        self.running_status = None;
        let kind = match event.kind {
            TrackEventKind::Meta(MetaMessage::Tempo(us)) => Kind::Tempo(us.as_int()),
            TrackEventKind::Meta(MetaMessage::TimeSignature(num, denom_pow, _, _)) => {
                Kind::TimeSignature(num, denom_pow)
            }
            TrackEventKind::Meta(MetaMessage::Marker(bytes)) => Kind::Marker(bytes),
            TrackEventKind::Meta(MetaMessage::EndOfTrack) => Kind::EndOfTrack,
            // Channel messages never come here (their status is below 0xF0).
            _ => Kind::Ignored,
        };
        Some(Event {
            delta: event.delta.as_int(),
            kind,
        })
    }
}

impl<'a> Iterator for Events<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        match self.fast_event() {
            Fast::Read(event) => Some(event),
            Fast::Unreadable => None,
            Fast::ToMidly => self.midly_event(),
        }
    }
}

/// A variable-length number and the bytes after it, as midly reads one without `strict`: at
/// most 4 bytes (the 4th is taken as the last even with its top bit set), and a cut one keeps
/// what it read.
fn read_varlen(raw: &[u8]) -> (u32, &[u8]) {
    let mut value = 0u32;
    for (i, &byte) in raw.iter().take(4).enumerate() {
        value = (value << 7) | (byte & 0x7F) as u32;
        if byte < 0x80 {
            return (value, &raw[i + 1..]);
        }
    }
    (value, &raw[raw.len().min(4)..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use midly::MidiMessage;

    /// What midly's own non-strict iterator makes of `raw`: the events, as [`Event`]s, and the
    /// bytes left before the event it stopped at (midly itself drops them).
    fn midly_reading(raw: &[u8]) -> (Vec<Event<'_>>, usize) {
        let mut iter = EventIter::new(raw);
        let mut out = Vec::new();
        loop {
            let before = iter.unread().len();
            let Some(Ok(ev)) = iter.next() else {
                return (out, before);
            };
            let kind = match ev.kind {
                TrackEventKind::Midi { channel, message } => match message {
                    MidiMessage::NoteOn { key, vel } => Kind::NoteOn {
                        channel: channel.as_int(),
                        key: key.as_int(),
                        velocity: vel.as_int(),
                    },
                    MidiMessage::NoteOff { key, .. } => Kind::NoteOff {
                        channel: channel.as_int(),
                        key: key.as_int(),
                    },
                    _ => Kind::Ignored,
                },
                TrackEventKind::Meta(MetaMessage::Tempo(us)) => Kind::Tempo(us.as_int()),
                TrackEventKind::Meta(MetaMessage::TimeSignature(n, d, _, _)) => {
                    Kind::TimeSignature(n, d)
                }
                TrackEventKind::Meta(MetaMessage::Marker(b)) => Kind::Marker(b),
                TrackEventKind::Meta(MetaMessage::EndOfTrack) => Kind::EndOfTrack,
                _ => Kind::Ignored,
            };
            out.push(Event {
                delta: ev.delta.as_int(),
                kind,
            });
        }
    }

    fn our_reading(raw: &[u8]) -> (Vec<Event<'_>>, usize) {
        let mut events = Events::new(raw);
        let out: Vec<Event> = events.by_ref().collect();
        (out, events.unread().len())
    }

    /// Track bytes made of event-like pieces, often broken: the cases the fast path must get
    /// exactly as midly does (running status, long and cut lengths, top-bit data bytes,
    /// system messages, short tempo bodies, bodies past the end).
    fn random_track(rng: &mut crate::rng::Rng) -> Vec<u8> {
        const PIECES: &[&[u8]] = &[
            &[0x00, 0x90, 60, 100],
            &[0x10, 60, 0],
            &[0x83, 0x60, 0x80, 61, 64],
            &[0x00, 0xC0, 5],
            &[0x00, 0xD3, 0x85],
            &[0x00, 0xD3, 0x40],
            &[0x05, 0x41],
            &[0x00, 0xE1, 0, 64],
            &[0x81, 0x80, 0x80, 0x80, 0x90, 1, 2],
            &[0xFF, 0xFF, 0xFF, 0xFF, 62],
            &[0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20],
            &[0x00, 0xFF, 0x51, 0x02, 0x07, 0xA1],
            &[0x00, 0xFF, 0x51, 0x04, 1, 2, 3, 4],
            &[0x00, 0xFF, 0x06, 0x05, b'A', b'_', b'M', b'_', b'A'],
            &[0x00, 0xFF, 0x06, 0x81, 0x00],
            &[0x00, 0xFF, 0x06, 0x80, 0x80, 0x80, 0x80],
            &[0x00, 0xFF, 0x58, 0x04, 4, 2, 24, 8],
            &[0x00, 0xFF, 0x58, 0x02, 3, 2],
            &[0x00, 0xFF, 0x59, 0x01, 0],
            &[0x00, 0xFF, 0x03, 0x02, b'h', b'i'],
            &[0x00, 0xFF, 0x2F, 0x00],
            &[0x00, 0xF0, 0x03, 1, 2, 0xF7],
            &[0x00, 0xF7, 0x01, 0xF7],
            &[0x00, 0xF1, 0x01],
            &[0x00, 0xF8],
            &[0x00, 0x95, 0x80, 0],
            &[0x00, 0x9F],
            &[0x00],
            &[0x7F],
            &[0xFF],
        ];
        let mut raw = Vec::new();
        for _ in 0..rng.below(12) {
            raw.extend_from_slice(PIECES[rng.below(PIECES.len() as u64) as usize]);
        }
        // Sometimes cut the track anywhere, to land inside an event.
        if rng.below(3) == 0 && !raw.is_empty() {
            raw.truncate(rng.below(raw.len() as u64) as usize);
        }
        raw
    }

    #[test]
    fn events_read_exactly_as_midly_reads_them() {
        let mut rng = crate::rng::Rng::new(7);
        let mut stopped_early = 0;
        for _ in 0..20_000 {
            let raw = random_track(&mut rng);
            let ours = our_reading(&raw);
            assert_eq!(ours, midly_reading(&raw), "track bytes {raw:02X?}");
            stopped_early += (ours.1 > 0) as u32;
        }
        // The generator must reach both clean and broken tracks for the test to mean much.
        assert!(
            stopped_early > 1000 && stopped_early < 19_000,
            "{stopped_early}"
        );
    }

    #[test]
    fn varlen_follows_midly_non_strict_rules() {
        assert_eq!(read_varlen(&[0x00, 9]), (0, &[9u8][..]));
        assert_eq!(read_varlen(&[0x81, 0x00]), (128, &[][..]));
        // Four bytes all with the top bit set: taken as they are.
        assert_eq!(
            read_varlen(&[0xFF, 0xFF, 0xFF, 0xFF, 5]),
            (0x0FFF_FFFF, &[5u8][..])
        );
        // Cut: keeps what it read.
        assert_eq!(read_varlen(&[0x81]), (1, &[][..]));
        assert_eq!(read_varlen(&[]), (0, &[][..]));
    }
}
