//! `pipeline query --format table`: every selected column, as aligned text.
//!
//! Polars' own display elides middle columns and rows (`…`), which hides the values a user
//! selected. Here long strings are cut instead of columns; when the columns are wider than the
//! terminal they wrap into blocks of columns, each block printing every row with the first
//! column repeated so rows stay identifiable.

use polars::prelude::{AnyValue, DataFrame};

/// Longest string cell shown (longer ones end with "…").
const MAX_CELL: usize = 40;
/// Rows printed before the rest is only counted.
pub const MAX_ROWS: usize = 500;
/// Terminal width when `COLUMNS` does not say.
const DEFAULT_WIDTH: usize = 160;

/// The frame as text blocks that fit `width` characters (None: `COLUMNS` or 160).
pub fn format_table(df: &DataFrame, width: Option<usize>) -> String {
    let width = width
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(DEFAULT_WIDTH)
        .max(40);
    let rows = df.height().min(MAX_ROWS);
    let columns: Vec<Vec<String>> = df
        .columns()
        .iter()
        .map(|c| {
            let mut cells = vec![c.name().to_string()];
            cells.extend((0..rows).map(|i| cell(c.get(i).unwrap_or(AnyValue::Null))));
            cells
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, block) in blocks(&widths, width).into_iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        for r in 0..=rows {
            let line: Vec<String> = block
                .iter()
                .map(|&c| pad(&columns[c][r], widths[c], is_numeric(df, c)))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
            if r == 0 {
                let rule: Vec<String> = block.iter().map(|&c| "-".repeat(widths[c])).collect();
                out.push_str(&rule.join("  "));
                out.push('\n');
            }
        }
    }
    if df.height() > rows {
        out.push_str(&format!(
            "… {} more rows (--format csv or --out FILE for all)\n",
            df.height() - rows
        ));
    }
    out.push_str(&format!(
        "({} rows × {} columns)\n",
        df.height(),
        df.width()
    ));
    out
}

/// Groups of column indices that fit `width` (a column wider than it gets a block of its own);
/// every group after the first starts with column 0 again.
fn blocks(widths: &[usize], width: usize) -> Vec<Vec<usize>> {
    let Some(&first) = widths.first() else {
        return Vec::new();
    };
    let mut out = vec![vec![0]];
    let mut used = first;
    for (c, &w) in widths.iter().enumerate().skip(1) {
        let cur = out.last_mut().expect("starts with one block");
        if used + 2 + w > width && cur.len() > 1 {
            out.push(vec![0, c]);
            used = first + 2 + w;
        } else {
            cur.push(c);
            used += 2 + w;
        }
    }
    out
}

fn is_numeric(df: &DataFrame, c: usize) -> bool {
    df.columns()[c].dtype().is_primitive_numeric()
}

/// One value as shown: floats with up to 6 significant decimals, strings cut to MAX_CELL.
fn cell(v: AnyValue) -> String {
    let s = match v {
        AnyValue::Null => "null".to_string(),
        AnyValue::Float64(x) => float(x),
        AnyValue::Float32(x) => float(x as f64),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    };
    if s.chars().count() > MAX_CELL {
        let cut: String = s.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn float(x: f64) -> String {
    if x.is_finite() && x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-4) {
        format!("{x:.4e}")
    } else {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0');
        s.strip_suffix('.').unwrap_or(s).to_string()
    }
}

fn pad(s: &str, width: usize, right: bool) -> String {
    let n = s.chars().count();
    let fill = " ".repeat(width.saturating_sub(n));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}
