//! One card per piece: player (or a note why there is none), MIDI link, piano roll, scores.

use std::fmt::Write as _;

use super::data::Piece;
use super::escape::{exact, html, num};
use super::roll::RollInfo;

/// A piece with the relative links the page uses (relative to report/index.html).
#[derive(Debug, Clone)]
pub struct Card<'a> {
    pub piece: &'a Piece,
    pub midi_href: String,
    pub wav_href: Option<String>,
    /// The piano roll's link and what it shows, or why it could not be drawn.
    pub roll: Result<(String, RollInfo), String>,
    /// Position in the page's default order: by the summary's rank (see `order_by_rank`).
    pub order: usize,
    /// Seconds from the start to the first generated bar (pieces with a known start bar).
    pub split_seconds: Option<f64>,
    /// A continuation's prompt and real continuation, to play beside the model's.
    pub pair: Option<ContinuationPair>,
}

/// What a continuation card plays beside the model's bars: the prompt (the piece's own first
/// bars) and the same song's real continuation, both cut at the bar where generation starts.
#[derive(Debug, Clone)]
pub struct ContinuationPair {
    /// Seconds from the start to the first generated bar.
    pub split_seconds: f64,
    pub real_midi_href: String,
    pub real_wav_href: Option<String>,
}

/// Why a generated piece has no audio, said plainly.
const NO_WAV_GENERATED: &str = "No audio for this piece: no audio was rendered (no SoundFont was \
     found when it was generated; set [audio] in the config, then rerun generate). The MIDI file \
     below plays in any MIDI player.";
const NO_WAV_REFERENCE: &str = "No audio for this real song (with a SoundFont, the first few \
     songs get a short excerpt): open the MIDI file below in any MIDI player.";

pub fn card_html(c: &Card, reference: bool) -> String {
    let p = c.piece;
    let scores = p.scores.clone().unwrap_or_default();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<article class="card{}" data-task="{}" data-sampler="{}" data-piece="{}" data-order="{}" data-h1="{}" data-h4="{}" data-gs="{}">"#,
        if reference { " ref" } else { "" },
        html(&p.task),
        html(&p.sampler),
        html(&p.id),
        c.order,
        exact(scores.h1),
        exact(scores.h4),
        exact(scores.gs)
    );
    let title = if reference {
        p.id.clone()
    } else {
        format!("{} · {} · {}", p.task, p.sampler, p.id)
    };
    let _ = write!(s, "<h3>{}</h3>", html(&title));
    match (&c.pair, c.wav_href.as_deref()) {
        (Some(pair), Some(wav)) => pair_html(&mut s, pair, wav, p.start_bar.unwrap_or(0)),
        _ => audio_html(&mut s, c.wav_href.as_deref(), reference),
    }
    facts_html(&mut s, c);
    roll_html(&mut s, c, &title);
    let _ = write!(
        s,
        r#"<dl class="scores"><div><dt>H1</dt><dd>{}</dd></div><div><dt>H4</dt><dd>{}</dd></div><div><dt>GS</dt><dd>{}</dd></div></dl>"#,
        num(scores.h1, 3),
        num(scores.h4, 3),
        num(scores.gs, 3)
    );
    if p.scores.is_none() {
        s.push_str(r#"<p class="error">Not scored (no row in metrics/pieces).</p>"#);
    } else if let Some(e) = &scores.error {
        let _ = write!(s, r#"<p class="error">Not scored: {}</p>"#, html(e));
    }
    s.push_str("</article>\n");
    s
}

/// The player, or why there is none.
fn audio_html(s: &mut String, wav_href: Option<&str>, reference: bool) {
    match wav_href {
        Some(href) => {
            let _ = write!(
                s,
                r#"<audio controls preload="none" src="{}"></audio>"#,
                html(href)
            );
            if reference {
                let _ = write!(
                    s,
                    r#"<p class="facts">audio: the first {} bars</p>"#,
                    super::REFERENCE_AUDIO_BARS
                );
            }
        }
        None => {
            let why = if reference {
                NO_WAV_REFERENCE
            } else {
                NO_WAV_GENERATED
            };
            let _ = write!(s, r#"<p class="no-wav">{}</p>"#, html(why));
        }
    }
}

/// Prompt, model continuation and real continuation side by side: media fragments of the
/// model's audio (its first bars are the prompt) and of the real continuation's.
fn pair_html(s: &mut String, pair: &ContinuationPair, wav: &str, start_bar: u32) {
    let t = format!("{:.3}", pair.split_seconds);
    let real = pair.real_wav_href.as_deref().map(|w| format!("{w}#t={t}"));
    let players = [
        (
            format!("prompt (bars 1–{start_bar})"),
            Some(format!("{wav}#t=0,{t}")),
        ),
        (
            "model continuation".to_string(),
            Some(format!("{wav}#t={t}")),
        ),
        ("real continuation".to_string(), real),
    ];
    s.push_str(r#"<div class="players">"#);
    for (label, src) in players {
        match src {
            Some(src) => {
                let _ = write!(
                    s,
                    r#"<figure><figcaption>{}</figcaption><audio controls preload="none" src="{}"></audio></figure>"#,
                    html(&label),
                    html(&src)
                );
            }
            None => {
                let _ = write!(
                    s,
                    r#"<figure><figcaption>{}</figcaption><p class="no-wav">no audio</p></figure>"#,
                    html(&label)
                );
            }
        }
    }
    s.push_str("</div>");
}

/// The MIDI link and the piece's facts, on one line.
fn facts_html(s: &mut String, c: &Card) {
    let p = c.piece;
    let mut facts = vec![format!(
        r#"<a class="midi" href="{}" download>MIDI</a>"#,
        html(&c.midi_href)
    )];
    if let Some(b) = p.n_bars {
        facts.push(format!("{b} bars"));
    }
    if let Some(sec) = p.seconds {
        facts.push(format!("{sec:.1} s"));
    }
    if let Some(seed) = &p.seed {
        facts.push(format!("seed {}", html(seed)));
    }
    if let Some(src) = &p.prompt_source {
        facts.push(format!("prompt from {}", html(src)));
    }
    if let Some(pair) = &c.pair {
        facts.push(format!(
            r#"<a class="midi" href="{}" download>real continuation MIDI</a>"#,
            html(&pair.real_midi_href)
        ));
    }
    let _ = write!(s, r#"<p class="facts">{}</p>"#, facts.join(" · "));
}

/// The piano roll with its caption, or why it could not be drawn.
fn roll_html(s: &mut String, c: &Card, title: &str) {
    let p = c.piece;
    match &c.roll {
        Ok((href, info)) => {
            let mut caption = if info.bars_drawn < info.bars_total {
                format!("bars 1–{} of {}", info.bars_drawn, info.bars_total)
            } else {
                format!("{} bars", info.bars_drawn)
            };
            if let Some(b) = p.start_bar.filter(|b| *b > 0) {
                caption.push_str(&format!(
                    "; prompt = bars 1–{b} (shaded), continuation from bar {} (blue line)",
                    b + 1
                ));
            }
            let _ = write!(
                s,
                r#"<figure><div class="roll-box"><img class="roll" src="{}" alt="piano roll of {}" loading="lazy"></div><figcaption>piano roll: {}</figcaption></figure>"#,
                html(href),
                html(title),
                caption
            );
        }
        Err(why) => {
            let _ = write!(s, r#"<p class="error">No piano roll: {}</p>"#, html(why));
        }
    }
}
