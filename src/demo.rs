//! The built-in demo corpus, used when no real corpus can be had: synthetic 4/4 pop-piano
//! songs with a chord progression (chord markers), tempo events, a melody on chord and scale
//! tones, and an accompaniment (bass plus a pattern on the chord) that follows the chords.
//! Everything comes from the seed, so the corpus is the same on every machine.

use crate::midi::{self, Marker, Note, Song, TPB, Tempo};
use crate::remi::{Chord, Quality};
use crate::rng::Rng;
use anyhow::Context;
use std::path::Path;

const BEAT: u32 = TPB;
const BAR: u32 = 4 * BEAT;
const MAJOR_SCALE: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];

/// Progressions as (scale degree, quality), one chord per bar or two per bar.
const PROGRESSIONS: [&[(u8, Quality)]; 6] = [
    &[
        (0, Quality::Major),
        (4, Quality::Major),
        (5, Quality::Minor),
        (3, Quality::Major),
    ],
    &[
        (5, Quality::Minor),
        (3, Quality::Major),
        (0, Quality::Major),
        (4, Quality::Major),
    ],
    &[
        (0, Quality::Major7),
        (5, Quality::Minor7),
        (1, Quality::Minor7),
        (4, Quality::Dominant7),
    ],
    &[
        (0, Quality::Major),
        (5, Quality::Minor),
        (3, Quality::Major),
        (4, Quality::Sus4),
    ],
    &[
        (3, Quality::Major7),
        (4, Quality::Dominant7),
        (2, Quality::Minor7),
        (5, Quality::Minor),
    ],
    &[
        (0, Quality::Major),
        (2, Quality::Minor),
        (3, Quality::Major),
        (4, Quality::Major),
    ],
];

/// Onset patterns of one melody bar, in 16th steps, with durations in steps.
const RHYTHMS: [&[(u32, u32)]; 5] = [
    &[(0, 4), (4, 4), (8, 4), (12, 4)],
    &[(0, 6), (6, 2), (8, 4), (12, 2), (14, 2)],
    &[(0, 2), (2, 2), (4, 4), (8, 8)],
    &[(0, 3), (3, 3), (6, 2), (8, 6), (14, 2)],
    &[(0, 8), (8, 2), (10, 2), (12, 4)],
];

/// The file in the raw folder that marks the built-in demo corpus.
pub const DEMO_MARKER: &str = "DEMO_CORPUS.txt";

/// Whether the corpus in `raw_dir` is the built-in demo corpus.
pub fn is_demo_corpus(raw_dir: &Path) -> bool {
    raw_dir.join(DEMO_MARKER).exists()
}

/// The warning every stage prints when it runs on the demo corpus.
pub fn banner() {
    eprintln!(
        "!!! DEMO DATA: data/raw/pop1k7 holds the small built-in synthetic corpus, not Pop1K7. \
         Results say nothing about real music; link or download the real corpus (`make data`). !!!"
    );
}

