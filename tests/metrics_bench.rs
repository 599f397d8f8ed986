//! The evaluate benchmark, run by scripts/bench_evaluate.sh (ignored in the normal suite):
//! CADENZA_BENCH_DIR=DIR [CADENZA_BENCH_CSV=OUT.csv] cargo test --release --test metrics_bench -- --ignored --nocapture

#[test]
#[ignore = "benchmark: needs CADENZA_BENCH_DIR"]
fn bench_evaluate_folder() {
    let dir =
        std::env::var("CADENZA_BENCH_DIR").expect("set CADENZA_BENCH_DIR to a folder of MIDI");
    let report = cadenza::metrics::bench::bench_evaluate(std::path::Path::new(&dir)).unwrap();
    println!("{}", report.line());
    if let Ok(csv) = std::env::var("CADENZA_BENCH_CSV") {
        report.write_csv(std::path::Path::new(&csv)).unwrap();
    }
    assert!(report.files > 0);
}
