//! The REMI grammar as a state machine, shared by the decoder and the sampler.
//!
//! ```text
//! sequence := Bos bar+ Eos Pad*          (Eos only when the current bar has a note)
//! bar      := Bar position*              (positions strictly increasing in a bar)
//! position := Position_p [Chord] [Tempo] note*   (at least one of them)
//! note     := Pitch Velocity Duration    (pitches strictly increasing in a position)
//! ```
//! Two more rules make every grammatical sequence round-trip through MIDI exactly as the
//! encoder writes it: a Chord token must differ from the chord in effect and a Tempo token
//! from the tempo in effect (the encoder only emits changes), and Eos needs a note in the
//! last bar (the encoder ends at the last bar with an onset).
//! A bar holds at most 16 positions x (2 + 88 x 3) tokens, so generation by bars terminates.

use super::vocab::{self, EOS, Kind, PAD};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token {index} ({name}, id {id}) is not allowed {context}")]
pub struct GrammarError {
    /// Position of the offending token in the sequence.
    pub index: usize,
    pub id: u16,
    pub name: String,
    /// Where it came, e.g. "after Pitch_60 (expected a Velocity)".
    pub context: String,
}

/// Where we are inside the sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing yet: Bos expected.
    Start,
    /// After Bos: Bar expected.
    AfterBos,
    /// After Bar: Position or Bar.
    BarOpen,
    /// After Position, no event yet: Chord, Tempo or Pitch.
    PositionOpen,
    /// After Chord: Tempo, Pitch, or the end of the position.
    AfterChord,
    /// After Tempo: Pitch, or the end of the position.
    AfterTempo,
    /// After Pitch: Velocity.
    AfterPitch,
    /// After Velocity: Duration.
    AfterVelocity,
    /// After a whole note: a higher Pitch, or the end of the position.
    AfterNote,
    /// After Eos: only Pad.
    Done,
}

#[derive(Debug, Clone)]
pub struct Grammar {
    state: State,
    /// Tokens pushed so far (for error messages).
    len: usize,
    last_id: u16,
    bars: u32,
    bar_has_note: bool,
    /// Position id of the current position in this bar, if any.
    position: Option<u16>,
    /// Pitch id of the last note at the current position.
    pitch: Option<u16>,
    chord: Option<u16>,
    tempo: Option<u16>,
}

impl Default for Grammar {
    fn default() -> Self {
        Self::new()
    }
}

impl Grammar {
    pub fn new() -> Self {
        Grammar {
            state: State::Start,
            len: 0,
            last_id: PAD,
            bars: 0,
            bar_has_note: false,
            position: None,
            pitch: None,
            chord: None,
            tempo: None,
        }
    }

    /// Bar tokens seen.
    pub fn bars(&self) -> u32 {
        self.bars
    }

    /// Whether the current bar holds at least one note.
    pub fn bar_has_note(&self) -> bool {
        self.bar_has_note
    }

    /// After Eos.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the sequence so far ends on a boundary (no half-finished note, no empty
    /// Position, and past Bos): a prefix that can be decoded as it is.
    pub fn at_boundary(&self) -> bool {
        matches!(
            self.state,
            State::BarOpen | State::AfterChord | State::AfterTempo | State::AfterNote | State::Done
        )
    }

    fn position_may_end(&self) -> bool {
        matches!(
            self.state,
            State::AfterChord | State::AfterTempo | State::AfterNote
        )
    }

    fn may_open_position(&self) -> bool {
        self.state == State::BarOpen || self.position_may_end()
    }

    pub fn allows(&self, id: u16) -> bool {
        let k = vocab::kind(id);
        match k {
            Kind::Unknown => false,
            Kind::Pad => self.state == State::Done,
            Kind::Bos => self.state == State::Start,
            Kind::Bar => {
                matches!(self.state, State::AfterBos | State::BarOpen) || self.position_may_end()
            }
            Kind::Eos => self.bar_has_note && self.position_may_end(),
            Kind::Position => self.may_open_position() && self.position.is_none_or(|p| id > p),
            Kind::Chord => self.state == State::PositionOpen && self.chord != Some(id),
            Kind::Tempo => {
                matches!(self.state, State::PositionOpen | State::AfterChord)
                    && self.tempo != Some(id)
            }
            Kind::Pitch => match self.state {
                State::PositionOpen | State::AfterChord | State::AfterTempo => true,
                State::AfterNote => self.pitch.is_none_or(|p| id > p),
                _ => false,
            },
            Kind::Velocity => self.state == State::AfterPitch,
            Kind::Duration => self.state == State::AfterVelocity,
        }
    }

