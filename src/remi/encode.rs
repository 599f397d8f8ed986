//! Song -> REMI tokens.
//!
//! Rules beyond DESIGN.md, fixed here:
//! - notes with a pitch outside 21..108 are dropped (the vocabulary has no token for them);
//! - two notes with the same onset step and pitch become one: the longer duration bin wins,
//!   then the louder velocity bin (the longer note covers the shorter one's sound);
//! - chord markers that do not parse as a chord (see [`Chord::from_marker`]) are ignored;
//!   several markers at one step: the last one (in tick order) counts;
//! - the tempo at a step is the last tempo event whose onset step is <= that step; a Tempo
//!   token is emitted at a step that has a tempo event when the 4-BPM bin changes;
//! - chords and tempos after the last bar with a note are not encoded.

use super::chord::Chord;
use super::vocab::{BAR, BOS, EOS, MAX_DURATION, MAX_PITCH, MIN_PITCH, Token, Vocab, tempo_bin};
use super::{RemiError, STEPS_PER_BAR, onset_step};
use crate::midi::{Note, Song};
use std::collections::BTreeMap;

/// One song as tokens, with the counts stored beside them in the shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub tokens: Vec<u16>,
    /// Bars 0..=last onset bar (empty bars included).
    pub n_bars: u32,
    /// Notes that made it into the tokens.
    pub n_notes: u32,
}

/// A note as REMI sees it: grid step, pitch, velocity bin, duration bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuantNote {
    pub step: u32,
    pub pitch: u8,
    pub velocity_bin: u8,
    pub duration_bin: u8,
}

/// Duration bin: round(ticks / 60), halves up, clamped to 1..64.
pub fn duration_bin(ticks: u32) -> u8 {
    ((ticks as u64 + 30) / 60).clamp(1, MAX_DURATION as u64) as u8
}

/// The notes `encode` writes, in token order (by step, then pitch), after dropping
/// out-of-range pitches and merging same (step, pitch) notes.
pub fn quantise(notes: &[Note]) -> Vec<QuantNote> {
    let mut q: Vec<QuantNote> = notes
        .iter()
        .filter(|n| (MIN_PITCH..=MAX_PITCH).contains(&n.pitch))
        .map(|n| QuantNote {
            step: onset_step(n.start),
            pitch: n.pitch,
            velocity_bin: (n.velocity / 4).min(31),
            duration_bin: duration_bin(n.end.saturating_sub(n.start)),
        })
        .collect();
    // Best first within (step, pitch), then keep the first of each group.
    q.sort_by(|a, b| {
        (a.step, a.pitch)
            .cmp(&(b.step, b.pitch))
            .then(b.duration_bin.cmp(&a.duration_bin))
            .then(b.velocity_bin.cmp(&a.velocity_bin))
    });
    q.dedup_by(|later, kept| (later.step, later.pitch) == (kept.step, kept.pitch));
    q
}

/// What happens at one grid step besides notes.
#[derive(Default)]
struct StepEvents {
    chord: Option<Chord>,
    /// Last tempo event rounded to this step, in BPM.
    tempo: Option<f64>,
}

pub fn encode(song: &Song) -> Result<Encoded, RemiError> {
    let notes = quantise(&song.notes);
    let last = notes.last().ok_or(RemiError::NoNotes)?;
    let n_bars = last.step / STEPS_PER_BAR + 1;
    let end_step = n_bars * STEPS_PER_BAR;

    let mut events: BTreeMap<u32, StepEvents> = BTreeMap::new();
    // Stable sorts by tick: the song contract says sorted, but hand-made songs may not be.
    let mut markers: Vec<_> = song.chords.iter().collect();
    markers.sort_by_key(|m| m.tick);
    let mut tempos: Vec<_> = song.tempos.iter().collect();
    tempos.sort_by_key(|t| t.tick);
    for marker in markers {
        let step = onset_step(marker.tick);
        if let (true, Some(chord)) = (step < end_step, Chord::from_marker(&marker.text)) {
            events.entry(step).or_default().chord = Some(chord);
        }
    }
    for tempo in tempos {
        let step = onset_step(tempo.tick);
        if step < end_step {
            events.entry(step).or_default().tempo = Some(tempo.bpm);
        }
    }

    let mut tokens = Vec::with_capacity(notes.len() * 3 + n_bars as usize * 4 + 2);
    tokens.push(BOS);
    let mut chord: Option<Chord> = None;
    let mut tempo: Option<u16> = None;
    let mut next_note = 0;
    let mut step_events = events.into_iter().peekable();
    for bar in 0..n_bars {
        tokens.push(BAR);
        let bar_end = (bar + 1) * STEPS_PER_BAR;
        loop {
            // The next step in this bar with anything on it.
            let note_step = notes
                .get(next_note)
                .map(|n| n.step)
                .filter(|s| *s < bar_end);
            let event_step = step_events.peek().map(|(s, _)| *s).filter(|s| *s < bar_end);
            let step = match (note_step, event_step) {
                (None, None) => break,
                (a, b) => a.into_iter().chain(b).min().expect("one of them is Some"),
            };
            let mut head = Vec::with_capacity(3);
            if event_step == Some(step) {
                let (_, ev) = step_events.next().expect("peeked");
                if let Some(c) = ev.chord.filter(|c| chord != Some(*c)) {
                    chord = Some(c);
                    head.push(Vocab::id(&Token::Chord(c)));
                }
                if let Some(bin) = ev.tempo.map(tempo_bin).filter(|b| tempo != Some(*b)) {
                    tempo = Some(bin);
                    head.push(Vocab::id(&Token::Tempo(bin)));
                }
            }
            let first_note = next_note;
            while notes.get(next_note).is_some_and(|n| n.step == step) {
                next_note += 1;
            }
            if head.is_empty() && first_note == next_note {
                continue; // an unchanged chord/tempo: nothing to say at this step
            }
            tokens.push(Vocab::id(&Token::Position((step % STEPS_PER_BAR) as u8)));
            tokens.extend(head);
            for n in &notes[first_note..next_note] {
                tokens.push(Vocab::id(&Token::Pitch(n.pitch)));
                tokens.push(Vocab::id(&Token::Velocity(n.velocity_bin)));
                tokens.push(Vocab::id(&Token::Duration(n.duration_bin)));
            }
        }
    }
    tokens.push(EOS);
    Ok(Encoded {
        tokens,
        n_bars,
        n_notes: notes.len() as u32,
    })
}
