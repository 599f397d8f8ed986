//! Song -> REMI tokens.
//!
//! Rules beyond the token spec (docs/design.md), fixed here:
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
    // Sized up front: a filtered iterator would make `collect` grow the Vec step by step.
    let mut q: Vec<QuantNote> = Vec::with_capacity(notes.len());
    q.extend(
        notes
            .iter()
            .filter(|n| (MIN_PITCH..=MAX_PITCH).contains(&n.pitch))
            .map(|n| QuantNote {
                step: onset_step(n.start),
                pitch: n.pitch,
                velocity_bin: (n.velocity / 4).min(31),
                duration_bin: duration_bin(n.end.saturating_sub(n.start)),
            }),
    );
    // Best first within (step, pitch), then keep the first of each group. Equal keys mean
    // equal notes, so an unstable sort gives the same result as a stable one.
    let best_first = |n: &QuantNote| {
        (
            n.step,
            n.pitch,
            std::cmp::Reverse(n.duration_bin),
            std::cmp::Reverse(n.velocity_bin),
        )
    };
    if q.is_sorted_by_key(|n| n.step) {
        // The usual case (a Song's notes are sorted by start): only notes that share a step
        // need ordering, and those groups are small.
        for same_step in q.chunk_by_mut(|a, b| a.step == b.step) {
            same_step.sort_unstable_by_key(best_first);
        }
    } else {
        q.sort_unstable_by_key(best_first);
    }
    q.dedup_by(|later, kept| (later.step, later.pitch) == (kept.step, kept.pitch));
    q
}

/// What happens at one grid step besides notes.
struct StepEvents {
    step: u32,
    /// Last parsable chord marker rounded to this step.
    chord: Option<Chord>,
    /// Last tempo event rounded to this step, in BPM.
    tempo: Option<f64>,
}

/// `(step, value)` pairs in step order -> the last value of each step.
fn last_per_step<T>(items: impl Iterator<Item = (u32, T)>) -> Vec<(u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for (step, value) in items {
        match out.last_mut() {
            Some((last_step, last)) if *last_step == step => *last = value,
            _ => out.push((step, value)),
        }
    }
    out
}

/// Chord and tempo events before `end_step`, one entry per step that has any, in step order.
/// (A sorted Vec rather than a map: it is built once and walked once.)
fn step_events(song: &Song, end_step: u32) -> Vec<StepEvents> {
    // Stable sorts by tick: the song contract says sorted, but hand-made songs may not be.
    // Tick order gives step order, since `onset_step` never decreases.
    let mut markers: Vec<_> = song.chords.iter().collect();
    markers.sort_by_key(|m| m.tick);
    let mut tempos: Vec<_> = song.tempos.iter().collect();
    tempos.sort_by_key(|t| t.tick);
    let chords = last_per_step(
        markers
            .into_iter()
            .map(|m| (onset_step(m.tick), m))
            .take_while(|(step, _)| *step < end_step)
            .filter_map(|(step, m)| Some((step, Chord::from_marker(&m.text)?))),
    );
    let tempos = last_per_step(
        tempos
            .into_iter()
            .map(|t| (onset_step(t.tick), t.bpm))
            .take_while(|(step, _)| *step < end_step),
    );
    // Merge the two step-ordered lists.
    let mut events = Vec::with_capacity(chords.len() + tempos.len());
    let mut chords = chords.into_iter().peekable();
    let mut tempos = tempos.into_iter().peekable();
    loop {
        let step = match (chords.peek(), tempos.peek()) {
            (None, None) => break,
            (Some((c, _)), None) => *c,
            (None, Some((t, _))) => *t,
            (Some((c, _)), Some((t, _))) => (*c).min(*t),
        };
        events.push(StepEvents {
            step,
            chord: chords.next_if(|(s, _)| *s == step).map(|(_, c)| c),
            tempo: tempos.next_if(|(s, _)| *s == step).map(|(_, bpm)| bpm),
        });
    }
    events
}

pub fn encode(song: &Song) -> Result<Encoded, RemiError> {
    let notes = quantise(&song.notes);
    let last = notes.last().ok_or(RemiError::NoNotes)?;
    let n_bars = last.step / STEPS_PER_BAR + 1;
    let end_step = n_bars * STEPS_PER_BAR;
    let events = step_events(song, end_step);

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
            let event_step = step_events.peek().map(|e| e.step).filter(|s| *s < bar_end);
            let step = match (note_step, event_step) {
                (None, None) => break,
                (a, b) => a.into_iter().chain(b).min().expect("one of them is Some"),
            };
            // At most one chord and one tempo token, in that order, after the Position.
            let mut chord_token = None;
            let mut tempo_token = None;
            if event_step == Some(step) {
                let ev = step_events.next().expect("peeked");
                if let Some(c) = ev.chord.filter(|c| chord != Some(*c)) {
                    chord = Some(c);
                    chord_token = Some(Vocab::id(&Token::Chord(c)));
                }
                if let Some(bin) = ev.tempo.map(tempo_bin).filter(|b| tempo != Some(*b)) {
                    tempo = Some(bin);
                    tempo_token = Some(Vocab::id(&Token::Tempo(bin)));
                }
            }
            let first_note = next_note;
            while notes.get(next_note).is_some_and(|n| n.step == step) {
                next_note += 1;
            }
            if chord_token.is_none() && tempo_token.is_none() && first_note == next_note {
                continue; // an unchanged chord/tempo: nothing to say at this step
            }
            tokens.push(Vocab::id(&Token::Position((step % STEPS_PER_BAR) as u8)));
            tokens.extend(chord_token);
            tokens.extend(tempo_token);
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
