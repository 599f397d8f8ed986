//! `pipeline query`: Polars SQL over lazy scans of the run's tables.
//!
//! Tables: `pieces` (hive scan of metrics/pieces, with `task` and `sampler`), `summary`
//! (metrics/summary.parquet), `songs` (the token shards, without the `tokens` column), and
//! `runs_pieces` / `runs_summary`: the same two tables of every run under the artifacts folder,
//! with a `run` column first, for comparing experiments.

use anyhow::{Context, Result, anyhow, bail};
use polars::prelude::{
    CsvWriter, DataFrame, HiveOptions, JsonFormat, JsonWriter, LazyFrame, PlRefPath,
    ScanArgsParquet, SerWriter, UnionArgs, all, cols, concat, lit,
};
use polars::sql::SQLContext;
use std::path::{Path, PathBuf};

use super::store::{PIECES_DIR, SUMMARY_FILE, scan_pieces};

/// How a query result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned text with every selected column (wrapped to the terminal's `COLUMNS`), long
    /// strings cut, up to 500 rows ([`super::table`]).
    Table,
    Csv,
    /// A JSON array of row objects.
    Json,
}

impl std::str::FromStr for OutputFormat {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "table" => Ok(OutputFormat::Table),
            "csv" => Ok(OutputFormat::Csv),
            "json" => Ok(OutputFormat::Json),
            _ => Err(anyhow!("unknown format {s:?}: expected table, csv or json")),
        }
    }
}

/// Where the tables of a query are.
pub struct QueryTables<'a> {
    /// This run's metrics folder.
    pub metrics: &'a Path,
    /// This run's token shards.
    pub tokens: &'a Path,
    /// Every run's folder (`<artifacts_dir>/<run>/metrics`), for the `runs_*` tables.
    pub runs: &'a [(String, PathBuf)],
}

/// Runs SQL over the tables of [`QueryTables`]. A table that cannot be scanned is left out;
/// when the query names it, the error says why.
pub fn query(tables: &QueryTables, sql: &str) -> Result<DataFrame> {
    let mut ctx = SQLContext::new();
    let mut missing = Vec::new();
    let mut scans: Vec<(&str, Result<LazyFrame>)> = vec![
        ("pieces", scan_pieces(tables.metrics)),
        ("summary", scan_summary(tables.metrics)),
        ("songs", scan_songs(tables.tokens)),
    ];
    // Every run's tables are scanned only for a query that names them.
    if names_runs_tables(sql) {
        scans.push(("runs_pieces", scan_runs(tables, scan_pieces)));
        scans.push(("runs_summary", scan_runs(tables, scan_summary)));
    }
    for (name, scan) in scans {
        match scan {
            Ok(lf) => ctx.register(name, lf),
            Err(e) => missing.push((name, format!("{e:#}"))),
        }
    }
    let result = ctx.execute(sql).and_then(|lf| lf.collect());
    result.map_err(|e| {
        let mut msg = format!("query failed: {e}");
        // Say why a table the query names is not there (and what to run).
        let named: Vec<&(&str, String)> = missing
            .iter()
            .filter(|(name, _)| mentions(sql, name))
            .collect();
        for (name, why) in named {
            msg.push_str(&format!("\ntable `{name}` is unavailable: {why}"));
        }
        anyhow!(msg)
    })
}

/// Whether `sql` names `runs_pieces` or `runs_summary`.
pub fn names_runs_tables(sql: &str) -> bool {
    mentions(sql, "runs_pieces") || mentions(sql, "runs_summary")
}

/// Whether `sql` names `table` as a word (case-insensitive).
fn mentions(sql: &str, table: &str) -> bool {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w.eq_ignore_ascii_case(table))
}

/// The run folders under `artifacts` that hold metrics tables, as (run name, metrics folder),
/// sorted by name.
pub fn runs_with_metrics(artifacts: &Path) -> Result<Vec<(String, PathBuf)>> {
    let Ok(entries) = std::fs::read_dir(artifacts) else {
        return Ok(Vec::new());
    };
    let mut runs = Vec::new();
    for e in entries {
        let e = e.with_context(|| format!("cannot list {}", artifacts.display()))?;
        let metrics = e.path().join("metrics");
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && metrics.join(PIECES_DIR).is_dir() {
            runs.push((name, metrics));
        }
    }
    runs.sort();
    Ok(runs)
}

