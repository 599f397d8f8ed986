//! Every feature against the plain implementation in `brute` on real Pop1K7 songs, whole and
//! cut to their first 32 bars (the excerpts the summary compares generated pieces with).

use std::path::PathBuf;

use cadenza::features::{Feature, features, features_of_bars};
use cadenza::midi::Note;
use cadenza::remi::{STEPS_PER_BAR, onset_step};

use super::brute;

/// `n` songs spread over the corpus, when it is here.
fn songs(n: usize) -> Vec<(PathBuf, Vec<Note>)> {
    crate::support::corpus_files("the features on real files (features::real)", n)
        .into_iter()
        .map(|p| {
            let notes = cadenza::midi::read_file(&p).unwrap().notes;
            (p, notes)
        })
        .collect()
}

fn agree(what: &str, got: f64, want: f64) {
    let same = (got.is_nan() && want.is_nan()) || (got - want).abs() <= 1e-9 * want.abs().max(1.0);
    assert!(same, "{what}: {got} vs {want}");
}

#[test]
fn every_feature_agrees_with_the_plain_implementation_on_real_songs_whole_and_cut() {
    let songs = songs(24);
    let (mut repeating, mut drifting) = (0, 0);
    for (path, notes) in &songs {
        let first_32: Vec<Note> = notes
            .iter()
            .filter(|n| onset_step(n.start) / STEPS_PER_BAR < 32)
            .copied()
            .collect();
        let scopes = [
            ("whole", features(notes), notes.as_slice()),
            (
                "first 32 bars",
                features_of_bars(notes, 0, Some(32)),
                &first_32,
            ),
        ];
        for (scope, ours, plain_notes) in scopes {
            for (name, want) in brute::all(plain_notes) {
                let what = format!("{} ({scope}) {name}", path.display());
                agree(&what, ours[Feature::parse(name).unwrap()], want);
            }
            repeating += usize::from(ours[Feature::RepeatedBarShare] > 0.0);
            drifting += usize::from(!ours[Feature::DensityDrift].is_nan());
        }
    }
    if !songs.is_empty() {
        // Real songs repeat bars and are long enough for the drift: both were compared defined.
        assert!(repeating > 10, "only {repeating} scored songs repeat a bar");
        assert!(
            drifting > songs.len(),
            "density_drift defined only {drifting} times"
        );
    }
}
