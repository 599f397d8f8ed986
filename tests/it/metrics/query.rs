//! `pipeline query` over the tables: SQL over pieces, summary and songs, errors, output formats.

use super::query;
use super::tables::{OPTS, rows};
use cadenza::metrics::store::write_tables;
use cadenza::shards::{SongRecord, Split, write_shards};
use polars::prelude::*;
use std::path::Path;

/// A token shard written by the shards module, as tokenize does.
fn write_shard(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let song = |id: &str, split: Split, tokens: Vec<u16>| SongRecord {
        song_id: id.into(),
        source: format!("{id}.mid"),
        source_sha256: "aa".into(),
        split,
        meters: String::new(),
        n_bars: 10,
        n_notes: 100,
        n_tokens: tokens.len() as u32,
        tokens,
    };
    let songs = [
        song("src_001/1", Split::Test, vec![1, 2, 3]),
        song("src_002/3", Split::Train, vec![1, 4]),
    ];
    write_shards(dir, &songs, 256).unwrap();
}

#[test]
fn queries_see_pieces_with_hive_columns_summary_and_songs() {
    let dir = tempfile::tempdir().unwrap();
    let (metrics_dir, tokens) = (dir.path().join("metrics"), dir.path().join("tokens/remi"));
    write_tables(&metrics_dir, &rows(), &OPTS).unwrap();
    write_shard(&tokens);

    let df = query(
        &metrics_dir,
        &tokens,
        "SELECT task, sampler, count(*) AS n, avg(h1) AS h1 FROM pieces GROUP BY task, sampler ORDER BY task, sampler",
    )
    .unwrap();
    let task: Vec<Option<&str>> = df.column("task").unwrap().str().unwrap().iter().collect();
    let sampler: Vec<Option<&str>> = df
        .column("sampler")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    let n: Vec<i64> = df
        .column("n")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(
        task,
        [
            Some("reference"),
            Some("unconditional"),
            Some("unconditional")
        ]
    );
    assert_eq!(sampler, [Some("real"), Some("a"), Some("b")]);
    assert_eq!(n, [3, 3, 1]);
    let h1: Vec<Option<f64>> = df.column("h1").unwrap().f64().unwrap().iter().collect();
    assert_eq!(
        h1,
        [Some(2.0), Some(3.0), Some(2.0)],
        "avg skips the null of the error row"
    );

    // The undefined GS of a one-bar piece is null in the table, so avg skips it.
    let gs = query(
        &metrics_dir,
        &tokens,
        "SELECT avg(gs) AS gs, count(gs) AS n FROM pieces WHERE sampler = 'a'",
    )
    .unwrap();
    assert_eq!(gs.column("gs").unwrap().f64().unwrap().get(0), Some(0.9));

    let errors = query(
        &metrics_dir,
        &tokens,
        "SELECT piece, error FROM pieces WHERE error IS NOT NULL",
    )
    .unwrap();
    assert_eq!(errors.height(), 1);
    assert_eq!(
        errors.column("piece").unwrap().str().unwrap().get(0),
        Some("002")
    );

    let best = query(
        &metrics_dir,
        &tokens,
        "SELECT DISTINCT sampler FROM summary WHERE rank = 1",
    )
    .unwrap();
    assert_eq!(
        best.column("sampler").unwrap().str().unwrap().get(0),
        Some("b")
    );

    let songs = query(
        &metrics_dir,
        &tokens,
        "SELECT * FROM songs WHERE split = 'test'",
    )
    .unwrap();
    assert_eq!(songs.height(), 1);
    assert!(
        songs.column("tokens").is_err(),
        "songs has no tokens column"
    );
    assert_eq!(
        songs.column("song_id").unwrap().str().unwrap().get(0),
        Some("src_001/1")
    );
}

#[test]
fn bad_sql_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_dir = dir.path().join("metrics");
    write_tables(&metrics_dir, &rows(), &OPTS).unwrap();
    let err = query(&metrics_dir, dir.path(), "SELEC task FROM pieces").unwrap_err();
    assert!(format!("{err:#}").starts_with("query failed:"), "{err:#}");
    let err = query(
        &metrics_dir,
        dir.path(),
        "SELECT no_such_column FROM pieces",
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("no_such_column"), "{err:#}");
    // A table whose data is missing is named with what to run.
    let err = query(&metrics_dir, dir.path(), "SELECT * FROM songs").unwrap_err();
    assert!(
        format!("{err:#}").contains("pipeline run tokenize"),
        "{err:#}"
    );
}

