//! Reading TensorBoard event files back (TFRecord framing, protobuf `Event` messages) to check
//! what training logged.

use std::path::{Path, PathBuf};

/// (tag, step, value) of every scalar in the TFRecord event files of `dir`.
pub fn read_scalars(dir: &Path) -> Vec<(String, i64, f32)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let mut at = 0;
        // TFRecord: u64 length, u32 masked crc of the length, data, u32 masked crc of the data.
        while at < bytes.len() {
            let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
            let data = &bytes[at + 12..at + 12 + len];
            at += 12 + len + 4;
            // Event: 1 wall_time (f64), 2 step (varint), 5 summary; Summary: 1 value;
            // Value: 1 tag (string), 2 simple_value (f32).
            let mut step = 0i64;
            let mut summary = None;
            for (field, v) in fields(data) {
                match (field, v) {
                    (2, Field::Varint(s)) => step = s as i64,
                    (5, Field::Bytes(b)) => summary = Some(b),
                    _ => {}
                }
            }
            for (field, v) in summary.map(fields).unwrap_or_default() {
                if let (1, Field::Bytes(value)) = (field, v) {
                    let (mut tag, mut x) = (String::new(), f32::NAN);
                    for (k, w) in fields(value) {
                        match (k, w) {
                            (1, Field::Bytes(t)) => tag = String::from_utf8(t.to_vec()).unwrap(),
                            (2, Field::Fixed32(b)) => x = f32::from_le_bytes(b),
                            _ => {}
                        }
                    }
                    out.push((tag, step, x));
                }
            }
        }
    }
    out
}

enum Field<'a> {
    Varint(u64),
    Fixed64,
    Fixed32([u8; 4]),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], at: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let byte = b[*at];
        *at += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

fn fields(b: &[u8]) -> Vec<(u64, Field<'_>)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < b.len() {
        let key = varint(b, &mut at);
        let f = match key & 7 {
            0 => Field::Varint(varint(b, &mut at)),
            1 => {
                at += 8;
                Field::Fixed64
            }
            2 => {
                let len = varint(b, &mut at) as usize;
                at += len;
                Field::Bytes(&b[at - len..at])
            }
            5 => {
                at += 4;
                Field::Fixed32(b[at - 4..at].try_into().unwrap())
            }
            w => panic!("unexpected wire type {w}"),
        };
        out.push((key >> 3, f));
    }
    out
}
