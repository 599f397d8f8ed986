//! The page itself: run facts, summary table, plot, filterable cards, reference songs. One
//! self-contained file (inline CSS and JavaScript, no network) whose links are all relative.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::cards::{Card, card_html};
use super::data::RunData;
use super::escape::{exact, html, num};
use crate::features::Feature;
use crate::metrics::SummaryRow;
use crate::metrics::plot::{DRIFT_FEATURES, report_order, scope_label};
use crate::metrics::summary::{DISTANCE_FEATURES, compared_features};
use crate::shards::Split;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// What the page links to besides the cards.
pub struct PageParts<'a> {
    pub data: &'a RunData,
    pub cards: &'a [Card<'a>],
    pub reference: &'a [Card<'a>],
    /// The H4/GS plot's link, when there is one.
    pub plot_href: Option<&'a str>,
    /// One distribution plot per metric, with its link.
    pub distributions: &'a [(Feature, String)],
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
         {}-split songs shown. Listen first, then look at the numbers.</p></header>",
        html(&d.run_name),
        p.cards.len(),
        p.reference.len(),
        d.split
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
    // The results first, then how the run was made.
    summary_section(&mut s, &d.summary, d.split);
    drift_section(&mut s, &d.summary);
    run_section(&mut s, d);
    overlap_section(&mut s, &d.summary, p.distributions);
    s.push_str("<section id=\"plot\"><h2>H4 against GS</h2>");
    match p.plot_href {
        Some(href) => {
            let _ = write!(
                s,
                "<img src=\"{}\" alt=\"H4 against GS, mean and 95% interval per task and sampler\">",
                html(href)
            );
        }
        None => s.push_str("<p class=\"error\">No plot: the summary has no H4/GS means.</p>"),
    }
    s.push_str("</section>\n");
    pieces_section(&mut s, p.cards);
    reference_section(&mut s, p.reference, d.reference_total, d.split);
    let _ = write!(s, "<script>{JS}</script>\n</body></html>\n");
    s
}

/// Train counts shown first, in this order; the rest follow by name.
const FIRST: [&str; 6] = [
    "steps",
    "planned_steps",
    "stopped_by",
    "valid_loss",
    "train_loss",
    "tokens_seen",
];

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

/// The metrics of the summary table: the three of the distance.
const TABLE_METRICS: [Feature; 3] = DISTANCE_FEATURES;

fn summary_section(s: &mut String, rows: &[SummaryRow], split: Split) {
    let use_of = match split {
        Split::Test => "the split the results are reported on; tune on <code>valid</code>",
        Split::Valid => "the split for tuning: report on <code>test</code>",
        Split::Train => "the training songs: these rows measure memory, not generalisation",
    };
    let _ = write!(
        s,
        "<section id=\"summary\"><h2>Summary · {split} split</h2><p>Prompts and reference songs \
         come from the <b>{split}</b> split ({use_of}). Each row against real music at equal \
         length: continuations on their generated bars against the real continuations of the \
         same prompts (<code>continuation/real</code>; <i>paired</i>: the intervals resample \
         prompts, keeping each piece with its real continuation), everything else on its first \
         bars against the real songs cut to as many bars (<code>reference/real</code>, scope \
         <i>excerpt</i>); real songs and external folders also whole (<i>piece</i>). Means with \
         their 95% bootstrap interval; <b>*</b> marks a mean that differs from its reference by \
         more than the interval of the difference. Distance: the H1, H4 and GS differences in \
         units of the reference's std, summed (rank 1 is closest within its comparison; \
         <b>=</b>: not distinguishable from the closest row of the same comparison, the 95% \
         interval of the gap includes 0); oa mean: the mean overlap of the two distributions \
         over all metrics (1 = the same), with its interval.</p><div class=\"scroll\">\
         <table id=\"summary-table\"><thead><tr><th>task</th><th>sampler</th><th>scope</th>\
         <th>compared with</th><th>pieces</th><th>errors</th>"
    );
    for f in TABLE_METRICS {
        let _ = write!(
            s,
            "<th>{0} mean</th><th>{0} 95% CI</th>",
            html(&f.name().to_uppercase())
        );
    }
    s.push_str(
        "<th>distance</th><th>oa mean</th><th>oa mean 95% CI</th><th>rank</th></tr></thead><tbody>",
    );
    for r in report_order(rows) {
        row_start(s, r, true);
        for f in TABLE_METRICS {
            mean_cells(s, r, f, 3);
        }
        s.push_str(&distance_cell(r));
        let _ = write!(
            s,
            "<td data-col=\"oa_mean\" data-value=\"{}\">{}</td>{}<td data-col=\"rank\" \
             data-value=\"{}\">{}</td></tr>",
            exact(r.oa_mean),
            num(r.oa_mean, 3),
            ci_cell(None, r.oa_mean_ci, 3).replace("data-col=\"ci\"", "data-col=\"oa_mean_ci\""),
            exact(r.rank.map(f64::from)),
            num(r.rank.map(f64::from), 0)
        );
    }
    s.push_str("</tbody></table></div></section>\n");
}

