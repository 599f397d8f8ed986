//! The page's summary: its table holds exactly summary.parquet's numbers, and it leads the
//! page, the cards following its rank.

use polars::prelude::*;

use super::fixture::{PIECES, Run};
use super::html::{attr, cards};

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
    let (tasks, samplers, scopes, metrics) = (
        texts(&df, "task"),
        texts(&df, "sampler"),
        texts(&df, "scope"),
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
    let (oa_lo, oa_hi) = (floats(&df, "oa_mean_lo"), floats(&df, "oa_mean_hi"));
    let find = |t: &str, s: &str, scope: &str, m: &str| {
        (0..df.height())
            .find(|&i| tasks[i] == t && samplers[i] == s && scopes[i] == scope && metrics[i] == m)
            .unwrap_or_else(|| panic!("no summary row {t}/{s}/{scope}/{m}"))
    };
    let groups: std::collections::BTreeSet<(&str, &str, &str)> = (0..df.height())
        .map(|i| (tasks[i].as_str(), samplers[i].as_str(), scopes[i].as_str()))
        .collect();
    // The reference on its first bars and whole, real continuations, three generated partitions.
    assert_eq!(groups.len(), 6, "{groups:?}");
    let rows: Vec<&str> = table.split("<tr ").skip(1).collect();
    assert_eq!(
        rows.len(),
        groups.len(),
        "one table row per task × sampler × scope"
    );
    let mut checked = 0;
    for row in rows {
        let (t, s, sc) = (
            attr(row, "data-task").unwrap(),
            attr(row, "data-sampler").unwrap(),
            attr(row, "data-scope").unwrap(),
        );
        for cell in row.split("<td ").skip(1) {
            let cell = format!(" {cell}");
            let text = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
            let col = attr(&cell, "data-col").unwrap();
            match attr(&cell, "data-metric") {
                Some(m) => {
                    let i = find(&t, &s, &sc, &m);
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
                None if col == "oa_mean_ci" => {
                    let i = find(&t, &s, &sc, "h1");
                    let got = |k| attr(&cell, k).unwrap().parse::<f64>().ok();
                    assert_eq!((got("data-lo"), got("data-hi")), (oa_lo[i], oa_hi[i]));
                }
                None => {
                    let i = find(&t, &s, &sc, "h1");
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
    // Mean and interval of H1, H4, GS, then distance, oa mean, its interval and rank.
    assert_eq!(checked, 10 * groups.len());
    // The overlap table: one cell per compared row and metric, each equal to the table's oa.
    let oa_table = &html[html.find("id=\"oa-table\"").unwrap()..];
    let oa_table = &oa_table[..oa_table.find("</table>").unwrap()];
    let cells: Vec<&str> = oa_table.split("<td ").skip(1).collect();
    let compared = groups.iter().filter(|(_, s, _)| *s != "real").count();
    assert_eq!(
        cells.len(),
        compared * cadenza::metrics::summary::compared_features().len()
    );
    for cell in cells {
        let cell = format!(" {cell}");
        let (t, s, sc, m) = (
            attr(&cell, "data-task").unwrap(),
            attr(&cell, "data-sampler").unwrap(),
            attr(&cell, "data-scope").unwrap(),
            attr(&cell, "data-metric").unwrap(),
        );
        let shown = attr(&cell, "data-value").unwrap();
        assert_eq!(
            shown.parse::<f64>().ok(),
            oa[find(&t, &s, &sc, &m)],
            "{t}/{s} {m} oa"
        );
    }
    // The H4/GS plot with intervals, and one distribution plot per metric with values (the
    // fixture's pieces are too short for density_drift).
    assert!(run.report_dir().join("h4_gs.svg").is_file());
    assert!(html.contains("src=\"h4_gs.svg\""));
    for f in cadenza::metrics::summary::compared_features() {
        let svg = run.report_dir().join(format!("dist/{}.svg", f.name()));
        let defined = (0..df.height()).any(|i| metrics[i] == f.name() && mean[i].is_some());
        assert_eq!(svg.is_file(), defined, "{}", svg.display());
    }
    assert!(!run.report_dir().join("dist/density_drift.svg").exists());
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
    let rows = cadenza::metrics::summary_frame::rows_from_frame(&df).unwrap();
    let rank = |task: &str, sampler: &str| {
        rows.iter()
            .find(|r| r.group.task == task && r.group.sampler == sampler)
            .and_then(|r| r.rank)
            .unwrap_or(u32::MAX)
    };
    let section = &html[html.find("id=\"cards\"").unwrap()..html.find("id=\"reference\"").unwrap()];
    let seen: Vec<(String, String, String)> = cards(section)
        .into_iter()
        .map(|c| {
            let a = |name| attr(c, name).unwrap();
            (a("data-task"), a("data-sampler"), a("data-order"))
        })
        .collect();
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
