//! The SMF container, checked strictly: header, chunk lengths, track count. midly's default
//! (non-strict) parser silently skips broken chunks; we want such files rejected with a reason,
//! so the container is walked here and only the event bytes of each track go to midly.

use super::MidiError;

/// The parts of a Standard MIDI File that the reader needs.
#[derive(Debug)]
pub(crate) struct Container<'a> {
    /// Ticks per beat (quarter note), > 0.
    pub ticks_per_beat: u16,
    /// The body of every `MTrk` chunk, in file order.
    pub tracks: Vec<&'a [u8]>,
}

fn malformed(msg: impl Into<String>) -> MidiError {
    MidiError::Malformed(msg.into())
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// Splits `bytes` into chunks. Unknown chunk types are skipped (the SMF spec says so); a chunk
/// whose length runs past the end of the file, or a partial chunk header, is an error.
pub(crate) fn parse(bytes: &[u8]) -> Result<Container<'_>, MidiError> {
    if bytes.is_empty() {
        return Err(malformed("empty file"));
    }
    if bytes.len() < 4 || &bytes[..4] != b"MThd" {
        return Err(malformed("no MThd header (not a MIDI file)"));
    }
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 8 {
            return Err(malformed(format!(
                "truncated chunk header at byte {}",
                bytes.len() - rest.len()
            )));
        }
        let kind = &rest[..4];
        let len = be_u32(&rest[4..8]) as usize;
        let body = &rest[8..];
        if len > body.len() {
            return Err(malformed(format!(
                "chunk {:?} at byte {} claims {} bytes but only {} remain (truncated file)",
                String::from_utf8_lossy(kind),
                bytes.len() - rest.len(),
                len,
                body.len()
            )));
        }
        chunks.push((kind, &body[..len]));
        rest = &body[len..];
    }

    let (_, header) = chunks[0];
    if header.len() < 6 {
        return Err(malformed(format!(
            "MThd chunk has {} bytes, needs 6",
            header.len()
        )));
    }
    let format = be_u16(&header[0..2]);
    let n_tracks_declared = be_u16(&header[2..4]);
    let division = be_u16(&header[4..6]);
    if division & 0x8000 != 0 {
        return Err(MidiError::Smpte);
    }
    if division == 0 {
        return Err(malformed("0 ticks per beat"));
    }
    if format > 1 {
        return Err(malformed(format!(
            "format {format} (only type 0 and 1 are supported)"
        )));
    }
    let tracks: Vec<&[u8]> = chunks[1..]
        .iter()
        .filter(|(kind, _)| *kind == b"MTrk")
        .map(|(_, body)| *body)
        .collect();
    if chunks[1..].iter().any(|(kind, _)| *kind == b"MThd") {
        return Err(malformed("a second MThd chunk"));
    }
    if tracks.is_empty() {
        return Err(malformed(format!(
            "zero track chunks (header declares {n_tracks_declared})"
        )));
    }
    if tracks.len() < n_tracks_declared as usize {
        return Err(malformed(format!(
            "header declares {n_tracks_declared} tracks, file holds {}",
            tracks.len()
        )));
    }
    Ok(Container {
        ticks_per_beat: division,
        tracks,
    })
}
