//! Chords as REMI sees them: a root (pitch class) and a quality, or N (no chord).
//! Pop1K7 markers read `root_quality_bass` (`A_M7_A`, `D_+_A#`, `N_N_N`); the bass is dropped.

/// The 11 chord qualities of Pop1K7, in vocabulary order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Major,
    Minor,
    Diminished,
    Augmented,
    Dominant7,
    Major7,
    Minor7,
    Diminished7,
    HalfDiminished7,
    Sus2,
    Sus4,
}

impl Quality {
    pub const ALL: [Quality; 11] = [
        Quality::Major,
        Quality::Minor,
        Quality::Diminished,
        Quality::Augmented,
        Quality::Dominant7,
        Quality::Major7,
        Quality::Minor7,
        Quality::Diminished7,
        Quality::HalfDiminished7,
        Quality::Sus2,
        Quality::Sus4,
    ];
    const NAMES: [&'static str; 11] = [
        "M", "m", "o", "+", "7", "M7", "m7", "o7", "/o7", "sus2", "sus4",
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(s: &str) -> Option<Quality> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
    }

    /// Chord tones as semitones above the root (used by the demo corpus).
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Quality::Major => &[0, 4, 7],
            Quality::Minor => &[0, 3, 7],
            Quality::Diminished => &[0, 3, 6],
            Quality::Augmented => &[0, 4, 8],
            Quality::Dominant7 => &[0, 4, 7, 10],
            Quality::Major7 => &[0, 4, 7, 11],
            Quality::Minor7 => &[0, 3, 7, 10],
            Quality::Diminished7 => &[0, 3, 6, 9],
            Quality::HalfDiminished7 => &[0, 3, 6, 10],
            Quality::Sus2 => &[0, 2, 7],
            Quality::Sus4 => &[0, 5, 7],
        }
    }
}

pub const ROOT_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// Pitch class of a root name: sharps as in Pop1K7, flats accepted too.
pub fn parse_root(s: &str) -> Option<u8> {
    if let Some(i) = ROOT_NAMES.iter().position(|n| *n == s) {
        return Some(i as u8);
    }
    let (letter, accidental) = s.split_at_checked(1)?;
    let base = ROOT_NAMES.iter().position(|n| *n == letter)? as i32;
    let shift = match accidental {
        "b" => -1,
        "#" => 1,
        _ => return None,
    };
    Some((base + shift).rem_euclid(12) as u8)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chord {
    /// No chord (`N_N_N`).
    N,
    /// `root` is a pitch class 0..11 (C = 0).
    Rooted { root: u8, quality: Quality },
}

impl Chord {
    /// Number of chord tokens: 12 roots x 11 qualities + N.
    pub const COUNT: u16 = 12 * 11 + 1;

    pub(crate) fn index(self) -> Option<u16> {
        match self {
            Chord::N => Some(Self::COUNT - 1),
            Chord::Rooted { root, quality } if root < 12 => Some(root as u16 * 11 + quality as u16),
            Chord::Rooted { .. } => None,
        }
    }

    pub(crate) fn from_index(i: u16) -> Option<Chord> {
        match i {
            _ if i == Self::COUNT - 1 => Some(Chord::N),
            _ if i < Self::COUNT - 1 => Some(Chord::Rooted {
                root: (i / 11) as u8,
                quality: Quality::ALL[(i % 11) as usize],
            }),
            _ => None,
        }
    }

    /// Parses a marker `root_quality_bass` (the bass part, if any, is ignored). Returns None
    /// for text that is not a known chord.
    pub fn from_marker(text: &str) -> Option<Chord> {
        let mut parts = text.trim().split('_');
        let root = parts.next()?;
        let quality = parts.next()?;
        if root == "N" {
            return (quality == "N").then_some(Chord::N);
        }
        Some(Chord::Rooted {
            root: parse_root(root)?,
            quality: Quality::parse(quality)?,
        })
    }

    /// The marker text the decoder writes: `Root_quality_Root` (bass = root), or `N_N_N`.
    pub fn marker_text(self) -> String {
        match self {
            Chord::N => "N_N_N".to_string(),
            Chord::Rooted { root, quality } => {
                let r = ROOT_NAMES[root as usize % 12];
                format!("{r}_{}_{r}", quality.name())
            }
        }
    }

    /// The part after `Chord_` in a token name: `A_M7`, `N`.
    pub fn token_name(self) -> String {
        match self {
            Chord::N => "N".to_string(),
            Chord::Rooted { root, quality } => {
                format!("{}_{}", ROOT_NAMES[root as usize % 12], quality.name())
            }
        }
    }

    pub(crate) fn from_token_name(s: &str) -> Option<Chord> {
        if s == "N" {
            return Some(Chord::N);
        }
        let (root, quality) = s.split_once('_')?;
        Some(Chord::Rooted {
            root: ROOT_NAMES.iter().position(|n| *n == root)? as u8,
            quality: Quality::parse(quality)?,
        })
    }

    /// The chord transposed by `k` semitones (roots wrap mod 12; N stays N).
    pub fn transposed(self, k: i32) -> Chord {
        match self {
            Chord::N => Chord::N,
            Chord::Rooted { root, quality } => Chord::Rooted {
                root: (root as i32 + k).rem_euclid(12) as u8,
                quality,
            },
        }
    }
}
