//! `pipeline query`: Polars SQL over lazy scans of the run's tables.
//!
//! Tables: `pieces` (hive scan of metrics/pieces, with `task` and `sampler`), `summary`
//! (metrics/summary.parquet) and `songs` (the token shards, without the `tokens` column).

use anyhow::{Context, Result, anyhow};
use polars::prelude::{
    CsvWriter, DataFrame, HiveOptions, JsonFormat, JsonWriter, LazyFrame, PlRefPath,
    ScanArgsParquet, SerWriter, cols,
};
use polars::sql::SQLContext;
use std::path::Path;

use super::store::{SUMMARY_FILE, scan_pieces};

/// How a query result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Polars' table display (POLARS_FMT_MAX_ROWS / POLARS_FMT_MAX_COLS control truncation).
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

/// Runs SQL over a run's tables: `pieces` and `summary` from its metrics folder, `songs` from
/// its token shards. A table that cannot be scanned is left out; when the query names it, the
/// error says why.
pub fn query(metrics: &Path, tokens: &Path, sql: &str) -> Result<DataFrame> {
    let mut ctx = SQLContext::new();
    let mut missing = Vec::new();
    match scan_pieces(metrics) {
        Ok(lf) => ctx.register("pieces", lf),
        Err(e) => missing.push(("pieces", format!("{e:#}"))),
    }
    match scan_summary(metrics) {
        Ok(lf) => ctx.register("summary", lf),
        Err(e) => missing.push(("summary", format!("{e:#}"))),
    }
    match scan_songs(tokens) {
        Ok(lf) => ctx.register("songs", lf),
        Err(e) => missing.push(("songs", format!("{e:#}"))),
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

/// Whether `sql` names `table` as a word (case-insensitive).
fn mentions(sql: &str, table: &str) -> bool {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w.eq_ignore_ascii_case(table))
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
        OutputFormat::Table => Ok(format!("{df}")),
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

/// `--out FILE.parquet`: write the result.
pub fn write_result(df: &mut DataFrame, path: &Path) -> Result<()> {
    super::pieces::write_parquet(df, path)
}
