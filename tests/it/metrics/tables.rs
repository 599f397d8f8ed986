//! The tables on disk, the summary and its plot, on rows made in code.

use cadenza::features::Feature::{self, Gs, H1, H4, NBars, PitchRange};
use cadenza::features::Features;
use cadenza::metrics::pieces::{Group, Scope, ScoredPiece};
use cadenza::metrics::plot::print_and_plot;
use cadenza::metrics::store::{read_pieces, write_tables};
use cadenza::metrics::{SummaryOptions, summarize};
use cadenza::shards::Split;
use polars::prelude::*;
use std::path::Path;

/// H1, H4 and GS as given; the other features fixed (pitch_range 30, 8 bars, ...).
fn metrics(h1: f64, h4: f64, gs: f64) -> Features {
    Features::from_values(Feature::ALL.map(|f| match f {
        H1 => h1,
        H4 => h4,
        Gs => gs,
        NBars => 8.0,
        PitchRange => 30.0,
        f if f.is_count() => 40.0,
        _ => 0.5,
    }))
}

/// A row in the scope its group is shown in (the first 8 bars, or a continuation's 8).
fn row(task: &str, sampler: &str, piece: &str, m: Result<Features, String>) -> ScoredPiece {
    let group = Group::new(task, sampler);
    let scope = group.compared_scopes()[0];
    ScoredPiece {
        group,
        piece: piece.into(),
        file: format!("/x/{piece}.mid"),
        scope,
        bars: (scope != Scope::Piece).then_some(8),
        start_bar: None,
        prompt: None,
        metrics: m,
    }
}

pub(super) const OPTS: SummaryOptions = SummaryOptions {
    seed: 3,
    resamples: 500,
};

