//! The listening page of a tiny hand-made run: complete (a card per generated piece, the
//! reference songs), every link resolves (also after moving the run folder), the summary table
//! holds exactly summary.parquet's numbers, pieces without WAV say so, and the stage is fresh
//! when nothing changed.

use polars::prelude::*;
use std::path::PathBuf;
use std::process::Output;

use super::fixture::{PIECES, REFERENCE, Run, START_BAR};
use super::html::{assert_links_resolve, assert_well_formed, attr, cards};
use crate::support::{cli, text};

#[test]
fn page_is_complete_and_links_resolve() {
    let run = Run::new();
    let stats = run.write_report(12).unwrap();
    assert_eq!(stats.cards, PIECES.len());
    assert_eq!(stats.with_wav, 2);
    assert_eq!(stats.reference, REFERENCE.len());
    let html = std::fs::read_to_string(run.report_dir().join("index.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_well_formed(&html);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );

    // One card per generated piece, each with its MIDI link and roll; the WAV only where a
    // file exists, a note otherwise.
    let all = cards(&html);
    let generated: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| !c.contains("class=\"card ref\""))
        .collect();
    assert_eq!(generated.len(), PIECES.len());
    for (task, sampler, stem, wav) in PIECES {
        let card = generated
            .iter()
            .find(|c| {
                attr(c, "data-task").as_deref() == Some(task)
                    && attr(c, "data-sampler").as_deref() == Some(sampler)
                    && attr(c, "data-piece").as_deref() == Some(stem)
            })
            .unwrap_or_else(|| panic!("no card for {task}/{sampler}/{stem}"));
        assert!(card.contains(&format!("{stem}.mid\"")), "{card}");
        assert!(card.contains("class=\"roll\""));
        assert_eq!(card.contains("<audio"), wav, "{card}");
        assert_eq!(card.contains("class=\"no-wav\""), !wav, "{card}");
        if task == "continuation" {
            assert!(card.contains(&format!("continuation from bar {}", START_BAR + 1)));
        }
    }
    // A continuation plays its prompt, its own bars and the real continuation side by side:
    // the split at bar START_BAR, 120 BPM = 2 s a bar.
    let card = |task: &str, sampler: &str, stem: &str| {
        generated
            .iter()
            .find(|c| {
                attr(c, "data-task").as_deref() == Some(task)
                    && attr(c, "data-sampler").as_deref() == Some(sampler)
                    && attr(c, "data-piece").as_deref() == Some(stem)
            })
            .copied()
            .unwrap()
    };
    let t = format!("{:.3}", 2.0 * START_BAR as f64);
    let srcs: Vec<String> = card("continuation", "greedy", "000")
        .split("<audio ")
        .skip(1)
        .map(|a| attr(&format!(" {a}"), "src").unwrap())
        .collect();
    let own = "../generated/task=continuation/sampler=greedy/000.wav";
    let real = "../generated/task=continuation/sampler=real/000.wav";
    assert_eq!(
        srcs,
        [
            format!("{own}#t=0,{t}"),
            format!("{own}#t={t}"),
            format!("{real}#t={t}")
        ]
    );
    // Without its own WAV, a continuation still links the real continuation's MIDI.
    let no_wav = card("continuation", "greedy", "001");
    assert!(!no_wav.contains("<audio") && no_wav.contains("real continuation MIDI"));
    assert!(no_wav.contains("sampler=real/000.mid"));
    // The piece whose scoring failed says so.
    assert!(html.contains("Not scored: bad file"));
    // The reference songs, copied into report/.
    let refs: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| c.contains("class=\"card ref\""))
        .collect();
    assert_eq!(refs.len(), REFERENCE.len());
    for (id, _) in REFERENCE {
        assert!(
            run.report_dir()
                .join(format!("reference/{id}.mid"))
                .is_file()
        );
    }
    // The run facts from the train manifest.
    for needle in [
        "train.steps",
        ">100<",
        "train.valid_loss",
        ">2.75<",
        "step-00000100",
        "model.n_layer",
        "model.d_model",
        "train.model.n_layers",
    ] {
        assert!(html.contains(needle), "run section lacks {needle}");
    }
    assert_links_resolve(&run.report_dir());

    // The run folder moves as a whole: links still resolve from the new place.
    let moved = run.root().join("elsewhere");
    std::fs::rename(run.run_dir(), &moved).unwrap();
    assert_links_resolve(&moved.join("report"));
}

