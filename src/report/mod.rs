//! The listening report: one static HTML page per run (artifacts/<run>/report/index.html) with
//! the run's facts, the summary table, the H4/GS plot and a card per piece (player, MIDI link,
//! piano roll, H1/H4/GS), plus the real test-split songs as a reference.
//!
//! Every link in the page is relative: generated files as `../generated/…`, the rest inside
//! report/ (piano rolls, the plot, copies of the reference MIDI, whose raw files may live
//! outside the artifacts folder). So the run folder can be moved or served as it is.

mod cards;
pub mod data;
pub mod distributions;
pub mod escape;
mod page;
pub mod roll;
pub mod tables;

use anyhow::{Context, Result};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

use cards::{Card, ContinuationPair};
use data::Piece;
pub use data::{Sources, TrainRun};
use escape::{file_component, url};

/// The page's file name inside the report folder.
pub const INDEX: &str = "index.html";
/// How many real test-split songs get a card.
pub const REFERENCE_CARDS: usize = 12;
/// How many of those get audio (when a SoundFont is there), and how many bars of each: enough
/// to hear the real thing beside the generated pieces without megabytes of audio per song.
pub const REFERENCE_AUDIO: usize = 4;
pub const REFERENCE_AUDIO_BARS: u32 = 16;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportStats {
    pub cards: usize,
    pub with_wav: usize,
    pub reference: usize,
    pub unscored: usize,
}

impl ReportStats {
    /// The one-line summary, pointing at the page.
    pub fn line(&self, page: &Path) -> String {
        format!(
            "{} pieces ({} with audio), {} reference songs; open {}",
            self.cards,
            self.with_wav,
            self.reference,
            page.display()
        )
    }
}

/// Writes the page and its files into `out`, a folder that will sit (or already sits) beside
/// generated/ in the run folder: links to generated files are made relative to that place.
pub fn write_report(src: &Sources, out: &Path, max_reference: usize) -> Result<ReportStats> {
    let data = data::collect(src, max_reference)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;

    let mut cards: Vec<Card> = data
        .pieces
        .par_iter()
        .enumerate()
        .map(|(i, p)| generated_card(p, i, src.generated_dir, out))
        .collect::<Result<_>>()?;
    pair_continuations(&mut cards);
    order_by_rank(&mut cards, &data.summary);
    let renderer = if data.reference.is_empty() {
        None
    } else {
        src.audio.renderer()?
    };
    let reference: Vec<Card> = data
        .reference
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let audio = renderer.as_ref().filter(|_| i < REFERENCE_AUDIO);
            reference_card(p, i, out, audio)
        })
        .collect::<Result<_>>()?;

    let plot_href = write_plot(&data.summary, out)?;
    let distributions = distributions::write_distributions(&data.scored, out)?;
    let html = page::page_html(&page::PageParts {
        data: &data,
        cards: &cards,
        reference: &reference,
        plot_href: plot_href.as_deref(),
        distributions: &distributions,
    });
    std::fs::write(out.join(INDEX), html)
        .with_context(|| format!("cannot write {}", out.join(INDEX).display()))?;
    Ok(ReportStats {
        cards: cards.len(),
        with_wav: cards.iter().filter(|c| c.wav_href.is_some()).count(),
        reference: reference.len(),
        unscored: data
            .pieces
            .iter()
            .filter(|p| p.scores.as_ref().is_none_or(|s| s.error.is_some()))
            .count(),
    })
}