/// Reference: h1 {1, 2, 3} (mean 2, std 1), h4 {2, 2, 2} (std 0), gs {0.5, 0.7, 0.9} (std 0.2).
/// uncond/a: h1 {3, 3}, h4 {4, 4}, gs {0.9, NaN (one-bar piece)} + one error.
/// uncond/b: h1 {2}, h4 {2.5}, gs {0.8}.
pub(super) fn rows() -> Vec<ScoredPiece> {
    vec![
        row("reference", "real", "src_001/1", Ok(metrics(1.0, 2.0, 0.5))),
        row("reference", "real", "src_001/2", Ok(metrics(2.0, 2.0, 0.7))),
        row("reference", "real", "src_002/3", Ok(metrics(3.0, 2.0, 0.9))),
        row("unconditional", "a", "000", Ok(metrics(3.0, 4.0, 0.9))),
        row("unconditional", "a", "001", Ok(metrics(3.0, 4.0, f64::NAN))),
        row(
            "unconditional",
            "a",
            "002",
            Err("not a valid MIDI file: bad header".into()),
        ),
        row("unconditional", "b", "000", Ok(metrics(2.0, 2.5, 0.8))),
    ]
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn summary_has_means_deltas_distance_and_rank() {
    let s = summarize(&rows(), &OPTS);
    let names: Vec<String> = s
        .iter()
        .map(|r| format!("{}/{}", r.group.task, r.group.sampler))
        .collect();
    assert_eq!(
        names,
        ["reference/real", "unconditional/a", "unconditional/b"]
    );
    let (r, a, b) = (&s[0], &s[1], &s[2]);
    let m = |row: &cadenza::metrics::SummaryRow, f| row.metric(f).unwrap().clone();
    assert!(close(m(r, H1).mean, 2.0) && close(m(r, H1).std, 1.0));
    assert!(close(m(r, H4).std, 0.0));
    assert!(close(m(r, Gs).mean, 0.7) && (m(r, Gs).std.unwrap() - 0.2).abs() < 1e-12);
    assert_eq!((a.n_pieces, a.n_errors), (3, 1));
    // NaN GS is left out: a's GS mean is 0.9 and its std undefined (one value).
    assert!(close(m(a, Gs).mean, 0.9));
    assert_eq!((m(a, Gs).n, m(a, Gs).std), (1, None));
    assert!(
        close(m(a, H1).delta, 1.0)
            && close(m(a, H4).delta, 2.0)
            && (m(a, Gs).delta.unwrap() - 0.2).abs() < 1e-12
    );
    // Pieces that do not vary have a degenerate interval; length is not compared.
    assert_eq!(m(a, H1).mean_ci, Some((3.0, 3.0)));
    assert!(a.metric(NBars).is_none());
    // distance = 1/1 + 2 (reference H4 std is 0: raw delta) + 0.2/0.2 = 4.
    assert!((a.distance.unwrap() - 4.0).abs() < 1e-9, "{:?}", a.distance);
    // b: 0/1 + 0.5 + 0.1/0.2 = 1.0.
    assert!((b.distance.unwrap() - 1.0).abs() < 1e-9, "{:?}", b.distance);
    assert_eq!((r.rank, a.rank, b.rank), (None, Some(2), Some(1)));
    assert!(close(r.distance, 0.0));
}

#[test]
fn tables_round_trip_through_a_hive_scan() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_dir = dir.path().join("metrics");
    write_tables(&metrics_dir, &rows(), &OPTS).unwrap();
    assert!(
        metrics_dir
            .join("pieces/task=unconditional/sampler=a/part-0.parquet")
            .is_file()
    );
    assert!(
        metrics_dir
            .join("pieces/task=reference/sampler=real/part-0.parquet")
            .is_file()
    );
    assert!(metrics_dir.join("summary.parquet").is_file());

    let mut back = read_pieces(&metrics_dir).unwrap();
    back.sort_by(|a, b| (&a.group, &a.piece).cmp(&(&b.group, &b.piece)));
    let want = rows();
    assert_eq!(back.len(), want.len());
    for (got, want) in back.iter().zip(&want) {
        assert_eq!(
            (&got.group, &got.piece, &got.file),
            (&want.group, &want.piece, &want.file)
        );
        match (&got.metrics, &want.metrics) {
            (Ok(g), Ok(w)) => {
                for f in Feature::ALL {
                    assert!(
                        g[f] == w[f] || (g[f].is_nan() && w[f].is_nan()),
                        "{}",
                        f.name()
                    );
                }
            }
            (Err(g), Err(w)) => assert_eq!(g, w),
            other => panic!("mismatch {other:?}"),
        }
    }
    // The files themselves hold no task/sampler columns: the hive folders carry them.
    let file =
        std::fs::File::open(metrics_dir.join("pieces/task=unconditional/sampler=a/part-0.parquet"))
            .unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    assert!(df.column("task").is_err() && df.column("sampler").is_err());
    assert_eq!(df.height(), 3);
}

#[test]
fn a_failed_write_keeps_the_previous_tables() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_dir = dir.path().join("metrics");
    write_tables(&metrics_dir, &rows(), &OPTS).unwrap();
    std::fs::write(metrics_dir.join("manifest.json"), "{}").unwrap();
    std::fs::write(metrics_dir.join("notes.txt"), "mine").unwrap();
    let before = std::fs::read(metrics_dir.join("summary.parquet")).unwrap();
    let mut bad = rows();
    bad.push(row("un=safe", "x", "0", Ok(metrics(1.0, 1.0, 1.0))));
    let err = write_tables(&metrics_dir, &bad, &OPTS).unwrap_err();
    assert!(format!("{err:#}").contains("un=safe"), "{err:#}");
    assert_eq!(
        std::fs::read(metrics_dir.join("summary.parquet")).unwrap(),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary folder is left behind: {leftovers:?}"
    );
    // A successful rewrite carries other files over, but not the stage manifest: it
    // described the old tables, and the caller writes a new one.
    write_tables(&metrics_dir, &rows()[..3], &OPTS).unwrap();
    assert!(metrics_dir.join("notes.txt").is_file());
    assert!(!metrics_dir.join("manifest.json").exists());
    assert!(
        !metrics_dir.join("pieces/task=unconditional").exists(),
        "old partitions are replaced"
    );
}

