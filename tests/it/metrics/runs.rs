//! The `runs_*` tables: every run under the artifacts folder, side by side with a `run` column.

use super::query;
use cadenza::features::{Feature, Features};
use cadenza::metrics::SummaryOptions;
use cadenza::metrics::pieces::{Group, ScoredPiece};
use cadenza::metrics::query::{QueryTables, runs_with_metrics};
use cadenza::metrics::store::write_tables;
use polars::prelude::*;
use std::path::Path;

/// Every feature `x + piece / 10`: a group's values spread around `x`.
fn piece(group: &Group, i: usize, x: f64) -> ScoredPiece {
    ScoredPiece {
        group: group.clone(),
        piece: format!("{i:03}"),
        file: format!("{i:03}.mid"),
        scope: group.compared_scopes()[0],
        bars: Some(8),
        start_bar: None,
        prompt: None,
        metrics: Ok(Features::from_values(
            Feature::ALL.map(|_| x + i as f64 / 10.0),
        )),
    }
}

/// A run whose sampler `a` sits at `a` and `b` at `b`; the reference at 1.
fn write_run(artifacts: &Path, name: &str, a: f64, b: f64) {
    let mut rows = Vec::new();
    for (group, x) in [
        (Group::reference(), 1.0),
        (Group::new("unconditional", "a"), a),
        (Group::new("unconditional", "b"), b),
    ] {
        rows.extend((0..6).map(|i| piece(&group, i, x)));
    }
    let opts = SummaryOptions {
        seed: 1,
        resamples: 200,
    };
    write_tables(&artifacts.join(name).join("metrics"), &rows, &opts).unwrap();
}

fn strings(df: &DataFrame, col: &str) -> Vec<String> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

#[test]
fn two_runs_appear_with_their_names_and_join() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    write_run(&artifacts, "alpha", 1.2, 3.0);
    write_run(&artifacts, "beta", 2.5, 1.1);
    // A folder without metrics is no run.
    std::fs::create_dir_all(artifacts.join("empty/train")).unwrap();
    let runs = runs_with_metrics(&artifacts).unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    let tables = QueryTables {
        metrics: &runs[0].1,
        tokens: &dir.path().join("no-tokens"),
        runs: &runs,
    };
    let sql = |q: &str| cadenza::metrics::query(&tables, q).unwrap();

    let df = sql("SELECT run, count(*) AS n FROM runs_pieces GROUP BY run ORDER BY run");
    assert_eq!(strings(&df, "run"), ["alpha", "beta"]);
    let n: Vec<u32> = df
        .column("n")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(n, [18, 18], "3 groups × 6 pieces each");

    // The README's query: each run's best sampler, side by side.
    let df = sql(
        "SELECT run, task, sampler, distance, oa_mean FROM runs_summary \
         WHERE metric = 'h1' AND rank = 1 ORDER BY run",
    );
    assert_eq!(strings(&df, "run"), ["alpha", "beta"]);
    assert_eq!(strings(&df, "sampler"), ["a", "b"]);

    // One sampler across the two runs, joined on (task, sampler, metric).
    let df = sql(
        "SELECT x.metric, x.mean AS alpha, y.mean AS beta FROM runs_summary x \
         JOIN runs_summary y ON x.task = y.task AND x.sampler = y.sampler AND x.metric = y.metric \
         WHERE x.run = 'alpha' AND y.run = 'beta' AND x.sampler = 'a' ORDER BY x.metric",
    );
    assert_eq!(
        df.height(),
        cadenza::metrics::summary::compared_features().len()
    );
    let col = |c: &str| -> Vec<f64> {
        df.column(c)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .flatten()
            .collect()
    };
    // Six pieces at x + 0, 0.1, …, 0.5: mean x + 0.25.
    assert!(col("alpha").iter().all(|m| (m - 1.45).abs() < 1e-9), "{df}");
    assert!(col("beta").iter().all(|m| (m - 2.75).abs() < 1e-9), "{df}");

    // This run's own tables are there too, without a run column.
    let df = query(
        &runs[1].1,
        &dir.path().join("no-tokens"),
        "SELECT * FROM summary",
    )
    .unwrap();
    assert!(df.column("run").is_err());
}
