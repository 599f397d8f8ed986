//! The generate benchmark: a tiny smoke run always; the full figures with `--ignored`
//! (scripts/bench_generate.sh).

use cadenza::generate::{bench_generate, bench_with};
use cadenza::model::{CpuBackend, TransformerXlConfig};
use cadenza::remi::Vocab;

#[test]
fn bench_reports_the_three_figures() {
    let model = TransformerXlConfig::tiny(Vocab::SIZE).init::<CpuBackend>(&Default::default());
    let report = bench_with(&model, 60, 10).unwrap();
    for needle in ["cached/naive", "batch20/batch1", "end to end"] {
        assert!(report.contains(needle), "{report}");
    }
}

#[test]
#[ignore = "minutes of CPU: run with scripts/bench_generate.sh"]
fn bench_generate_full() {
    println!("{}", bench_generate().unwrap());
}
