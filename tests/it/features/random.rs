//! Every feature against the plain implementation in `brute` on random pieces.

use cadenza::features::{Feature, features};
use cadenza::rng::Rng;

use super::brute::{self, random_notes};

#[test]
fn every_feature_agrees_with_the_plain_implementation_on_random_pieces() {
    let mut rng = Rng::new(20261129);
    let mut defined = std::collections::BTreeMap::<&str, usize>::new();
    let mut repeating = 0;
    for case in 0..400 {
        let notes = random_notes(&mut rng);
        let ours = features(&notes);
        for (name, want) in brute::all(&notes) {
            let f = Feature::parse(name).unwrap();
            let got = ours[f];
            let same =
                (got.is_nan() && want.is_nan()) || (got - want).abs() <= 1e-9 * want.abs().max(1.0);
            assert!(same, "case {case} {name}: {got} vs {want}");
            *defined.entry(name).or_default() += usize::from(!want.is_nan());
        }
        repeating += usize::from(ours[Feature::RepeatedBarShare] > 0.0);
    }
    // Every feature was compared on defined values, not only on NaN.
    assert_eq!(defined.len(), Feature::ALL.len());
    // density_drift needs 16 bars, which about half the pieces have.
    for (name, n) in defined {
        assert!(n > 150, "{name} defined in only {n} of 400 pieces");
    }
    assert!(repeating > 50, "only {repeating} pieces repeat a bar");
}
