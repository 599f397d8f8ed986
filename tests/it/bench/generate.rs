//! The generate benchmark on a tiny model; the full figures come from `pipeline bench generate`
//! (`make bench`).

use cadenza::bench::generate::bench_with;
use cadenza::model::{CpuBackend, TransformerXlConfig, Window};
use cadenza::remi::Vocab;

#[test]
fn bench_reports_the_three_figures() {
    let model = crate::support::model::<CpuBackend>(&TransformerXlConfig::tiny(Vocab::SIZE), 1);
    let b = bench_with(&model, 16, Window::Segment, 60).unwrap();
    let report = b.report;
    assert!(
        b.steps.iter().chain(&b.sampled).all(|&x| x > 0.0),
        "{report}"
    );
    for needle in [
        "cached/naive",
        "batch20/batch1",
        "end to end",
        "beam width 4",
    ] {
        assert!(report.contains(needle), "{report}");
    }
}
