//! The REMI vocabulary: a fixed layout of token ids (docs/design.md, "REMI tokens").
//!
//! | ids | tokens |
//! |---|---|
//! | 0, 1, 2, 3 | Pad, Bos, Eos, Bar |
//! | 4..20 | Position_0..15 |
//! | 20..152 | Chord_<root>_<quality>, root-major (C_M, C_m, ..., B_sus4) |
//! | 152 | Chord_N |
//! | 153..202 | Tempo_32, Tempo_36, ..., Tempo_224 |
//! | 202..290 | Pitch_21..108 |
//! | 290..322 | Velocity_0..31 |
//! | 322..386 | Duration_1..64 |

use super::chord::Chord;
use std::fmt;

pub const PAD: u16 = 0;
pub const BOS: u16 = 1;
pub const EOS: u16 = 2;
pub const BAR: u16 = 3;

pub const N_POSITIONS: u16 = 16;
pub const MIN_TEMPO: u16 = 32;
pub const MAX_TEMPO: u16 = 224;
pub const TEMPO_STEP: u16 = 4;
pub const N_TEMPOS: u16 = (MAX_TEMPO - MIN_TEMPO) / TEMPO_STEP + 1;
pub const MIN_PITCH: u8 = 21;
pub const MAX_PITCH: u8 = 108;
pub const N_PITCHES: u16 = (MAX_PITCH - MIN_PITCH) as u16 + 1;
pub const N_VELOCITIES: u16 = 32;
pub const MAX_DURATION: u8 = 64;

pub(crate) const POSITION0: u16 = 4;
pub(crate) const CHORD0: u16 = POSITION0 + N_POSITIONS;
pub(crate) const TEMPO0: u16 = CHORD0 + Chord::COUNT;
pub(crate) const PITCH0: u16 = TEMPO0 + N_TEMPOS;
pub(crate) const VELOCITY0: u16 = PITCH0 + N_PITCHES;
pub(crate) const DURATION0: u16 = VELOCITY0 + N_VELOCITIES;
const END: u16 = DURATION0 + MAX_DURATION as u16;

/// Name of this vocabulary (layout version), for paths such as data/tokens/<vocab>/.
pub const VOCAB_NAME: &str = "remi-v1";

/// One REMI token. Values are the musical values, not offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Token {
    Pad,
    Bos,
    Eos,
    Bar,
    /// Grid position 0..15 in the bar.
    Position(u8),
    Chord(Chord),
    /// Tempo in BPM: 32, 36, ..., 224.
    Tempo(u16),
    /// MIDI pitch 21..108.
    Pitch(u8),
    /// Velocity bin 0..31 (velocity / 4).
    Velocity(u8),
    /// Duration in eighths of a beat (60 ticks), 1..64.
    Duration(u8),
}

/// The id <-> token mapping. All methods are associated functions: the layout is fixed.
pub struct Vocab;

impl Vocab {
    pub const SIZE: usize = END as usize;

    pub fn len() -> usize {
        Self::SIZE
    }

    /// The id of a token. Panics on a value outside the vocabulary (e.g. `Pitch(5)`): that is
    /// a bug in the caller, since the encoder clamps every value first.
    pub fn id(token: &Token) -> u16 {
        Self::try_id(token).unwrap_or_else(|| panic!("{token:?} is not in the REMI vocabulary"))
    }

