//! Piano-roll pictures as plain SVG: one `<rect class="note">` per note (with `data-pitch`,
//! `data-start`, `data-end` in ticks), a line per bar, and for continuations a marked
//! prompt/continuation boundary. Plain elements rather than a plotting library, so tests (and
//! curious readers) can check where every note was drawn.

use std::fmt::Write as _;

use crate::midi::{Note, TPB};

/// Beats per bar (the corpus and REMI are 4/4 only).
pub const BEATS_PER_BAR: u32 = 4;
/// Horizontal scale: pixels per beat.
pub const PX_PER_BEAT: f64 = 6.0;
/// Vertical scale: pixels per semitone.
pub const ROW_HEIGHT: f64 = 4.0;
/// Pieces longer than this are drawn up to here (the caption says so).
pub const MAX_BARS: u32 = 64;
/// The pitch window is at least this many semitones, so sparse pieces are not stretched.
const MIN_SPAN: u8 = 24;

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct Roll<'a> {
    pub notes: &'a [Note],
    /// Bar where generated music starts after a prompt (continuation), if any.
    pub boundary_bar: Option<u32>,
    /// Draw at least this many bars (e.g. the piece's `n_bars`), even if the tail is silent.
    pub min_bars: u32,
}

/// What was drawn, for the caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollInfo {
    pub bars_drawn: u32,
    pub bars_total: u32,
    pub notes_drawn: usize,
}

fn bar_ticks() -> u32 {
    TPB * BEATS_PER_BAR
}

fn x_of(tick: u32) -> f64 {
    tick as f64 / TPB as f64 * PX_PER_BEAT
}

/// The pitch window (top, bottom), inclusive, at least [`MIN_SPAN`] wide and inside 0..=127.
fn pitch_window(notes: &[Note]) -> (u8, u8) {
    let (lo, hi) = notes.iter().fold((u8::MAX, 0u8), |(lo, hi), n| {
        (lo.min(n.pitch), hi.max(n.pitch))
    });
    let (mut lo, mut hi) = if notes.is_empty() {
        (48, 72)
    } else {
        (lo.saturating_sub(1), hi.saturating_add(1).min(127))
    };
    while hi - lo < MIN_SPAN {
        if hi < 127 {
            hi += 1;
        }
        if hi - lo < MIN_SPAN && lo > 0 {
            lo -= 1;
        }
    }
    (hi, lo)
}

/// The SVG document and what it shows.
pub fn render(roll: &Roll) -> (String, RollInfo) {
    let last_end = roll.notes.iter().map(|n| n.end).max().unwrap_or(0);
    let last_onset_bar = roll
        .notes
        .iter()
        .map(|n| n.start / bar_ticks())
        .max()
        .map_or(0, |b| b + 1);
    let bars_total = last_onset_bar
        .max(last_end.div_ceil(bar_ticks()))
        .max(roll.min_bars)
        .max(1);
    let bars_drawn = bars_total.min(MAX_BARS);
    let end_tick = bars_drawn * bar_ticks();
    let (top, bottom) = pitch_window(roll.notes);
    let width = x_of(end_tick);
    let height = (top - bottom + 1) as f64 * ROW_HEIGHT;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="roll" viewBox="0 0 {width} {height}" preserveAspectRatio="none" width="{width}" height="{height}" data-px-per-beat="{PX_PER_BEAT}" data-row-height="{ROW_HEIGHT}" data-top-pitch="{top}" data-bottom-pitch="{bottom}" data-bars="{bars_drawn}">"#
    );
    let _ = write!(
        s,
        r##"<rect class="bg" x="0" y="0" width="{width}" height="{height}" fill="#fbfaf7"/>"##
    );
    // Octave guides at every C, faint.
    for p in bottom..=top {
        if p % 12 == 0 {
            let y = (top - p) as f64 * ROW_HEIGHT;
            let _ = write!(
                s,
                r##"<rect class="c-row" x="0" y="{y}" width="{width}" height="{ROW_HEIGHT}" fill="#ece8df" data-pitch="{p}"/>"##
            );
        }
    }
    if let Some(b) = roll.boundary_bar.filter(|b| *b > 0 && *b <= bars_drawn) {
        let x = x_of(b * bar_ticks());
        let _ = write!(
            s,
            r##"<rect class="prompt" x="0" y="0" width="{x}" height="{height}" fill="#dfe9f5"><title>prompt (bars 1-{b})</title></rect>"##
        );
    }
    for bar in 0..=bars_drawn {
        let x = x_of(bar * bar_ticks());
        let _ = write!(
            s,
            r##"<line class="bar" data-bar="{bar}" x1="{x}" y1="0" x2="{x}" y2="{height}" stroke="#b9b2a4" stroke-width="1" vector-effect="non-scaling-stroke"/>"##
        );
    }
    let notes_drawn = write_notes(&mut s, roll.notes, end_tick, (top, bottom));
    if let Some(b) = roll.boundary_bar.filter(|b| *b > 0 && *b <= bars_drawn) {
        let x = x_of(b * bar_ticks());
        let _ = write!(
            s,
            r##"<line class="boundary" data-bar="{b}" x1="{x}" y1="0" x2="{x}" y2="{height}" stroke="#1f5fa8" stroke-width="2" vector-effect="non-scaling-stroke"/>"##
        );
    }
    s.push_str("</svg>\n");
    (
        s,
        RollInfo {
            bars_drawn,
            bars_total,
            notes_drawn,
        },
    )
}

