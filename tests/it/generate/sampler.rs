//! Samplers on logits: top-k = 1 is greedy, top-p keeps the smallest set over p, typical-p and
//! min-p keep what their definitions keep, temperature scales log-odds, the mask is obeyed;
//! a family's override changes only that family's probabilities.

use cadenza::generate::distribution::{distribution, sample};
use cadenza::generate::{Family, FamilySettings, PiecePitches, SamplerConfig};
use cadenza::remi::Vocab;
use cadenza::rng::Rng;

/// A piece with no notes yet: the pitch prior has nothing to say.
fn none() -> PiecePitches {
    PiecePitches::default()
}

fn random_logits(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.next_f64() * 8.0 - 4.0) as f32)
        .collect()
}

#[test]
fn top_k_one_is_greedy_under_the_mask() {
    let mut rng = Rng::new(1);
    for trial in 0..200 {
        let logits = random_logits(&mut rng, 50);
        let mask: Vec<bool> = (0..50).map(|i| (i + trial) % 3 != 0).collect();
        let greedy = (0..50)
            .filter(|&i| mask[i])
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .unwrap();
        for t in [0.5, 1.0, 3.0] {
            let s = SamplerConfig::new("g", t, 1, 1.0);
            let mut r = Rng::new(trial as u64);
            assert_eq!(
                sample(&logits, &mask, &s, &none(), &mut r).unwrap() as usize,
                greedy
            );
        }
    }
}

#[test]
fn top_p_keeps_the_smallest_set_reaching_p() {
    // Probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625 (logits are their logs).
    let probs = [0.5f64, 0.25, 0.125, 0.0625, 0.0625];
    let logits: Vec<f32> = probs.iter().map(|p| p.ln() as f32).collect();
    let mask = vec![true; 5];
    for (p, want) in [
        (0.4, 1),
        (0.5, 1),
        (0.6, 2),
        (0.75, 2),
        (0.8, 3),
        (0.9, 4),
        (1.0, 5),
    ] {
        let d = distribution(&logits, &mask, &SamplerConfig::new("p", 1.0, 0, p), &none()).unwrap();
        assert_eq!(d.len(), want, "top_p {p}: {d:?}");
        let kept: f64 = probs[..want].iter().sum();
        for (i, &(id, q)) in d.iter().enumerate() {
            assert_eq!(id as usize, i);
            assert!((q - probs[i] / kept).abs() < 1e-6, "renormalised");
        }
    }
}

/// Probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625 as logits, with every token allowed.
fn halving() -> (Vec<f64>, Vec<f32>, Vec<bool>) {
    let probs = vec![0.5f64, 0.25, 0.125, 0.0625, 0.0625];
    let logits = probs.iter().map(|p| p.ln() as f32).collect();
    (probs, logits, vec![true; 5])
}

/// The kept ids and their renormalised probabilities against `ids` of `probs`.
fn assert_keeps(d: &[(u16, f64)], ids: &[u16], probs: &[f64], what: &str) {
    assert_eq!(
        d.iter().map(|c| c.0).collect::<Vec<_>>(),
        ids,
        "{what}: {d:?}"
    );
    let kept: f64 = ids.iter().map(|&i| probs[i as usize]).sum();
    for &(id, q) in d {
        assert!(
            (q - probs[id as usize] / kept).abs() < 1e-6,
            "{what}: renormalised"
        );
    }
}

#[test]
fn typical_p_keeps_the_tokens_nearest_the_entropy() {
    // Entropy 1.875 ln 2; surprisals ln 2 × (1, 2, 3, 4, 4): token 1 (2 ln 2) is the most
    // typical, then token 0, token 2, tokens 3 and 4.
    let (probs, logits, mask) = halving();
    for (p, ids) in [
        (0.2, vec![1u16]),
        (0.24, vec![1]),
        (0.3, vec![0, 1]),
        (0.8, vec![0, 1, 2]),
        (0.9, vec![0, 1, 2, 3]),
        (1.0, vec![0, 1, 2, 3, 4]),
    ] {
        let s = SamplerConfig {
            typical_p: p,
            ..SamplerConfig::new("typ", 1.0, 0, 1.0)
        };
        let d = distribution(&logits, &mask, &s, &none()).unwrap();
        assert_keeps(&d, &ids, &probs, &format!("typical_p {p}"));
    }
}