/// Writes `n_songs` songs as `<dir>/demo/song_NNN.mid` and marks `dir` as the demo corpus;
/// refuses a folder that holds anything else. Returns how many songs were written.
pub fn write_demo_corpus(dir: &Path, n_songs: usize, seed: u64) -> anyhow::Result<usize> {
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if occupied && !is_demo_corpus(dir) {
        anyhow::bail!(
            "{} is not empty and is not a demo corpus; refusing to write into it",
            dir.display()
        );
    }
    let out = dir.join("demo");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for i in 0..n_songs {
        let song = demo_song(Rng::derive(seed, &["demo", i.to_string().as_str()]));
        let path = out.join(format!("song_{i:03}.mid"));
        std::fs::write(&path, midi::write_bytes(&song))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    std::fs::write(
        dir.join(DEMO_MARKER),
        "This folder holds cadenza's synthetic demo corpus, not Pop1K7.\n",
    )
    .with_context(|| format!("writing {}", dir.join(DEMO_MARKER).display()))?;
    Ok(n_songs)
}

/// One synthetic song from its own seed.
pub fn demo_song(seed: u64) -> Song {
    let mut rng = Rng::new(seed);
    let key = rng.below(12) as u8;
    let n_bars = rng.range_i64(16, 48) as u32;
    let progression = PROGRESSIONS[rng.below(PROGRESSIONS.len() as u64) as usize];
    let two_per_bar = rng.below(3) == 0;
    let base_bpm = rng.range_i64(70, 150) as f64;
    let accompaniment = rng.below(3);
    let melody_rhythms: Vec<usize> = (0..4)
        .map(|_| rng.below(RHYTHMS.len() as u64) as usize)
        .collect();

    let mut song = Song {
        global_bpm: Some(base_bpm),
        tempos: tempo_map(&mut rng, base_bpm, n_bars),
        ..Song::default()
    };

    let chord_len = if two_per_bar { BAR / 2 } else { BAR };
    let n_chords = n_bars * BAR / chord_len;
    let mut prev_melody = 72u8 + key % 12;
    for c in 0..n_chords {
        let (degree, quality) = progression[c as usize % progression.len()];
        let root = (key + MAJOR_SCALE[degree as usize]) % 12;
        let chord = Chord::Rooted { root, quality };
        let start = c * chord_len;
        song.chords.push(Marker {
            tick: start,
            text: chord.marker_text(),
        });
        let tones: Vec<u8> = quality
            .intervals()
            .iter()
            .map(|i| (root + i) % 12)
            .collect();
        accompany(
            &mut song.notes,
            &mut rng,
            start,
            chord_len,
            root,
            &tones,
            accompaniment,
        );
    }

    for bar in 0..n_bars {
        // Phrases of 4 bars reuse one of 4 rhythms, so there is structure to learn.
        let rhythm = RHYTHMS[melody_rhythms[(bar / 4 % 4) as usize]];
        for &(step, len) in rhythm {
            let tick = bar * BAR + step * 120;
            let chord_index = (tick / chord_len) as usize;
            let (degree, quality) = progression[chord_index % progression.len()];
            let root = (key + MAJOR_SCALE[degree as usize]) % 12;
            let strong = step % 4 == 0;
            let pitch = melody_pitch(&mut rng, prev_melody, key, root, quality, strong);
            prev_melody = pitch;
            // Performed feel: a little timing jitter that still quantises to the same step.
            let jitter = rng.range_i64(-30, 30);
            let start = (tick as i64 + jitter).max(0) as u32;
            song.notes.push(Note {
                start,
                end: tick + len * 120 - 40,
                pitch,
                velocity: rng.range_i64(70, 100) as u8,
            });
        }
    }
    song.notes
        .sort_by_key(|n| (n.start, n.pitch, n.end, n.velocity));
    song
}

/// Tempo once per beat like Pop1K7, drifting a little and changing section every 8 bars.
fn tempo_map(rng: &mut Rng, base_bpm: f64, n_bars: u32) -> Vec<Tempo> {
    let mut bpm = base_bpm;
    let mut tempos = Vec::with_capacity(n_bars as usize * 4);
    for beat in 0..n_bars * 4 {
        if beat % 32 == 0 && beat > 0 {
            bpm = (base_bpm + rng.range_i64(-12, 12) as f64).max(40.0);
        }
        let wobble = rng.range_i64(-2, 2) as f64;
        tempos.push(Tempo {
            tick: beat * BEAT,
            bpm: bpm + wobble,
        });
    }
    tempos
}

/// Melody: on strong steps a chord tone, otherwise a scale tone, moving by small steps.
fn melody_pitch(rng: &mut Rng, prev: u8, key: u8, root: u8, quality: Quality, strong: bool) -> u8 {
    let candidates: Vec<u8> = (60u8..=84)
        .filter(|p| {
            let pc = p % 12;
            if strong {
                quality.intervals().iter().any(|i| (root + i) % 12 == pc)
            } else {
                MAJOR_SCALE.iter().any(|s| (key + s) % 12 == pc)
            }
        })
        .filter(|p| (*p as i32 - prev as i32).abs() <= 5)
        .collect();
    if candidates.is_empty() {
        return prev.clamp(60, 84);
    }
    candidates[rng.below(candidates.len() as u64) as usize]
}

/// Bass on the root, and a block-chord, arpeggio or off-beat pattern on the chord tones.
fn accompany(
    notes: &mut Vec<Note>,
    rng: &mut Rng,
    start: u32,
    len: u32,
    root: u8,
    tones: &[u8],
    style: u64,
) {
    let bass = 36 + root;
    let vel = |rng: &mut Rng| rng.range_i64(50, 72) as u8;
    notes.push(Note {
        start,
        end: start + len - 20,
        pitch: bass,
        velocity: vel(rng),
    });
    let voiced: Vec<u8> = tones.iter().map(|pc| 48 + pc).collect();
    match style {
        0 => {
            // Block chords on every beat.
            for beat in (0..len).step_by(BEAT as usize) {
                for &p in &voiced {
                    notes.push(Note {
                        start: start + beat,
                        end: start + beat + BEAT - 40,
                        pitch: p,
                        velocity: vel(rng),
                    });
                }
            }
        }
        1 => {
            // Eighth-note arpeggio up and down.
            let steps = len / (BEAT / 2);
            for i in 0..steps {
                let cycle = voiced.len() * 2 - 2;
                let j = i as usize % cycle.max(1);
                let idx = if j < voiced.len() { j } else { cycle - j };
                let t = start + i * BEAT / 2;
                notes.push(Note {
                    start: t,
                    end: t + BEAT / 2 - 20,
                    pitch: voiced[idx],
                    velocity: vel(rng),
                });
            }
        }
        _ => {
            // Off-beat chords.
            for beat in (0..len).step_by(BEAT as usize) {
                for &p in &voiced {
                    let t = start + beat + BEAT / 2;
                    notes.push(Note {
                        start: t,
                        end: t + BEAT / 2 - 30,
                        pitch: p + 12,
                        velocity: vel(rng),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remi;

    #[test]
    fn demo_corpus_is_readable_varied_and_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_demo_corpus(dir.path(), 12, 7).unwrap(), 12);
        let mut bars = Vec::new();
        let mut first_bytes = Vec::new();
        for i in 0..12 {
            let path = dir.path().join(format!("demo/song_{i:03}.mid"));
            let bytes = std::fs::read(&path).unwrap();
            let song = midi::read_bytes(&bytes).unwrap();
            assert!(
                song.chords.len() >= 16 && song.tempos.len() >= 64,
                "song {i}"
            );
            assert!(
                song.chords
                    .iter()
                    .all(|m| Chord::from_marker(&m.text).is_some())
            );
            let enc = remi::encode(&song).unwrap();
            assert!(
                (16..=48).contains(&enc.n_bars),
                "song {i}: {} bars",
                enc.n_bars
            );
            assert!(enc.n_notes as usize >= 4 * enc.n_bars as usize);
            bars.push(enc.n_bars);
            first_bytes.push(bytes);
        }
        bars.sort();
        bars.dedup();
        assert!(bars.len() > 3, "bar counts vary: {bars:?}");
        first_bytes.dedup();
        assert_eq!(first_bytes.len(), 12, "songs differ");

        // Same seed, same files; another seed, other files.
        let again = tempfile::tempdir().unwrap();
        write_demo_corpus(again.path(), 2, 7).unwrap();
        let other = tempfile::tempdir().unwrap();
        write_demo_corpus(other.path(), 2, 8).unwrap();
        let read = |d: &Path| std::fs::read(d.join("demo/song_001.mid")).unwrap();
        assert_eq!(read(again.path()), first_bytes[1]);
        assert_ne!(read(other.path()), first_bytes[1]);
    }
}