/// The column names of a scan.
fn column_names(lf: &mut LazyFrame) -> Result<Vec<String>> {
    Ok(lf
        .collect_schema()?
        .iter_names()
        .map(|n| n.to_string())
        .collect())
}

/// One table of every run, with a `run` column first. Runs whose table has other columns than
/// this run's (an older version's, not re-evaluated) are left out with a note.
fn scan_runs(tables: &QueryTables, scan: fn(&Path) -> Result<LazyFrame>) -> Result<LazyFrame> {
    let mut schema = scan(tables.metrics)
        .and_then(|mut lf| column_names(&mut lf))
        .ok();
    let mut frames = Vec::new();
    for (name, metrics) in tables.runs {
        let Ok(mut lf) = scan(metrics) else { continue };
        let names = column_names(&mut lf)
            .with_context(|| format!("cannot read the tables of run {name}"))?;
        match &schema {
            None => schema = Some(names),
            Some(first) if *first != names => {
                eprintln!(
                    "note: run {name} has tables of another version (left out of runs_*: run `pipeline run evaluate` with its config)"
                );
                continue;
            }
            Some(_) => {}
        }
        frames.push(lf.select([lit(name.as_str()).alias("run"), all().as_expr()]));
    }
    if frames.is_empty() {
        anyhow::bail!(
            "no run under the artifacts folder has metrics tables: run `pipeline run evaluate`"
        );
    }
    Ok(concat(frames, UnionArgs::default())?)
}

fn scan_summary(metrics: &Path) -> Result<LazyFrame> {
    let path = metrics.join(SUMMARY_FILE);
    if !path.is_file() {
        anyhow::bail!("no {}: run `pipeline run evaluate` first", path.display());
    }
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..Default::default()
    };
    LazyFrame::scan_parquet(PlRefPath::try_from_path(&path)?, args)
        .with_context(|| format!("cannot scan {}", path.display()))
}

fn scan_songs(tokens: &Path) -> Result<LazyFrame> {
    let has_shards = std::fs::read_dir(tokens).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("shard-") && name.ends_with(".parquet")
        })
    });
    if !has_shards {
        anyhow::bail!(
            "no token shards in {}: run `pipeline run tokenize` first",
            tokens.display()
        );
    }
    let pattern = tokens.join("shard-*.parquet");
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..Default::default()
    };
    let lf = LazyFrame::scan_parquet(PlRefPath::try_from_path(&pattern)?, args)
        .with_context(|| format!("cannot scan {}", pattern.display()))?;
    Ok(lf.drop(cols(["tokens"])))
}

/// The result as text in the chosen format.
pub fn format_frame(df: &mut DataFrame, format: OutputFormat) -> Result<String> {
    match format {
        OutputFormat::Table => Ok(super::table::format_table(df, None)),
        OutputFormat::Csv => {
            let mut buf = Vec::new();
            CsvWriter::new(&mut buf)
                .include_header(true)
                .finish(df)
                .context("cannot format as CSV")?;
            Ok(String::from_utf8(buf)?)
        }
        OutputFormat::Json => {
            let mut buf = Vec::new();
            JsonWriter::new(&mut buf)
                .with_json_format(JsonFormat::Json)
                .finish(df)
                .context("cannot format as JSON")?;
            Ok(String::from_utf8(buf)?)
        }
    }
}

/// `--out FILE`: write the result in the format its extension names (.parquet, .csv, .json).
pub fn write_result(df: &mut DataFrame, path: &Path) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let text = match ext.to_ascii_lowercase().as_str() {
        "parquet" => return super::pieces::write_parquet(df, path),
        "csv" => format_frame(df, OutputFormat::Csv)?,
        "json" => format_frame(df, OutputFormat::Json)?,
        _ => bail!(
            "cannot tell the format of {} from its extension: use .parquet, .csv or .json",
            path.display()
        ),
    };
    crate::fsio::write_file(path, text.as_bytes())
}