/// The first cells of a table row: task, sampler, scope (with bars), and with `counts` the
/// reference, pieces and errors.
fn row_start(s: &mut String, r: &SummaryRow, counts: bool) {
    let _ = write!(
        s,
        "<tr class=\"{}\" data-task=\"{}\" data-sampler=\"{}\" data-scope=\"{}\"><td>{}</td><td>{}</td><td>{}</td>",
        if r.group.is_reference() { "ref" } else { "gen" },
        html(&r.group.task),
        html(&r.group.sampler),
        r.scope.as_str(),
        html(&r.group.task),
        html(&r.group.sampler),
        html(&scope_label(r)),
    );
    if counts {
        let _ = write!(
            s,
            "<td>{}/{}</td><td>{}</td><td>{}</td>",
            html(&r.reference.task),
            html(&r.reference.sampler),
            r.n_pieces,
            r.n_errors
        );
    }
}

/// A metric's mean (starred when it differs from the reference) and its interval.
fn mean_cells(s: &mut String, r: &SummaryRow, f: Feature, digits: usize) {
    let m = r.metric(f);
    let mean = m.and_then(|m| m.mean);
    let star = if m.and_then(|m| m.differs()) == Some(true) {
        "*"
    } else {
        ""
    };
    let _ = write!(
        s,
        "<td data-metric=\"{0}\" data-col=\"mean\" data-value=\"{1}\">{2}{star}</td>{3}",
        f.name(),
        exact(mean),
        num(mean, digits),
        ci_cell(Some(f), m.and_then(|m| m.mean_ci), digits)
    );
}

/// An interval's cell (of a metric's mean, or of the row's), its bounds in data attributes.
fn ci_cell(metric: Option<Feature>, ci: Option<(f64, f64)>, digits: usize) -> String {
    let metric = metric.map_or(String::new(), |f| format!(" data-metric=\"{}\"", f.name()));
    format!(
        "<td{metric} data-col=\"ci\" data-lo=\"{}\" data-hi=\"{}\">{}</td>",
        exact(ci.map(|c| c.0)),
        exact(ci.map(|c| c.1)),
        ci.map_or("–".into(), |(lo, hi)| format!(
            "[{lo:.digits$}, {hi:.digits$}]"
        ))
    )
}

