//! The evaluate benchmark on a small folder (the full figures, with the Python peer, come from
//! `pipeline bench evaluate`): every file is scored, twice, and the values are the metrics'.

use cadenza::bench::evaluate::bench_dir;
use cadenza::features::features;
use cadenza::midi::{Song, write_bytes};

use crate::support::note;

#[test]
fn bench_scores_every_file_of_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for i in 0..5u32 {
        let notes: Vec<_> = (0..8 + i)
            .map(|k| note(k * 480, k * 480 + 240, 60 + k as u8, 80))
            .collect();
        let song = Song {
            notes: notes.clone(),
            ..Default::default()
        };
        std::fs::write(dir.path().join(format!("{i}.mid")), write_bytes(&song)).unwrap();
        expected.push(features(&notes));
    }
    std::fs::write(dir.path().join("bad.mid"), b"not midi").unwrap();
    let pass = bench_dir(dir.path(), 1, 1).unwrap();
    assert_eq!((pass.files, pass.errors, pass.threads), (6, 1, 1));
    assert!(pass.seconds > 0.0 && pass.files_per_s() > 0.0);
    for (i, m) in expected.iter().enumerate() {
        let row = pass.rows.iter().find(|r| r.piece == i.to_string()).unwrap();
        // Bit for bit, NaN included.
        let got = row.metrics.as_ref().unwrap();
        assert_eq!(format!("{got:?}"), format!("{m:?}"));
    }
}