#[test]
fn min_p_keeps_the_tokens_over_its_share_of_the_top() {
    let (probs, logits, mask) = halving();
    for (m, ids) in [
        (0.6, vec![0u16]),
        (0.3, vec![0, 1]),
        (0.2, vec![0, 1, 2]),
        (0.13, vec![0, 1, 2]),
        (0.12, vec![0, 1, 2, 3, 4]),
        (0.0, vec![0, 1, 2, 3, 4]),
    ] {
        let s = SamplerConfig {
            min_p: m,
            ..SamplerConfig::new("min", 1.0, 0, 1.0)
        };
        let d = distribution(&logits, &mask, &s, &none()).unwrap();
        assert_keeps(&d, &ids, &probs, &format!("min_p {m}"));
    }
}

#[test]
fn temperature_scales_log_odds_and_top_k_truncates() {
    let mut rng = Rng::new(9);
    let logits = random_logits(&mut rng, 20);
    let mask = vec![true; 20];
    for t in [0.5f64, 1.0, 2.0] {
        let d = distribution(&logits, &mask, &SamplerConfig::new("t", t, 0, 1.0), &none()).unwrap();
        let p = |id: usize| d.iter().find(|c| c.0 as usize == id).unwrap().1;
        let total: f64 = d.iter().map(|c| c.1).sum();
        assert!((total - 1.0).abs() < 1e-9);
        for (a, b) in [(0, 1), (3, 7), (5, 19)] {
            let want = (logits[a] as f64 - logits[b] as f64) / t;
            assert!(((p(a) / p(b)).ln() - want).abs() < 1e-6, "t {t}");
        }
    }
    let d = distribution(
        &logits,
        &mask,
        &SamplerConfig::new("k", 1.0, 5, 1.0),
        &none(),
    )
    .unwrap();
    let mut sorted = logits.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(d.len(), 5);
    for c in &d {
        assert!(logits[c.0 as usize] >= sorted[4]);
    }
}

#[test]
fn sampling_follows_the_distribution_and_never_leaves_the_mask() {
    let logits = vec![0.0f32, 1.0, 2.0, 10.0];
    let mask = vec![true, true, true, false];
    let s = SamplerConfig::new("s", 1.0, 0, 1.0);
    let d = distribution(&logits, &mask, &s, &none()).unwrap();
    let mut rng = Rng::new(3);
    let mut counts = [0usize; 4];
    for _ in 0..20_000 {
        counts[sample(&logits, &mask, &s, &none(), &mut rng).unwrap() as usize] += 1;
    }
    assert_eq!(counts[3], 0);
    for &(id, p) in &d {
        let f = counts[id as usize] as f64 / 20_000.0;
        assert!((f - p).abs() < 0.02, "token {id}: {f} vs {p}");
    }
    assert!(
        sample(&logits, &[false; 4], &s, &none(), &mut rng).is_err(),
        "empty mask is an error"
    );
}

/// Logits over the whole REMI vocabulary, every token allowed (the grammar never allows all
/// families at once, but the sampler must not care).
fn vocab_logits(seed: u64) -> (Vec<f32>, Vec<bool>) {
    let mut rng = Rng::new(seed);
    (
        random_logits(&mut rng, Vocab::SIZE),
        vec![true; Vocab::SIZE],
    )
}

fn prob(d: &[(u16, f64)], id: usize) -> f64 {
    d.iter().find(|c| c.0 as usize == id).map_or(0.0, |c| c.1)
}

fn with_family(f: Family, o: FamilySettings) -> SamplerConfig {
    let mut s = SamplerConfig::new("f", 0.9, 0, 1.0);
    *s.family.get_mut(f) = Some(o);
    s
}

