//! A tiny Standard MIDI File builder: files made byte by byte, for reader tests.

pub fn vlq(mut v: u32) -> Vec<u8> {
    let mut out = vec![(v & 0x7F) as u8];
    v >>= 7;
    while v > 0 {
        out.insert(0, (v & 0x7F) as u8 | 0x80);
        v >>= 7;
    }
    out
}

/// Events as (delta, raw bytes after the delta).
pub fn track(events: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (delta, bytes) in events {
        body.extend(vlq(*delta));
        body.extend(bytes);
    }
    body.extend([0x00, 0xFF, 0x2F, 0x00]);
    let mut chunk = b"MTrk".to_vec();
    chunk.extend((body.len() as u32).to_be_bytes());
    chunk.extend(body);
    chunk
}

pub fn file(format: u16, division: u16, tracks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"MThd".to_vec();
    out.extend(6u32.to_be_bytes());
    out.extend(format.to_be_bytes());
    out.extend((tracks.len() as u16).to_be_bytes());
    out.extend(division.to_be_bytes());
    for t in tracks {
        out.extend(t);
    }
    out
}

pub fn on(ch: u8, pitch: u8, vel: u8) -> Vec<u8> {
    vec![0x90 | ch, pitch, vel]
}
pub fn off(ch: u8, pitch: u8) -> Vec<u8> {
    vec![0x80 | ch, pitch, 0x40]
}
pub fn tempo(us: u32) -> Vec<u8> {
    vec![
        0xFF,
        0x51,
        0x03,
        (us >> 16) as u8,
        (us >> 8) as u8,
        us as u8,
    ]
}
pub fn time_sig(num: u8, denom_pow: u8) -> Vec<u8> {
    vec![0xFF, 0x58, 0x04, num, denom_pow, 24, 8]
}
pub fn marker(text: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0x06];
    v.extend(vlq(text.len() as u32));
    v.extend(text.as_bytes());
    v
}

/// A type-1 file at 480 tpb: a conductor track with these time signatures (absolute tick,
/// numerator, power of two of the denominator), and a quarter note on every beat of 4 bars.
pub fn with_meters(meters: &[(u32, u8, u8)]) -> Vec<u8> {
    let mut at = 0;
    let conductor: Vec<(u32, Vec<u8>)> = meters
        .iter()
        .map(|&(tick, num, pow)| {
            let delta = tick - at;
            at = tick;
            (delta, time_sig(num, pow))
        })
        .collect();
    let mut piano = Vec::new();
    for beat in 0..16u8 {
        piano.push((if beat == 0 { 0 } else { 120 }, on(0, 60 + beat, 90)));
        piano.push((360, off(0, 60 + beat)));
    }
    file(1, 480, &[track(&conductor), track(&piano)])
}
