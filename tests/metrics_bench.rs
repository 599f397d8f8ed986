//! The evaluate benchmark without the CLI (ignored in the normal suite; run from the repo root):
//! CADENZA_BENCH_RAW=DIR cargo test --release --test metrics_bench -- --ignored --nocapture

use std::path::Path;

#[test]
#[ignore = "benchmark: reads the whole corpus and runs the Python peer"]
fn bench_evaluate_corpus() {
    let raw = std::env::var("CADENZA_BENCH_RAW")
        .unwrap_or_else(|_| "/work/shared/data/pop1k7/midi_analyzed".into());
    let text = format!("[run]\nname = \"bench\"\nraw_dir = \"{raw}\"\n");
    let cfg = cadenza::config::Config::parse(&text, Path::new("bench.toml")).unwrap();
    println!("{}", cadenza::metrics::bench::bench(&cfg).unwrap());
}