#[test]
fn a_family_override_changes_only_its_familys_probabilities() {
    let (logits, mask) = vocab_logits(21);
    let plain = distribution(
        &logits,
        &mask,
        &SamplerConfig::new("f", 0.9, 0, 1.0),
        &none(),
    )
    .unwrap();
    let overrides = [
        FamilySettings {
            temperature: Some(0.5),
            ..Default::default()
        },
        FamilySettings {
            top_k: Some(3),
            ..Default::default()
        },
        FamilySettings {
            top_p: Some(0.5),
            temperature: Some(1.7),
            ..Default::default()
        },
    ];
    for f in Family::ALL {
        for o in overrides {
            let d = distribution(&logits, &mask, &with_family(f, o), &none()).unwrap();
            let (mut mass_plain, mut mass_d, mut changed) = (0.0, 0.0, 0);
            for id in 0..Vocab::SIZE {
                let (p, q) = (prob(&plain, id), prob(&d, id));
                if Family::of(id as u16) == Some(f) {
                    mass_plain += p;
                    mass_d += q;
                    changed += usize::from((p - q).abs() > 1e-9);
                } else {
                    assert!((p - q).abs() < 1e-12, "{f:?} {o:?}: token {id} moved");
                }
            }
            assert!(changed > 0, "{f:?} {o:?}: the family's own tokens changed");
            assert!(
                (mass_plain - mass_d).abs() < 1e-9,
                "{f:?}: the family keeps its mass"
            );
        }
    }
    // Within a family, its temperature scales log-odds as a sampler's does.
    let d = distribution(
        &logits,
        &mask,
        &with_family(Family::Pitch, overrides[0]),
        &none(),
    )
    .unwrap();
    let (a, b) = (210, 250);
    let want = (logits[a] as f64 - logits[b] as f64) / 0.5;
    assert!(((prob(&d, a) / prob(&d, b)).ln() - want).abs() < 1e-6);
    // Top-k 3 of velocity keeps exactly the three likeliest velocities.
    let d = distribution(
        &logits,
        &mask,
        &with_family(Family::Velocity, overrides[1]),
        &none(),
    )
    .unwrap();
    let kept = d
        .iter()
        .filter(|c| Family::of(c.0) == Some(Family::Velocity))
        .count();
    assert_eq!(kept, 3);
}

#[test]
fn family_overrides_are_validated_by_key() {
    let mut s = with_family(
        Family::Duration,
        FamilySettings {
            top_p: Some(1.5),
            ..Default::default()
        },
    );
    let err = format!(
        "{:#}",
        s.validate_settings(&|k| format!("x.{k}")).unwrap_err()
    );
    assert!(err.contains("x.family.duration.top_p"), "{err}");
    s.family = Default::default();
    s.validate_settings(&|k| k.to_string()).unwrap();
}

/// `family.pitch = {}` sets nothing: with top-k and top-p on, the distribution and the
/// partition's fingerprint are those of the sampler without it (an override of any family used
/// to switch top-k and top-p to work inside each family).
#[test]
fn an_empty_family_override_changes_nothing() {
    let (logits, mask) = vocab_logits(5);
    let plain: SamplerConfig =
        toml::from_str("name = \"s\"\ntemperature = 0.9\ntop_k = 20\ntop_p = 0.9").unwrap();
    let empty: SamplerConfig = toml::from_str(
        "name = \"s\"\ntemperature = 0.9\ntop_k = 20\ntop_p = 0.9\nfamily.pitch = {}",
    )
    .unwrap();
    assert!(empty.family.pitch.is_some(), "the entry was read");
    assert_eq!(
        distribution(&logits, &mask, &plain, &none()).unwrap(),
        distribution(&logits, &mask, &empty, &none()).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&plain).unwrap(),
        serde_json::to_string(&empty).unwrap()
    );
    // A family that does set something still works inside the families.
    let pitch: SamplerConfig = toml::from_str(
        "name = \"s\"\ntemperature = 0.9\ntop_k = 20\ntop_p = 0.9\nfamily.pitch = { top_k = 2 }",
    )
    .unwrap();
    assert_ne!(
        distribution(&logits, &mask, &plain, &none()).unwrap(),
        distribution(&logits, &mask, &pitch, &none()).unwrap()
    );
}