#[test]
fn report_writes_a_labelled_svg() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_dir = dir.path().join("metrics");
    write_tables(&metrics_dir, &rows(), &OPTS).unwrap();
    let path = print_and_plot(&metrics_dir).unwrap();
    assert_eq!(path, metrics_dir.join("h4_gs.svg"));
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"));
    for label in ["reference/real", "unconditional/a", "unconditional/b"] {
        assert!(svg.contains(label), "{label} missing");
    }
}

#[test]
fn the_split_and_evaluate_keys_are_checked_by_name() {
    let text = "[run]\nname = \"x\"\nsplit = \"tests\"\n";
    let err = cadenza::config::Config::parse(text, Path::new("x.toml")).unwrap_err();
    assert!(format!("{err:#}").contains("run.split"), "{err:#}");
    let text = "[run]\nname = \"x\"\n[evaluate]\nreference = \"test\"\n";
    let err = cadenza::config::Config::parse(text, Path::new("x.toml")).unwrap_err();
    assert!(format!("{err:#}").contains("reference"), "{err:#}");
    let text = "[run]\nname = \"x\"\nsplit = \"valid\"\n";
    let cfg = cadenza::config::Config::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(cfg.run.split(), Split::Valid);
    let text = "[run]\nname = \"x\"\n";
    let cfg = cadenza::config::Config::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(cfg.run.split(), Split::Test);
}

/// The distance interval covers a clear distance, a row drawn like the reference cannot be told
/// from the best, a row shifted by 1.5 reference std in H1 can; the intervals survive the
/// table's round trip.
#[test]
fn distance_intervals_tie_near_rows_and_separate_a_far_one() {
    let mut rng = cadenza::rng::Rng::new(11);
    let mut noise = |sd: f64| (rng.next_f64() + rng.next_f64() + rng.next_f64() - 1.5) * 2.0 * sd;
    let mut pieces = Vec::new();
    for (task, sampler, n, shift) in [
        ("reference", "real", 60, 0.0),
        ("unconditional", "near1", 30, 0.0),
        ("unconditional", "near2", 30, 0.0),
        ("unconditional", "far", 30, 1.5),
    ] {
        for i in 0..n {
            let m = metrics(
                2.0 + shift * 0.3 + noise(0.3),
                2.5 + noise(0.3),
                0.7 + noise(0.1),
            );
            pieces.push(row(task, sampler, &format!("{i:03}"), Ok(m)));
        }
    }
    let opts = SummaryOptions {
        seed: 5,
        resamples: 1000,
    };
    let s = summarize(&pieces, &opts);
    let get = |name: &str| s.iter().find(|r| r.group.sampler == name).unwrap();
    // Far from 0 the interval holds the distance (near 0 a distance of means sits low in its
    // bootstrap distribution: |x| of noise is biased up).
    let (lo, hi) = get("far").distance_ci.unwrap();
    let d = get("far").distance.unwrap();
    assert!(lo <= d && d <= hi, "far: {d} in [{lo}, {hi}]");
    assert!(get("near1").distance_ci.is_some());
    assert_eq!(get("near1").tied_with_best(), Some(true));
    assert_eq!(get("near2").tied_with_best(), Some(true));
    assert_eq!(get("far").tied_with_best(), Some(false));
    assert!(get("far").gap_ci.unwrap().0 > 0.0);
    assert_eq!(
        get("real").distance_ci,
        None,
        "the reference has no interval"
    );

    let df = cadenza::metrics::summary_frame::summary_frame(&s).unwrap();
    let back = cadenza::metrics::summary_frame::rows_from_frame(&df).unwrap();
    for (a, b) in s.iter().zip(&back) {
        assert_eq!((a.distance_ci, a.gap_ci), (b.distance_ci, b.gap_ci));
    }
}