#[test]
fn results_format_as_table_csv_and_json_and_write_parquet() {
    use cadenza::metrics::{OutputFormat, format_frame, write_result};
    let dir = tempfile::tempdir().unwrap();
    let metrics_dir = dir.path().join("metrics");
    write_tables(&metrics_dir, &rows(), &OPTS).unwrap();
    let sql = "SELECT sampler, piece, h4 FROM pieces WHERE task = 'unconditional' AND error IS NULL ORDER BY sampler, piece";
    let mut df = query(&metrics_dir, dir.path(), sql).unwrap();
    let csv = format_frame(&mut df, "csv".parse::<OutputFormat>().unwrap()).unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        ["sampler,piece,h4", "a,000,4.0", "a,001,4.0", "b,000,2.5"]
    );
    let json = format_frame(&mut df, OutputFormat::Json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[2]["sampler"], "b");
    assert_eq!(v[2]["h4"], 2.5);
    let table = format_frame(&mut df, OutputFormat::Table).unwrap();
    assert!(
        table.contains("sampler") && table.contains("2.5"),
        "{table}"
    );
    assert!("xml".parse::<OutputFormat>().is_err());
    // --out writes the format its extension names, and refuses one it cannot tell.
    let out_csv = dir.path().join("result.CSV");
    write_result(&mut df, &out_csv).unwrap();
    assert_eq!(std::fs::read_to_string(&out_csv).unwrap(), csv);
    let out_json = dir.path().join("result.json");
    write_result(&mut df, &out_json).unwrap();
    assert_eq!(std::fs::read_to_string(&out_json).unwrap(), json);
    let err = write_result(&mut df, &dir.path().join("result.txt")).unwrap_err();
    assert!(format!("{err:#}").contains("result.txt") && format!("{err:#}").contains(".parquet"));
    assert!(!dir.path().join("result.txt").exists());
    let out = dir.path().join("result.parquet");
    write_result(&mut df, &out).unwrap();
    let back = ParquetReader::new(std::fs::File::open(&out).unwrap())
        .finish()
        .unwrap();
    assert_eq!(back.height(), 3);
}

/// `--format table` shows every selected column and row (wrapped into blocks that fit the
/// width, the first column repeated), cutting long strings instead of columns.
#[test]
fn the_table_format_shows_every_column() {
    use cadenza::metrics::table::format_table;
    let n = 12;
    let mut cols = vec![Column::new(
        "sampler".into(),
        (0..n).map(|i| format!("s{i}")).collect::<Vec<_>>(),
    )];
    for k in 0..20 {
        cols.push(Column::new(
            format!("metric_{k:02}").into(),
            (0..n)
                .map(|i| (i * 100 + k) as f64 / 7.0)
                .collect::<Vec<_>>(),
        ));
    }
    cols.push(Column::new(
        "file".into(),
        (0..n)
            .map(|i| {
                format!("/a/very/long/path/to/generated/task=unconditional/sampler=s/{i:03}.mid")
            })
            .collect::<Vec<_>>(),
    ));
    let df = DataFrame::new(n, cols).unwrap();
    let text = format_table(&df, Some(100));
    for k in 0..20 {
        assert!(text.contains(&format!("metric_{k:02}")), "{text}");
    }
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    assert!(
        text.contains("s11")
            && text.contains(
                &format!("{:.6}", 1119.0 / 7.0)
                    .trim_end_matches('0')
                    .to_string()
            )
    );
    assert!(
        text.contains('…') && !text.contains("011.mid"),
        "long strings are cut"
    );
    let blocks = text.matches("sampler").count();
    assert!(
        blocks >= 3,
        "wrapped into blocks, each with the first column: {blocks}"
    );
    assert!(text.ends_with("(12 rows × 22 columns)\n"), "{text}");
}