/// Key, range, density and repetition against real music: where a model drifts.
fn drift_section(s: &mut String, rows: &[SummaryRow]) {
    if rows.is_empty() {
        return;
    }
    s.push_str(
        "<section id=\"drift\"><h2>Drift</h2><p>What H1, H4 and GS do not show: notes per bar, \
         the span of pitches, the pitch classes used, the share of bars that repeat an earlier \
         bar exactly, and the notes of the last 8 bars over the first 8. Means with their 95% \
         interval, <b>*</b> where they differ from the reference's.</p><div class=\"scroll\">\
         <table id=\"drift-table\"><thead><tr><th>task</th><th>sampler</th><th>scope</th>",
    );
    for f in DRIFT_FEATURES {
        let _ = write!(s, "<th>{0}</th><th>{0} 95% CI</th>", html(f.name()));
    }
    s.push_str("</tr></thead><tbody>");
    for r in report_order(rows) {
        row_start(s, r, false);
        for f in DRIFT_FEATURES {
            mean_cells(s, r, f, 2);
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div></section>\n");
}

/// The distance cell: its interval in the tooltip and data attributes, " =" when tied with
/// the best row of its reference.
fn distance_cell(r: &SummaryRow) -> String {
    format!(
        "<td data-col=\"distance\" data-value=\"{}\" data-lo=\"{}\" data-hi=\"{}\" title=\"{}\">{}{}</td>",
        exact(r.distance),
        exact(r.distance_ci.map(|c| c.0)),
        exact(r.distance_ci.map(|c| c.1)),
        r.distance_ci.map_or(String::new(), |(lo, hi)| format!(
            "95% CI [{lo:.2}, {hi:.2}]"
        )),
        num(r.distance, 3),
        if r.tied_with_best() == Some(true) {
            " ="
        } else {
            ""
        }
    )
}

/// Overlap with the reference per metric (rows) and compared row (columns).
fn overlap_section(s: &mut String, rows: &[SummaryRow], dist: &[(Feature, String)]) {
    let compared: Vec<&SummaryRow> = report_order(rows)
        .into_iter()
        .filter(|r| !r.group.is_reference())
        .collect();
    if compared.is_empty() {
        return;
    }
    s.push_str(
        "<section id=\"overlap\"><h2>Every metric against real music</h2><p>The overlapping \
         area (oa) of each row's distribution with its reference's: 1 = the same distribution, \
         0 = disjoint. <b>*</b>: the mean differs beyond its 95% interval.</p>\
         <div class=\"scroll\"><table id=\"oa-table\"><thead><tr><th>metric</th>",
    );
    for r in &compared {
        let _ = write!(
            s,
            "<th>{}/{}<br><small>{}</small></th>",
            html(&r.group.task),
            html(&r.group.sampler),
            html(&scope_label(r))
        );
    }
    s.push_str("</tr></thead><tbody>");
    for f in compared_features() {
        let _ = write!(s, "<tr><th>{}</th>", html(f.name()));
        for r in &compared {
            let m = r.metric(f);
            let oa = m.and_then(|m| m.oa);
            let differs = m.and_then(|m| m.differs()) == Some(true);
            let _ = write!(
                s,
                "<td data-task=\"{}\" data-sampler=\"{}\" data-scope=\"{}\" data-metric=\"{}\" data-value=\"{}\"{}>{}{}</td>",
                html(&r.group.task),
                html(&r.group.sampler),
                r.scope.as_str(),
                f.name(),
                exact(oa),
                if differs { " class=\"differs\"" } else { "" },
                num(oa, 3),
                if differs { "*" } else { "" }
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    if !dist.is_empty() {
        s.push_str(
            "<p>Per metric, each row's distribution (kernel density over its pieces) against \
             its reference (black: real songs; grey: real continuations).</p><div class=\"dists\">",
        );
        for (f, href) in dist {
            let _ = write!(
                s,
                "<img src=\"{}\" alt=\"distribution of {}\" loading=\"lazy\">",
                html(href),
                html(f.name())
            );
        }
        s.push_str("</div>");
    }
    s.push_str("</section>\n");
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
         <label>sort by <select id=\"f-sort\" data-key=\"sort\"><option value=\"\">rank\
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

fn reference_section(s: &mut String, cards: &[Card], total: usize, split: Split) {
    let _ = writeln!(
        s,
        "<section id=\"reference\"><h2>Real {split}-split songs</h2><p>{} of {} songs of the \
         {split} split, the reference the summary compares against (its first bars; MIDI \
         copied into this folder).</p><div class=\"cards\">",
        cards.len(),
        total
    );
    for c in cards {
        s.push_str(&card_html(c, true));
    }
    s.push_str("</div></section>\n");
}