#[test]
fn reference_songs_get_audio_excerpts_with_a_soundfont() {
    let Some(sf2) = crate::support::soundfont("reference audio excerpts (report::page)") else {
        return;
    };
    let run = Run::new();
    run.use_soundfont(&sf2);
    let stats = run.write_report(12).unwrap();
    assert_eq!(
        stats.with_wav, 2,
        "generated pieces: only the WAVs that generate wrote"
    );
    let html = std::fs::read_to_string(run.report_dir().join("index.html")).unwrap();
    let refs: Vec<&str> = cards(&html)
        .into_iter()
        .filter(|c| c.contains("class=\"card ref\""))
        .collect();
    let want = REFERENCE.len().min(cadenza::report::REFERENCE_AUDIO);
    for (i, card) in refs.iter().enumerate() {
        assert_eq!(card.contains("<audio"), i < want, "{card}");
    }
    for (id, _) in REFERENCE.iter().take(want) {
        // FLAC, the default audio.format: some seconds of 16-bit stereo 44.1 kHz audio.
        let flac = std::fs::read(run.report_dir().join(format!("reference/{id}.flac"))).unwrap();
        let mut reader = claxon::FlacReader::new(std::io::Cursor::new(&flac)).unwrap();
        assert_eq!(reader.streaminfo().sample_rate, 44_100);
        assert!(
            reader.samples().count() > 44_100 * 2,
            "{} bytes",
            flac.len()
        );
    }
    assert_links_resolve(&run.report_dir());
}

/// A summary.parquet column as optional floats.
fn floats(df: &DataFrame, col: &str) -> Vec<Option<f64>> {
    let c = df.column(col).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().collect()
}