/// One rect per note that starts before `end_tick`, inside the pitch window (top, bottom);
/// returns how many were drawn.
fn write_notes(s: &mut String, notes: &[Note], end_tick: u32, (top, bottom): (u8, u8)) -> usize {
    let mut drawn = 0;
    for n in notes.iter().filter(|n| n.start < end_tick) {
        if n.pitch < bottom || n.pitch > top {
            continue; // cannot happen: the window holds every pitch
        }
        let x = x_of(n.start);
        let w = (x_of(n.end.min(end_tick)) - x).max(0.5);
        let y = (top - n.pitch) as f64 * ROW_HEIGHT;
        let opacity = 0.35 + 0.65 * n.velocity.min(127) as f64 / 127.0;
        let _ = write!(
            s,
            r##"<rect class="note" x="{x}" y="{y}" width="{w}" height="{ROW_HEIGHT}" fill="#c0392b" fill-opacity="{opacity:.2}" data-pitch="{}" data-start="{}" data-end="{}" data-velocity="{}"/>"##,
            n.pitch, n.start, n.end, n.velocity
        );
        drawn += 1;
    }
    drawn
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: u32, end: u32, pitch: u8) -> Note {
        Note {
            start,
            end,
            pitch,
            velocity: 100,
        }
    }

    #[test]
    fn window_holds_every_pitch_and_is_wide_enough() {
        let (top, bottom) = pitch_window(&[note(0, 10, 21), note(0, 10, 108)]);
        assert!(top >= 108 && bottom <= 21);
        let (top, bottom) = pitch_window(&[note(0, 10, 60)]);
        assert!(top - bottom >= MIN_SPAN && top > 60 && bottom < 60);
        let (top, bottom) = pitch_window(&[note(0, 10, 127)]);
        assert!(top == 127 && top - bottom >= MIN_SPAN);
    }

    #[test]
    fn long_pieces_are_cut_at_max_bars() {
        let notes: Vec<Note> = (0..100)
            .map(|b| note(b * 1920, b * 1920 + 100, 60))
            .collect();
        let (svg, info) = render(&Roll {
            notes: &notes,
            ..Default::default()
        });
        assert_eq!(info.bars_total, 100);
        assert_eq!(info.bars_drawn, MAX_BARS);
        assert_eq!(info.notes_drawn, MAX_BARS as usize);
        assert_eq!(svg.matches("class=\"note\"").count(), MAX_BARS as usize);
    }
}
