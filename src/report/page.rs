//! The page itself: run facts, summary table, plot, filterable cards, reference songs. One
//! self-contained file (inline CSS and JavaScript, no network) whose links are all relative.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::cards::{Card, card_html};
use super::data::{RunData, SUMMARY_COLUMNS, SummaryCells};
use super::escape::{exact, html, num};

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// What the page links to besides the cards.
pub struct PageParts<'a> {
    pub data: &'a RunData,
    pub cards: &'a [Card<'a>],
    pub reference: &'a [Card<'a>],
    /// The H4/GS plot's link, when there is one.
    pub plot_href: Option<&'a str>,
}

pub fn page_html(p: &PageParts) -> String {
    let d = p.data;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>cadenza · {}</title><style>{CSS}</style></head><body>\n",
        html(&d.run_name)
    );
    let _ = writeln!(
        s,
        "<header><h1>Listening report · run <code>{}</code></h1><p>{} generated pieces, {} real \
         test-split songs shown. Listen first, then look at the numbers.</p></header>",
        html(&d.run_name),
        p.cards.len(),
        p.reference.len()
    );
    if d.train.as_ref().is_some_and(|t| t.demo_data) {
        s.push_str(
            "<p class=\"banner\">DEMO DATA: this run was trained on the small built-in synthetic \
             corpus, not Pop1K7. Its results say nothing about real music.</p>\n",
        );
    }
    for n in &d.notes {
        let _ = writeln!(s, "<p class=\"error\">{}</p>", html(n));
    }
    run_section(&mut s, d);
    summary_section(&mut s, &d.summary);
    s.push_str("<section id=\"plot\"><h2>H4 against GS</h2>");
    match p.plot_href {
        Some(href) => {
            let _ = write!(
                s,
                "<img src=\"{}\" alt=\"H4 against GS, mean and std per task and sampler\">",
                html(href)
            );
        }
        None => s.push_str("<p class=\"error\">No plot: the summary has no H4/GS means.</p>"),
    }
    s.push_str("</section>\n");
    pieces_section(&mut s, p.cards);
    reference_section(&mut s, p.reference, d.reference_total);
    let _ = write!(s, "<script>{JS}</script>\n</body></html>\n");
    s
}

/// Train counts shown first, in this order; the rest follow by name.
const FIRST: [&str; 4] = ["steps", "valid_loss", "train_loss", "tokens_seen"];

fn run_section(s: &mut String, d: &RunData) {
    s.push_str("<section id=\"run\"><h2>Run</h2><table class=\"kv\" id=\"run-table\">");
    let mut row = |k: &str, v: &str| {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", html(k), html(v));
    };
    let mut model = d.model.as_slice();
    match &d.train {
        Some(t) => {
            row(
                "checkpoint",
                t.checkpoint.as_deref().unwrap_or("(none found)"),
            );
            let mut counts: Vec<&(String, String)> = t.counts.iter().collect();
            counts.sort_by_key(|(k, _)| FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()));
            for (k, v) in counts {
                row(&format!("train.{k}"), v);
            }
            if let Some(w) = t.wall_seconds {
                row("train.wall_seconds", &format!("{w:.1}"));
            }
            if let Some(m) = &t.model {
                model = m.as_slice();
            }
        }
        None => row("train", "no finished train output"),
    }
    for (k, v) in model {
        row(&format!("model.{k}"), v);
    }
    s.push_str("</table></section>\n");
}

fn header_of(col: &str) -> String {
    match col {
        "n_errors" => "errors".into(),
        c => c
            .replace("_mean", " mean")
            .replace("_std", " std")
            .replace("_delta", " Δ"),
    }
}

fn summary_section(s: &mut String, rows: &[SummaryCells]) {
    s.push_str(
        "<section id=\"summary\"><h2>Summary</h2><p>Each task × sampler against the real \
         reference (first row): mean and std of H1, H4, GS, their distance Δ to the reference \
         means, and the overall distance (Δ in units of the reference std, summed; rank 1 is \
         closest to the real songs).</p><div class=\"scroll\"><table id=\"summary-table\">\
         <thead><tr><th>task</th><th>sampler</th>",
    );
    for c in SUMMARY_COLUMNS {
        let _ = write!(s, "<th>{}</th>", html(&header_of(c)));
    }
    s.push_str("</tr></thead><tbody>");
    let mut order: Vec<&SummaryCells> = rows.iter().collect();
    // The reference first, then by rank (unranked last), as in the text report.
    order.sort_by(|a, b| {
        (!a.is_reference(), a.get("rank").unwrap_or(f64::INFINITY))
            .partial_cmp(&(!b.is_reference(), b.get("rank").unwrap_or(f64::INFINITY)))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for r in order {
        let _ = write!(
            s,
            "<tr class=\"{}\" data-task=\"{}\" data-sampler=\"{}\"><td>{}</td><td>{}</td>",
            if r.is_reference() { "ref" } else { "gen" },
            html(&r.task),
            html(&r.sampler),
            html(&r.task),
            html(&r.sampler)
        );
        for (c, v) in SUMMARY_COLUMNS.iter().zip(&r.values) {
            let digits = if matches!(*c, "n" | "n_errors" | "rank") {
                0
            } else {
                3
            };
            let _ = write!(
                s,
                "<td data-col=\"{c}\" data-value=\"{}\">{}</td>",
                exact(*v),
                num(*v, digits)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div></section>\n");
}

fn options(values: &BTreeSet<&str>) -> String {
    values
        .iter()
        .map(|v| format!("<option value=\"{0}\">{0}</option>", html(v)))
        .collect()
}

fn pieces_section(s: &mut String, cards: &[Card]) {
    let tasks: BTreeSet<&str> = cards.iter().map(|c| c.piece.task.as_str()).collect();
    let samplers: BTreeSet<&str> = cards.iter().map(|c| c.piece.sampler.as_str()).collect();
    let _ = write!(
        s,
        "<section id=\"pieces\"><h2>Generated pieces</h2><form id=\"controls\" \
         onsubmit=\"return false\"><label>task <select id=\"f-task\" data-key=\"task\">\
         <option value=\"\">all</option>{}</select></label> <label>sampler <select \
         id=\"f-sampler\" data-key=\"sampler\"><option value=\"\">all</option>{}</select></label> \
         <label>sort by <select id=\"f-sort\" data-key=\"sort\"><option value=\"\">file order\
         </option><option value=\"h1\">H1</option><option value=\"h4\">H4</option><option \
         value=\"gs\">GS</option></select></label> <label><select id=\"f-dir\" data-key=\"dir\">\
         <option value=\"\">ascending</option><option value=\"desc\">descending</option>\
         </select></label> <span id=\"shown\">{} pieces</span></form>\n<div id=\"cards\" \
         class=\"cards\">\n",
        options(&tasks),
        options(&samplers),
        cards.len()
    );
    if cards.is_empty() {
        s.push_str("<p class=\"error\">No generated pieces: run `pipeline run generate`.</p>");
    }
    for c in cards {
        s.push_str(&card_html(c, false));
    }
    s.push_str("</div></section>\n");
}

fn reference_section(s: &mut String, cards: &[Card], total: usize) {
    let _ = writeln!(
        s,
        "<section id=\"reference\"><h2>Real test-split songs</h2><p>{} of {} songs of the \
         test split, the reference the summary compares against (MIDI copied into this \
         folder).</p><div class=\"cards\">",
        cards.len(),
        total
    );
    for c in cards {
        s.push_str(&card_html(c, true));
    }
    s.push_str("</div></section>\n");
}