    /// The id of a token, or None when a value is out of range.
    pub fn try_id(token: &Token) -> Option<u16> {
        Some(match *token {
            Token::Pad => PAD,
            Token::Bos => BOS,
            Token::Eos => EOS,
            Token::Bar => BAR,
            Token::Position(p) if (p as u16) < N_POSITIONS => POSITION0 + p as u16,
            Token::Chord(c) => CHORD0 + c.index()?,
            Token::Tempo(bpm)
                if (MIN_TEMPO..=MAX_TEMPO).contains(&bpm)
                    && (bpm - MIN_TEMPO) % TEMPO_STEP == 0 =>
            {
                TEMPO0 + (bpm - MIN_TEMPO) / TEMPO_STEP
            }
            Token::Pitch(p) if (MIN_PITCH..=MAX_PITCH).contains(&p) => {
                PITCH0 + (p - MIN_PITCH) as u16
            }
            Token::Velocity(v) if (v as u16) < N_VELOCITIES => VELOCITY0 + v as u16,
            Token::Duration(d) if (1..=MAX_DURATION).contains(&d) => DURATION0 + d as u16 - 1,
            _ => return None,
        })
    }

    pub fn token(id: u16) -> Option<Token> {
        Some(match id {
            PAD => Token::Pad,
            BOS => Token::Bos,
            EOS => Token::Eos,
            BAR => Token::Bar,
            _ if id < CHORD0 => Token::Position((id - POSITION0) as u8),
            _ if id < TEMPO0 => Token::Chord(Chord::from_index(id - CHORD0)?),
            _ if id < PITCH0 => Token::Tempo(MIN_TEMPO + (id - TEMPO0) * TEMPO_STEP),
            _ if id < VELOCITY0 => Token::Pitch(MIN_PITCH + (id - PITCH0) as u8),
            _ if id < DURATION0 => Token::Velocity((id - VELOCITY0) as u8),
            _ if id < END => Token::Duration((id - DURATION0) as u8 + 1),
            _ => return None,
        })
    }

    /// The token's name, e.g. `Position_3`, `Chord_A_M7`, `Tempo_120`; `?<id>` when unknown.
    pub fn name(id: u16) -> String {
        match Self::token(id) {
            Some(t) => t.to_string(),
            None => format!("?{id}"),
        }
    }

    /// Parses a token name back (inverse of `Display`).
    pub fn parse(name: &str) -> Option<Token> {
        Some(match name {
            "Pad" => Token::Pad,
            "Bos" => Token::Bos,
            "Eos" => Token::Eos,
            "Bar" => Token::Bar,
            _ => {
                let (kind, value) = name.split_once('_')?;
                let token = match kind {
                    "Position" => Token::Position(value.parse().ok()?),
                    "Chord" => Token::Chord(Chord::from_token_name(value)?),
                    "Tempo" => Token::Tempo(value.parse().ok()?),
                    "Pitch" => Token::Pitch(value.parse().ok()?),
                    "Velocity" => Token::Velocity(value.parse().ok()?),
                    "Duration" => Token::Duration(value.parse().ok()?),
                    _ => return None,
                };
                Self::try_id(&token)?;
                token
            }
        })
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Pad => write!(f, "Pad"),
            Token::Bos => write!(f, "Bos"),
            Token::Eos => write!(f, "Eos"),
            Token::Bar => write!(f, "Bar"),
            Token::Position(p) => write!(f, "Position_{p}"),
            Token::Chord(c) => write!(f, "Chord_{}", c.token_name()),
            Token::Tempo(b) => write!(f, "Tempo_{b}"),
            Token::Pitch(p) => write!(f, "Pitch_{p}"),
            Token::Velocity(v) => write!(f, "Velocity_{v}"),
            Token::Duration(d) => write!(f, "Duration_{d}"),
        }
    }
}

/// vocab.json: a JSON object from id (as a string key, JSON has no integer keys) to token
/// name, in id order, e.g. `{"0": "Pad", "1": "Bos", ...}`.
pub fn vocab_json() -> String {
    let mut map = serde_json::Map::new();
    for id in 0..Vocab::SIZE as u16 {
        map.insert(id.to_string(), serde_json::Value::String(Vocab::name(id)));
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(map))
        .expect("a map of strings serialises")
}