fn texts(df: &DataFrame, col: &str) -> Vec<String> {
    let c = df.column(col).unwrap();
    c.str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

/// The cell's shown number equals the table's, rounded to 3 digits ("–" for null); markers
/// ("*": differs from the reference, " =": tied with the best) aside.
fn assert_shown(text: &str, want: Option<f64>, what: &str) {
    let text = text.trim_end_matches('*').trim_end_matches(" =");
    match want {
        Some(w) => assert!(
            (text.parse::<f64>().unwrap() - w).abs() <= 0.0005 + 1e-12,
            "{what}: {text} vs {w}"
        ),
        None => assert_eq!(text, "–", "{what}"),
    }
}

#[test]
fn summary_table_equals_summary_parquet() {
    let run = Run::new();
    run.write_report(12).unwrap();
    let html = std::fs::read_to_string(run.report_dir().join("index.html")).unwrap();
    let table = &html[html.find("id=\"summary-table\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];

    let path = run.run_dir().join("metrics/summary.parquet");
    let df = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let (tasks, samplers, metrics) = (
        texts(&df, "task"),
        texts(&df, "sampler"),
        texts(&df, "metric"),
    );
    let (mean, lo, hi) = (
        floats(&df, "mean"),
        floats(&df, "mean_lo"),
        floats(&df, "mean_hi"),
    );
    let (diff_lo, diff_hi) = (floats(&df, "diff_lo"), floats(&df, "diff_hi"));
    let (distance, oa_mean, rank, oa) = (
        floats(&df, "distance"),
        floats(&df, "oa_mean"),
        floats(&df, "rank"),
        floats(&df, "oa"),
    );
    let find = |t: &str, s: &str, m: &str| {
        (0..df.height())
            .find(|&i| tasks[i] == t && samplers[i] == s && metrics[i] == m)
            .unwrap_or_else(|| panic!("no summary row {t}/{s}/{m}"))
    };
    let groups: std::collections::BTreeSet<(&str, &str)> = (0..df.height())
        .map(|i| (tasks[i].as_str(), samplers[i].as_str()))
        .collect();
    // Reference, real continuations, three generated partitions.
    assert_eq!(groups.len(), 5, "{groups:?}");
    let rows: Vec<&str> = table.split("<tr ").skip(1).collect();
    assert_eq!(rows.len(), groups.len(), "one table row per task × sampler");
    let mut checked = 0;
    for row in rows {
        let (t, s) = (
            attr(row, "data-task").unwrap(),
            attr(row, "data-sampler").unwrap(),
        );
        for cell in row.split("<td ").skip(1) {
            let cell = format!(" {cell}");
            let text = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
            let col = attr(&cell, "data-col").unwrap();
            match attr(&cell, "data-metric") {
                Some(m) => {
                    let i = find(&t, &s, &m);
                    if col == "mean" {
                        let shown = attr(&cell, "data-value").unwrap();
                        assert_eq!(shown.parse::<f64>().ok(), mean[i], "{t}/{s} {m} mean");
                        assert_shown(text, mean[i], &format!("{t}/{s} {m} mean"));
                        // The star: the difference's interval excludes 0.
                        let differs = match (diff_lo[i], diff_hi[i]) {
                            (Some(a), Some(b)) => a > 0.0 || b < 0.0,
                            _ => false,
                        };
                        assert_eq!(text.ends_with('*'), differs, "{t}/{s} {m} star");
                    } else {
                        assert_eq!(col, "ci");
                        let got = |k| attr(&cell, k).unwrap().parse::<f64>().ok();
                        assert_eq!((got("data-lo"), got("data-hi")), (lo[i], hi[i]));
                    }
                }
                None => {
                    let i = find(&t, &s, "h1");
                    let want = match col.as_str() {
                        "distance" => distance[i],
                        "oa_mean" => oa_mean[i],
                        "rank" => rank[i],
                        other => panic!("unexpected column {other}"),
                    };
                    let shown = attr(&cell, "data-value").unwrap();
                    assert_eq!(shown.parse::<f64>().ok(), want, "{t}/{s} {col}");
                    if col != "rank" {
                        assert_shown(text, want, &format!("{t}/{s} {col}"));
                    }
                }
            }
            checked += 1;
        }
    }
    // Mean and interval of H1, H4, GS, then distance, oa mean and rank: every one of them.
    assert_eq!(checked, 9 * groups.len());
    // The overlap table: one cell per compared row and metric, each equal to the table's oa.
    let oa_table = &html[html.find("id=\"oa-table\"").unwrap()..];
    let oa_table = &oa_table[..oa_table.find("</table>").unwrap()];
    let cells: Vec<&str> = oa_table.split("<td ").skip(1).collect();
    let compared = groups.iter().filter(|(_, s)| *s != "real").count();
    assert_eq!(
        cells.len(),
        compared * cadenza::metrics::summary::compared_features().len()
    );
    for cell in cells {
        let cell = format!(" {cell}");
        let (t, s, m) = (
            attr(&cell, "data-task").unwrap(),
            attr(&cell, "data-sampler").unwrap(),
            attr(&cell, "data-metric").unwrap(),
        );
        let shown = attr(&cell, "data-value").unwrap();
        assert_eq!(
            shown.parse::<f64>().ok(),
            oa[find(&t, &s, &m)],
            "{t}/{s} {m} oa"
        );
    }
    // The H4/GS plot with intervals, and one distribution plot per metric.
    assert!(run.report_dir().join("h4_gs.svg").is_file());
    assert!(html.contains("src=\"h4_gs.svg\""));
    for f in cadenza::metrics::summary::compared_features() {
        let svg = run.report_dir().join(format!("dist/{}.svg", f.name()));
        assert!(svg.is_file(), "{}", svg.display());
    }
}

fn pipeline(run: &Run, args: &[&str]) -> Output {
    cli(&run.config_path(), args, &[])
}

#[test]
fn report_stage_runs_then_is_fresh_then_stale_on_new_metrics() {
    let run = Run::new();
    let index: PathBuf = run.report_dir().join("index.html");
    let o = pipeline(&run, &["run", "report"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&index.display().to_string()),
        "prints the page's path: {}",
        text(&o)
    );
    assert!(index.is_file());
    assert!(run.report_dir().join("manifest.json").is_file());

    let o = pipeline(&run, &["run", "report"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("fresh, skipped"), "{}", text(&o));
    // Fresh or not, the last line says where the page is.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some(format!("listening report: {}", index.display()).as_str())
    );

    // evaluate ran again (new fingerprint): the page is stale and is rewritten.
    let metrics = run.run_dir().join("metrics");
    let mut m = cadenza::pipeline::manifest::Manifest::read(&metrics)
        .unwrap()
        .unwrap();
    m.fingerprint = "eval-2".into();
    m.write(&metrics).unwrap();
    let o = pipeline(&run, &["status"]);
    assert!(
        text(&o).contains("input `evaluate` changed"),
        "{}",
        text(&o)
    );
    let o = pipeline(&run, &["run", "report"]);
    assert!(
        o.status.success() && !text(&o).contains("fresh, skipped"),
        "{}",
        text(&o)
    );
}

#[test]
fn report_command_prints_the_summary_and_writes_the_page() {
    let run = Run::new();
    let o = pipeline(&run, &["report"]);
    assert!(o.status.success(), "{}", text(&o));
    let index = run.report_dir().join("index.html");
    assert!(index.is_file());
    assert!(
        text(&o).contains(&format!("listening report: {}", index.display())),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("continuation/greedy"),
        "the summary table: {}",
        text(&o)
    );
}

#[test]
fn report_stage_names_the_missing_upstream_stage() {
    let run = Run::new();
    std::fs::remove_file(run.run_dir().join("metrics/manifest.json")).unwrap();
    let o = pipeline(&run, &["run", "report"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("pipeline run evaluate"), "{}", text(&o));
}

/// The page leads with the results: the summary before the run table, and the cards in the
/// summary's rank order (closest first), the real continuations last.
#[test]
fn cards_follow_the_summary_rank() {
    let run = Run::new();
    run.write_report(2).unwrap();
    let html = std::fs::read_to_string(run.report_dir().join("index.html")).unwrap();
    assert!(html.find("id=\"summary-table\"").unwrap() < html.find("id=\"run-table\"").unwrap());
    let path = run.run_dir().join("metrics/summary.parquet");
    let df = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let rows = cadenza::metrics::summary::rows_from_frame(&df).unwrap();
    let rank = |task: &str, sampler: &str| {
        rows.iter()
            .find(|r| r.group.task == task && r.group.sampler == sampler)
            .and_then(|r| r.rank)
            .unwrap_or(u32::MAX)
    };
    let cards = &html[html.find("id=\"cards\"").unwrap()..html.find("id=\"reference\"").unwrap()];
    let mut seen = Vec::new();
    for part in cards.split("<article class=\"card").skip(1) {
        let attr = |name: &str| {
            let at = part.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            part[at..at + part[at..].find('"').unwrap()].to_string()
        };
        seen.push((attr("data-task"), attr("data-sampler"), attr("data-order")));
    }
    assert_eq!(seen.len(), PIECES.len());
    let ranks: Vec<u32> = seen.iter().map(|(t, s, _)| rank(t, s)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{seen:?} {ranks:?}");
    assert_eq!(seen.last().map(|c| c.1.as_str()), Some("real"));
    let orders: Vec<usize> = seen.iter().map(|c| c.2.parse().unwrap()).collect();
    assert_eq!(
        orders,
        (0..seen.len()).collect::<Vec<_>>(),
        "data-order is the shown order"
    );
    assert!(
        ranks.iter().filter(|&&r| r != u32::MAX).count() >= 2,
        "ranked rows: {ranks:?}"
    );
}