/// `/`-separated path of `path` under `root`, as URL segments.
fn rel_segments(path: &Path, root: &Path) -> Vec<String> {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

fn generated_card<'a>(
    p: &'a Piece,
    order: usize,
    generated: &Path,
    out: &Path,
) -> Result<Card<'a>> {
    let href = |file: &Path| {
        let mut segs = vec!["..".to_string(), "generated".to_string()];
        segs.extend(rel_segments(file, generated));
        url(&segs.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let roll_segs = [
        "rolls".to_string(),
        file_component(&p.task),
        file_component(&p.sampler),
        format!("{}.svg", file_component(&p.id)),
    ];
    let song = read_song(&p.midi);
    // Where the generated bars start, in the piece's own tempo map.
    let split_seconds = match (&song, p.start_bar) {
        (Ok(song), Some(bar)) => Some(crate::audio::tick_seconds(
            song,
            bar * roll::BEATS_PER_BAR * crate::midi::TPB,
        )),
        _ => None,
    };
    Ok(Card {
        piece: p,
        midi_href: href(&p.midi),
        wav_href: p.wav.as_deref().map(href),
        roll: draw_roll(p, song, &roll_segs, out)?,
        order,
        split_seconds,
        pair: None,
    })
}

/// Orders the cards by their row's rank in the summary (the closest to the real music first);
/// the real continuations, the baseline and unranked rows last, each group in file order.
fn order_by_rank(cards: &mut [Card], summary: &[crate::metrics::SummaryRow]) {
    let rank = |p: &Piece| {
        let row = summary
            .iter()
            .find(|r| r.group.task == p.task && r.group.sampler == p.sampler);
        let last = p.task == crate::sampling::Task::Baseline.as_str()
            || row.is_none_or(|r| r.group.is_reference());
        (last, row.and_then(|r| r.rank).unwrap_or(u32::MAX))
    };
    cards.sort_by_key(|c| (rank(c.piece), c.order));
    for (i, c) in cards.iter_mut().enumerate() {
        c.order = i;
    }
}

/// Gives each model continuation its prompt and real continuation: the piece of
/// `continuation/real` with the same prompt source and start bar.
fn pair_continuations(cards: &mut [Card]) {
    let key = |p: &Piece| (p.prompt_source.clone(), p.start_bar);
    let real: Vec<(_, String, Option<String>)> = cards
        .iter()
        .filter(|c| {
            c.piece.task == data::CONTINUATION_TASK && c.piece.sampler == data::REAL_SAMPLER
        })
        .map(|c| (key(c.piece), c.midi_href.clone(), c.wav_href.clone()))
        .collect();
    for c in cards.iter_mut() {
        let p = c.piece;
        let (Some(split_seconds), true) = (c.split_seconds, p.prompt_source.is_some()) else {
            continue;
        };
        if p.task != data::CONTINUATION_TASK || p.sampler == data::REAL_SAMPLER {
            continue;
        }
        let Some((_, midi, wav)) = real.iter().find(|r| r.0 == key(p)) else {
            continue;
        };
        c.pair = Some(ContinuationPair {
            split_seconds,
            real_midi_href: midi.clone(),
            real_wav_href: wav.clone(),
        });
    }
}

fn reference_card<'a>(
    p: &'a Piece,
    order: usize,
    out: &Path,
    renderer: Option<&crate::audio::Renderer>,
) -> Result<Card<'a>> {
    // The song id is a relative path (`src_001/12`); keep its folders, made safe.
    let parts: Vec<String> = p.id.split('/').map(file_component).collect();
    let mut midi_segs = vec!["reference".to_string()];
    midi_segs.extend(parts.iter().cloned());
    if let Some(last) = midi_segs.last_mut() {
        last.push_str(".mid");
    }
    let copy = midi_segs.iter().fold(out.to_path_buf(), |d, s| d.join(s));
    if let Some(parent) = copy.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let copied = std::fs::copy(&p.midi, &copy).map(|_| ());
    let mut roll_segs = vec!["rolls".to_string(), "reference".to_string()];
    roll_segs.extend(parts);
    if let Some(last) = roll_segs.last_mut() {
        last.push_str(".svg");
    }
    let roll = match copied {
        Ok(()) => draw_roll(p, read_song(&copy), &roll_segs, out)?,
        Err(e) => Err(format!("cannot copy {}: {e}", p.midi.display())),
    };
    let wav_href = match (renderer, roll.is_ok()) {
        (Some(r), true) => match render_excerpt(r, &copy) {
            Ok(audio) => {
                let mut segs = midi_segs.clone();
                if let (Some(last), Some(ext)) = (segs.last_mut(), audio.extension()) {
                    let stem = last.trim_end_matches(".mid");
                    *last = format!("{stem}.{}", ext.to_string_lossy());
                }
                Some(url(&segs.iter().map(String::as_str).collect::<Vec<_>>()))
            }
            Err(e) => {
                eprintln!("warning: no audio for {}: {e:#}", p.id);
                None
            }
        },
        _ => None,
    };
    Ok(Card {
        piece: p,
        midi_href: url(&midi_segs.iter().map(String::as_str).collect::<Vec<_>>()),
        wav_href,
        roll,
        order,
        split_seconds: None,
        pair: None,
    })
}

/// The first [`REFERENCE_AUDIO_BARS`] bars of a MIDI file as audio beside it; returns its path.
fn render_excerpt(r: &crate::audio::Renderer, midi: &Path) -> Result<PathBuf> {
    let mut song = crate::midi::read_file(midi)?;
    let end = REFERENCE_AUDIO_BARS * roll::BEATS_PER_BAR * crate::midi::TPB;
    song.notes.retain(|n| n.start < end);
    for n in &mut song.notes {
        n.end = n.end.min(end);
    }
    let audio = r.render(&song)?;
    r.write(&midi.with_extension(""), &audio)
}

/// A piece's MIDI, or why it cannot be read (said on its card).
fn read_song(midi: &Path) -> std::result::Result<crate::midi::Song, String> {
    crate::midi::read_file(midi).map_err(|e| format!("{}: {e}", midi.display()))
}

/// Writes the piano roll of `song` at `segs` under `out`. An unreadable piece gets a message
/// on its card (Ok(Err)), not a failed stage; a failed write is an error.
fn draw_roll(
    p: &Piece,
    song: std::result::Result<crate::midi::Song, String>,
    segs: &[String],
    out: &Path,
) -> Result<std::result::Result<(String, roll::RollInfo), String>> {
    let song = match song {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    let (svg, info) = roll::render(&roll::Roll {
        notes: &song.notes,
        boundary_bar: p.start_bar,
        min_bars: p.n_bars.unwrap_or(0).min(roll::MAX_BARS),
    });
    let path = segs.iter().fold(out.to_path_buf(), |d, s| d.join(s));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, svg).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Ok((
        url(&segs.iter().map(String::as_str).collect::<Vec<_>>()),
        info,
    )))
}

/// Draws the H4/GS plot from the summary with evaluate's own drawing (the picture that
/// `pipeline report` makes), so it always matches the table; returns its link.
fn write_plot(summary: &[crate::metrics::SummaryRow], out: &Path) -> Result<Option<String>> {
    use crate::metrics::plot::{draw, plot_points};
    const FILE: &str = "h4_gs.svg";
    let points = plot_points(summary);
    if points.is_empty() {
        return Ok(None);
    }
    draw(&points, &out.join(FILE))?;
    Ok(Some(FILE.into()))
}