/// tokenizer.json: the vocabulary as name -> id (the direction HF tokenizers and MidiTok
/// use) and the tokenizer's parameters in MidiTok's terms, so a reader outside Rust can map
/// and interpret the shards without this crate.
pub fn tokenizer_json() -> String {
    let vocab: serde_json::Map<String, serde_json::Value> = (0..Vocab::SIZE as u16)
        .map(|id| (Vocab::name(id), id.into()))
        .collect();
    let value = serde_json::json!({
        "tokenization": "REMI",
        "vocab_name": VOCAB_NAME,
        "vocab_size": Vocab::SIZE,
        "special_tokens": ["Pad", "Bos", "Eos"],
        "pad_token_id": PAD,
        "bos_token_id": BOS,
        "eos_token_id": EOS,
        "params": {
            "time_signature": "4/4 only (1/4 and 2/4 files are re-barred into 4/4)",
            "ticks_per_beat": 480,
            "beat_res": { "0_4": N_POSITIONS / 4 },
            "positions_per_bar": N_POSITIONS,
            "pitch_range": [MIN_PITCH, MAX_PITCH as u16 + 1],
            "num_velocities": N_VELOCITIES,
            "velocity_bin": "velocity / 4 (bin v covers MIDI velocities 4v..4v+3)",
            "duration_unit_beats": 0.125,
            "durations": [1, MAX_DURATION],
            "use_tempos": true,
            "tempo_range": [MIN_TEMPO, MAX_TEMPO],
            "tempo_step": TEMPO_STEP,
            "num_tempos": N_TEMPOS,
            "use_chords": true,
            "num_chords": Chord::COUNT,
            "use_programs": false,
            "use_rests": false,
            "use_time_signatures": false,
        },
        "vocab": vocab,
    });
    serde_json::to_string_pretty(&value).expect("a JSON value serialises")
}

/// Token classes, for fast checks in the grammar and elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pad,
    Bos,
    Eos,
    Bar,
    Position,
    Chord,
    Tempo,
    Pitch,
    Velocity,
    Duration,
    Unknown,
}

pub fn kind(id: u16) -> Kind {
    match id {
        PAD => Kind::Pad,
        BOS => Kind::Bos,
        EOS => Kind::Eos,
        BAR => Kind::Bar,
        _ if id < CHORD0 => Kind::Position,
        _ if id < TEMPO0 => Kind::Chord,
        _ if id < PITCH0 => Kind::Tempo,
        _ if id < VELOCITY0 => Kind::Pitch,
        _ if id < DURATION0 => Kind::Velocity,
        _ if id < END => Kind::Duration,
        _ => Kind::Unknown,
    }
}

/// Id ranges of each class (half-open), for building masks.
pub fn range(kind: Kind) -> std::ops::Range<u16> {
    match kind {
        Kind::Pad => PAD..PAD + 1,
        Kind::Bos => BOS..BOS + 1,
        Kind::Eos => EOS..EOS + 1,
        Kind::Bar => BAR..BAR + 1,
        Kind::Position => POSITION0..CHORD0,
        Kind::Chord => CHORD0..TEMPO0,
        Kind::Tempo => TEMPO0..PITCH0,
        Kind::Pitch => PITCH0..VELOCITY0,
        Kind::Velocity => VELOCITY0..DURATION0,
        Kind::Duration => DURATION0..END,
        Kind::Unknown => END..END,
    }
}

/// Tempo bin of a BPM value: clamped to [32, 224], nearest multiple of 4 (halves up).
pub fn tempo_bin(bpm: f64) -> u16 {
    let bpm = if bpm.is_finite() {
        bpm
    } else {
        MAX_TEMPO as f64
    };
    let clamped = bpm.clamp(MIN_TEMPO as f64, MAX_TEMPO as f64);
    let k = ((clamped - MIN_TEMPO as f64) / TEMPO_STEP as f64 + 0.5).floor() as u16;
    MIN_TEMPO + k.min(N_TEMPOS - 1) * TEMPO_STEP
}
