//! The reader under fuzzing: 100,000 seeded mutations of real and hand-made MIDI files
//! (flipped bytes, truncations, inserted and deleted runs, huge length fields). Every read
//! returns a song or a reason; none panics or hangs, and none allocates more than the file can
//! back (a length field that claims gigabytes must not become an allocation).

use std::time::{Duration, Instant};

use cadenza::midi;
use cadenza::rng::Rng;
use rayon::prelude::*;

use crate::support::alloc::largest_allocation;
use crate::support::smf::{file, marker, off, on, tempo, time_sig, track};

const VARIANTS: usize = 100_000;

/// Small files that exercise every kind of event.
fn hand_made() -> Vec<Vec<u8>> {
    let conductor = track(&[
        (0, time_sig(2, 2)),
        (0, tempo(500_000)),
        (0, marker("C_M_C")),
        (1920, marker("global_bpm_96")),
    ]);
    let mut notes = Vec::new();
    for i in 0..24u8 {
        notes.push((if i == 0 { 0 } else { 60 }, on(i % 3, 48 + i, 60 + i)));
        notes.push((180, off(i % 3, 48 + i)));
    }
    let sysex = vec![
        (0, vec![0xF0, 0x03, 0x43, 0x12, 0xF7]),
        (10, on(0, 60, 90)),
        (90, off(0, 60)),
    ];
    vec![
        file(1, 480, &[conductor.clone(), track(&notes)]),
        file(0, 96, &[track(&notes)]),
        file(1, 1024, &[conductor, track(&sysex), track(&notes)]),
    ]
}

/// A few files of the real corpus, when it is here.
fn real(n: usize) -> Vec<Vec<u8>> {
    crate::support::corpus_files("the reader fuzzed with real files (midi::fuzz)", n)
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

/// The chunks of a well-formed file, as (type, body).
fn chunks(bytes: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 8 {
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let body = rest[8..].get(..len).unwrap_or(&rest[8..]);
        out.push(([rest[0], rest[1], rest[2], rest[3]], body.to_vec()));
        rest = &rest[(8 + body.len()).min(rest.len())..];
    }
    out
}

/// One variant of `bytes`: half the time the events of one track are mutated and the file is
/// put back together with correct chunk lengths (so the event reader is what gets tested);
/// otherwise the raw bytes are mutated, container included.
fn variant(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    if rng.below(2) == 0 {
        return mutate(bytes, rng);
    }
    let mut parts = chunks(bytes);
    let tracks: Vec<usize> = (0..parts.len())
        .filter(|&i| &parts[i].0 == b"MTrk")
        .collect();
    if let Some(&t) = tracks.get(rng.below(tracks.len().max(1) as u64) as usize) {
        parts[t].1 = mutate(&parts[t].1, rng);
    }
    let mut out = Vec::with_capacity(bytes.len() + 64);
    for (kind, body) in parts {
        out.extend(kind);
        out.extend((body.len() as u32).to_be_bytes());
        out.extend(body);
    }
    out
}

/// One mutation of `bytes`, chosen by `rng`.
fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let at = |rng: &mut Rng, b: &Vec<u8>| rng.below(b.len().max(1) as u64) as usize;
    for _ in 0..1 + rng.below(3) {
        match rng.below(6) {
            0 => {
                let i = at(rng, &b);
                if let Some(x) = b.get_mut(i) {
                    *x = rng.below(256) as u8;
                }
            }
            1 => b.truncate(at(rng, &b)),
            2 => {
                let i = at(rng, &b);
                let run: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| rng.below(256) as u8)
                    .collect();
                b.splice(i..i, run);
            }
            3 => {
                let i = at(rng, &b);
                let end = (i + 1 + rng.below(32) as usize).min(b.len());
                b.drain(i..end);
            }
            4 => {
                // A huge length: a chunk length, or a variable-length quantity in an event.
                let i = at(rng, &b);
                let huge = [0xFF, 0xFF, 0xFF, 0x7F];
                for (k, v) in huge.iter().enumerate() {
                    if let Some(x) = b.get_mut(i + k) {
                        *x = *v;
                    }
                }
            }
            _ => {
                // A chunk claiming more than the file holds.
                if b.len() > 22 {
                    b[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
                }
            }
        }
    }
    b
}

#[test]
fn a_hundred_thousand_mutated_files_never_panic_hang_or_overallocate() {
    // One variant in five from a real file (about 50 KB each), the rest from the small ones.
    let (small, large) = (hand_made(), real(40));
    let results: Vec<(Duration, usize, usize, bool)> = (0..VARIANTS)
        .into_par_iter()
        .map(|i| {
            let mut rng = Rng::new(cadenza::rng::Rng::derive(2026, &["fuzz", &i.to_string()]));
            let pool = if !large.is_empty() && rng.below(5) == 0 {
                &large
            } else {
                &small
            };
            let seed = &pool[rng.below(pool.len() as u64) as usize];
            let bytes = variant(seed, &mut rng);
            let t0 = Instant::now();
            let (read, largest) = largest_allocation(|| {
                std::panic::catch_unwind(|| midi::read_bytes(&bytes).is_ok())
            });
            let ok = read.unwrap_or_else(|_| panic!("variant {i} panicked"));
            (t0.elapsed(), largest, bytes.len(), ok)
        })
        .collect();
    assert_eq!(results.len(), VARIANTS);
    let slowest = results.iter().map(|r| r.0).max().unwrap();
    assert!(slowest < Duration::from_secs(2), "slowest read {slowest:?}");
    for (i, (_, largest, len, _)) in results.iter().enumerate() {
        // The note table (24 bytes a note at most, one note per 3 bytes), the pairing tables
        // (16 KiB) and the final sort's buffer: a small multiple of the file.
        let bound = 24 * len + (1 << 20);
        assert!(
            *largest <= bound,
            "variant {i}: {largest} bytes allocated for {len}"
        );
    }
    let read = results.iter().filter(|r| r.3).count();
    eprintln!(
        "fuzz: {VARIANTS} variants of {} files, {read} read, {} rejected, slowest {slowest:?}",
        small.len() + large.len(),
        VARIANTS - read
    );
    assert!(read > 0 && read < VARIANTS, "both outcomes occur");
}
