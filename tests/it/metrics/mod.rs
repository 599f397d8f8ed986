mod edges;
mod files;
mod query;
mod runs;
mod stage;
mod stats;
mod tables;

/// `pipeline query` over one run's tables (no other runs).
pub fn query(
    metrics: &std::path::Path,
    tokens: &std::path::Path,
    sql: &str,
) -> anyhow::Result<polars::prelude::DataFrame> {
    let tables = cadenza::metrics::query::QueryTables {
        metrics,
        tokens,
        runs: &[],
    };
    cadenza::metrics::query(&tables, sql)
}