    /// Sets `mask[id]` to whether `id` may come next (true = allowed). `mask` must hold at
    /// least `Vocab::SIZE` entries; extra entries are set false.
    pub fn fill_mask(&self, mask: &mut [bool]) {
        mask.fill(false);
        let mut set = |r: std::ops::Range<u16>| {
            for id in r {
                mask[id as usize] = true;
            }
        };
        match self.state {
            State::Start => set(vocab::range(Kind::Bos)),
            State::AfterBos => set(vocab::range(Kind::Bar)),
            State::Done => set(vocab::range(Kind::Pad)),
            State::AfterPitch => set(vocab::range(Kind::Velocity)),
            State::AfterVelocity => set(vocab::range(Kind::Duration)),
            State::PositionOpen => {
                set(vocab::range(Kind::Chord));
                set(vocab::range(Kind::Tempo));
                set(vocab::range(Kind::Pitch));
            }
            State::AfterChord => {
                set(vocab::range(Kind::Tempo));
                set(vocab::range(Kind::Pitch));
            }
            State::AfterTempo => set(vocab::range(Kind::Pitch)),
            State::AfterNote => {
                let r = vocab::range(Kind::Pitch);
                set(self.pitch.map_or(r.start, |p| p + 1)..r.end);
            }
            State::BarOpen => {}
        }
        if self.may_open_position() {
            let r = vocab::range(Kind::Position);
            set(self.position.map_or(r.start, |p| p + 1)..r.end);
        }
        if matches!(self.state, State::BarOpen) || self.position_may_end() {
            set(vocab::range(Kind::Bar));
        }
        if self.bar_has_note && self.position_may_end() {
            set(vocab::range(Kind::Eos));
        }
        // The redundancy rules: no chord/tempo equal to the one in effect.
        if let (Some(c), State::PositionOpen) = (self.chord, self.state) {
            mask[c as usize] = false;
        }
        if let (Some(t), State::PositionOpen | State::AfterChord) = (self.tempo, self.state) {
            mask[t as usize] = false;
        }
    }

    fn expected(&self) -> &'static str {
        match self.state {
            State::Start => "at the start (expected Bos)",
            State::AfterBos => "after Bos (expected Bar)",
            State::BarOpen => "after Bar (expected Position, Bar)",
            State::PositionOpen => "right after a Position (expected Chord, Tempo or Pitch)",
            State::AfterChord => "after a Chord (expected Tempo, Pitch, Position, Bar, Eos)",
            State::AfterTempo => "after a Tempo (expected Pitch, Position, Bar, Eos)",
            State::AfterPitch => "after a Pitch (expected Velocity)",
            State::AfterVelocity => "after a Velocity (expected Duration)",
            State::AfterNote => "after a note (expected higher Pitch, later Position, Bar, Eos)",
            State::Done => "after Eos (only Pad may follow)",
        }
    }

    fn error(&self, id: u16) -> GrammarError {
        let mut context = self.expected().to_string();
        match vocab::kind(id) {
            Kind::Position if self.may_open_position() => {
                context.push_str(": positions must increase within a bar")
            }
            Kind::Pitch if self.state == State::AfterNote => {
                context.push_str(": pitches must increase within a position")
            }
            Kind::Chord if self.state == State::PositionOpen => {
                context.push_str(": same chord as the one in effect")
            }
            Kind::Tempo if matches!(self.state, State::PositionOpen | State::AfterChord) => {
                context.push_str(": same tempo as the one in effect")
            }
            Kind::Eos if self.position_may_end() => context.push_str(": the last bar has no note"),
            _ => {}
        }
        if self.len > 0 {
            context = format!(
                "{context}; previous token {}",
                vocab::Vocab::name(self.last_id)
            );
        }
        GrammarError {
            index: self.len,
            id,
            name: vocab::Vocab::name(id),
            context,
        }
    }

    /// Advances by one token, or explains why it cannot come here (the state is unchanged).
    pub fn push(&mut self, id: u16) -> Result<(), GrammarError> {
        if !self.allows(id) {
            return Err(self.error(id));
        }
        self.state = match vocab::kind(id) {
            Kind::Bos => State::AfterBos,
            Kind::Bar => {
                self.bars += 1;
                self.bar_has_note = false;
                self.position = None;
                State::BarOpen
            }
            Kind::Position => {
                self.position = Some(id);
                self.pitch = None;
                State::PositionOpen
            }
            Kind::Chord => {
                self.chord = Some(id);
                State::AfterChord
            }
            Kind::Tempo => {
                self.tempo = Some(id);
                State::AfterTempo
            }
            Kind::Pitch => {
                self.pitch = Some(id);
                State::AfterPitch
            }
            Kind::Velocity => State::AfterVelocity,
            Kind::Duration => {
                self.bar_has_note = true;
                State::AfterNote
            }
            Kind::Eos | Kind::Pad => State::Done,
            Kind::Unknown => unreachable!("allows() refuses unknown ids"),
        };
        self.len += 1;
        self.last_id = id;
        Ok(())
    }
}

/// Checks a whole sequence: grammatical, and complete (ends with Eos, then only Pad).
pub fn validate(tokens: &[u16]) -> Result<(), GrammarError> {
    let mut g = Grammar::new();
    for &id in tokens {
        g.push(id)?;
    }
    if !g.is_done() {
        return Err(GrammarError {
            index: tokens.len(),
            id: EOS,
            name: "end of sequence".to_string(),
            context: format!("{} (the sequence must end with Eos)", g.expected()),
        });
    }
    Ok(())
}
