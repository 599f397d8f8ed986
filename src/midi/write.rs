//! [`Song`] -> type-1 MIDI at 480 ticks per beat.
//!
//! Track 0 is the conductor: 4/4 time signature, `global_bpm_NN` marker (when set), tempo
//! events and chord markers (Marker meta events, text as stored). Track 1 holds the piano
//! notes on channel 0, program 0. A note that starts while another note of the same pitch
//! still sounds goes to an extra piano track (2, 3, ...): on one channel such overlaps cannot
//! be paired back unambiguously, and reading must give the same Song.

use super::{Note, Song, TPB};
use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

pub fn write_bytes(song: &Song) -> Vec<u8> {
    let bpm_text = song.global_bpm.map(|bpm| format!("global_bpm_{bpm}"));
    let mut tracks = vec![conductor(song, bpm_text.as_deref())];
    for voice in split_overlaps(&song.notes) {
        tracks.push(piano_track(&voice));
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::new(TPB as u16))),
        tracks,
    };
    let mut out = Vec::new();
    smf.write_std(&mut out)
        .expect("writing MIDI into a Vec cannot fail");
    out
}

/// (tick, order at that tick, event kind): sorted, then turned into delta times.
type Timed<'a> = (u32, u8, TrackEventKind<'a>);

fn into_track(mut timed: Vec<Timed<'_>>) -> Vec<TrackEvent<'_>> {
    timed.sort_by_key(|(tick, order, _)| (*tick, *order));
    let mut last = 0;
    let mut track: Vec<TrackEvent> = timed
        .into_iter()
        .map(|(tick, _, kind)| {
            let delta = tick - last;
            last = tick;
            TrackEvent {
                delta: u28::new(delta),
                kind,
            }
        })
        .collect();
    track.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    track
}

fn conductor<'a>(song: &'a Song, bpm_text: Option<&'a str>) -> Vec<TrackEvent<'a>> {
    let mut timed: Vec<Timed> = vec![(
        0,
        0,
        TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
    )];
    if let Some(text) = bpm_text {
        timed.push((
            0,
            1,
            TrackEventKind::Meta(MetaMessage::Marker(text.as_bytes())),
        ));
    }
    for tempo in &song.tempos {
        let us = (60_000_000.0 / tempo.bpm)
            .round()
            .clamp(1.0, 0xFF_FFFF as f64) as u32;
        timed.push((
            tempo.tick,
            2,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(us))),
        ));
    }
    for chord in &song.chords {
        timed.push((
            chord.tick,
            3,
            TrackEventKind::Meta(MetaMessage::Marker(chord.text.as_bytes())),
        ));
    }
    into_track(timed)
}

/// Splits notes into voices in which no two notes of one pitch overlap (greedy, first fit).
fn split_overlaps(notes: &[Note]) -> Vec<Vec<Note>> {
    let mut sorted = notes.to_vec();
    sorted.sort_by_key(|n| (n.start, n.pitch, n.end, n.velocity));
    // ends[v][pitch] = end tick of the last note of that pitch in voice v.
    let mut ends: Vec<[u32; 128]> = Vec::new();
    let mut voices: Vec<Vec<Note>> = Vec::new();
    for note in sorted {
        let p = (note.pitch & 127) as usize;
        let v = match ends.iter().position(|e| e[p] <= note.start) {
            Some(v) => v,
            None => {
                ends.push([0; 128]);
                voices.push(Vec::new());
                voices.len() - 1
            }
        };
        ends[v][p] = note.end;
        voices[v].push(note);
    }
    if voices.is_empty() {
        voices.push(Vec::new());
    }
    voices
}

fn piano_track(notes: &[Note]) -> Vec<TrackEvent<'static>> {
    let channel = u4::new(0);
    let mut timed: Vec<Timed> = vec![
        (0, 0, TrackEventKind::Meta(MetaMessage::TrackName(b"piano"))),
        (
            0,
            1,
            TrackEventKind::Midi {
                channel,
                message: MidiMessage::ProgramChange {
                    program: u7::new(0),
                },
            },
        ),
    ];
    for n in notes {
        let key = u7::new(n.pitch & 127);
        // Offs sort before ons at one tick, so a note ending where the next one of the same
        // pitch starts is closed first.
        timed.push((
            n.end,
            2,
            TrackEventKind::Midi {
                channel,
                message: MidiMessage::NoteOff {
                    key,
                    vel: u7::new(0),
                },
            },
        ));
        let vel = u7::new(n.velocity.clamp(1, 127));
        timed.push((
            n.start,
            3,
            TrackEventKind::Midi {
                channel,
                message: MidiMessage::NoteOn { key, vel },
            },
        ));
    }
    into_track(timed)
}
