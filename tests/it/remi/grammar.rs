//! The grammar: ungrammatical sequences are refused with a useful error, `fill_mask` agrees
//! with `allows`, and random grammatical sequences (sampled through the mask, as the
//! generator does) decode to MIDI that re-encodes to the same tokens.

use cadenza::midi;
use cadenza::remi::{self, BAR, BOS, Chord, EOS, Grammar, PAD, Quality, Token, Vocab};
use cadenza::rng::Rng;

fn id(t: Token) -> u16 {
    Vocab::id(&t)
}
fn pos(p: u8) -> u16 {
    id(Token::Position(p))
}
fn note(pitch: u8) -> [u16; 3] {
    [
        id(Token::Pitch(pitch)),
        id(Token::Velocity(20)),
        id(Token::Duration(4)),
    ]
}
fn chord(root: u8, quality: Quality) -> u16 {
    id(Token::Chord(Chord::Rooted { root, quality }))
}

/// Bos Bar Pos0 Chord_C_M Tempo_120 C4 E4 Pos8 G4 Eos
fn good() -> Vec<u16> {
    let mut t = vec![
        BOS,
        BAR,
        pos(0),
        chord(0, Quality::Major),
        id(Token::Tempo(120)),
    ];
    t.extend(note(60));
    t.extend(note(64));
    t.push(pos(8));
    t.extend(note(67));
    t.push(EOS);
    t
}

#[test]
fn a_well_formed_sequence_is_accepted_and_counted() {
    let seq = good();
    remi::validate(&seq).unwrap();
    let mut g = Grammar::new();
    for &t in &seq[..seq.len() - 1] {
        g.push(t).unwrap();
    }
    assert_eq!(g.bars(), 1);
    assert!(g.bar_has_note());
    assert!(!g.is_done());
    g.push(EOS).unwrap();
    assert!(g.is_done());
    // Padding after Eos is fine, anything else is not.
    assert!(g.allows(PAD));
    assert!(!g.allows(BAR));
}

/// (what is wrong, sequence, index of the first refused token)
fn bad_cases() -> Vec<(&'static str, Vec<u16>, usize)> {
    let g = good();
    let mut cases = Vec::new();
    let mut edit = |what: &'static str, f: &dyn Fn(&mut Vec<u16>) -> usize| {
        let mut s = g.clone();
        let i = f(&mut s);
        cases.push((what, s, i));
    };
    edit("no Bos", &|s| {
        s.remove(0);
        0
    });
    edit("Position before the first Bar", &|s| {
        s.remove(1);
        1
    });
    edit("Position not increasing", &|s| {
        s[11] = pos(0); // a second Position_0 in the bar
        11
    });
    edit("Position followed by nothing", &|s| {
        s.insert(2, pos(0));
        s[3] = pos(1);
        // Bos Bar Pos0 Pos1: Pos1 comes right after Pos0
        3
    });
    edit("Chord after Tempo", &|s| {
        s.swap(3, 4);
        4
    });
    edit("two Chords at one position", &|s| {
        s.insert(4, chord(2, Quality::Minor));
        4
    });
    edit("Pitch not increasing", &|s| {
        s[8] = id(Token::Pitch(59));
        8
    });
    edit("Pitch without Velocity", &|s| {
        s.remove(6);
        6
    });
    edit("Velocity and Duration swapped", &|s| {
        s.swap(6, 7);
        6
    });
    edit("Pad inside", &|s| {
        s.insert(5, PAD);
        5
    });
    edit("Bos twice", &|s| {
        s.insert(1, BOS);
        1
    });
    edit("Tempo after a note", &|s| {
        s.insert(8, id(Token::Tempo(100)));
        8
    });
    edit("unknown id", &|s| {
        s[5] = Vocab::SIZE as u16;
        5
    });
    edit("Eos in a bar without notes", &|s| {
        let n = s.len();
        s.insert(n - 1, BAR);
        n
    });
    cases.push(("Eos right after Bos", vec![BOS, EOS], 1));
    let mut repeated_chord = vec![BOS, BAR, pos(0), chord(9, Quality::Minor7)];
    repeated_chord.extend(note(60));
    repeated_chord.extend([pos(4), chord(9, Quality::Minor7)]);
    cases.push(("same chord again", repeated_chord, 8));
    cases
}

#[test]
fn ungrammatical_sequences_are_refused_at_the_right_token() {
    for (what, seq, at) in bad_cases() {
        let err = remi::validate(&seq).expect_err(what);
        assert_eq!(err.index, at, "{what}: {err}");
        assert!(!err.context.is_empty());
        assert!(remi::decode(&seq).is_err(), "{what}: decode must refuse it");
    }
    // Incomplete sequences: validate wants Eos; decode accepts a prefix that ends on a boundary.
    let g = good();
    assert!(remi::validate(&g[..g.len() - 1]).is_err());
    assert_eq!(remi::decode(&g[..g.len() - 1]).unwrap().notes.len(), 3);
    assert!(remi::decode(&g[..7]).is_err(), "ends inside a note");
    assert!(
        remi::decode(&[BOS, BAR, pos(3)]).is_err(),
        "ends right after a Position"
    );
}

#[test]
fn a_refused_push_leaves_the_state_unchanged() {
    let mut g = Grammar::new();
    g.push(BOS).unwrap();
    assert!(g.push(pos(0)).is_err());
    g.push(BAR).unwrap();
    assert_eq!(g.bars(), 1);
}

/// Samples a grammatical sequence through `fill_mask`, checking it against `allows` at each
/// step; heads for Eos after `bars` bars.
fn sample(rng: &mut Rng, bars: u32) -> Vec<u16> {
    let mut g = Grammar::new();
    let mut mask = vec![false; Vocab::SIZE];
    let mut seq = Vec::new();
    while !g.is_done() {
        g.fill_mask(&mut mask);
        for t in 0..Vocab::SIZE as u16 {
            assert_eq!(
                mask[t as usize],
                g.allows(t),
                "mask vs allows for {} after {seq:?}",
                Vocab::name(t)
            );
        }
        let allowed: Vec<u16> = (0..Vocab::SIZE as u16)
            .filter(|&t| mask[t as usize])
            .collect();
        assert!(!allowed.is_empty(), "dead end after {seq:?}");
        let pick = if g.bars() >= bars && mask[EOS as usize] {
            EOS
        } else {
            // Favour structure over pitch runs: Bar / Position / Eos are picked often.
            let structural: Vec<u16> = allowed
                .iter()
                .copied()
                .filter(|&t| {
                    (t == BAR && g.bars() < bars)
                        || Vocab::token(t).is_some_and(|k| matches!(k, Token::Position(_)))
                })
                .collect();
            if !structural.is_empty() && rng.below(3) == 0 {
                structural[rng.below(structural.len() as u64) as usize]
            } else {
                let plain: Vec<u16> = allowed
                    .iter()
                    .copied()
                    .filter(|&t| t != BAR || g.bars() < bars)
                    .collect();
                let from = if plain.is_empty() { &allowed } else { &plain };
                from[rng.below(from.len() as u64) as usize]
            }
        };
        g.push(pick).unwrap();
        seq.push(pick);
    }
    seq
}

#[test]
fn random_grammatical_sequences_round_trip_through_midi() {
    let mut rng = Rng::new(2024);
    let mut seen = std::collections::HashMap::new();
    for i in 0..60 {
        let seq = sample(&mut rng, 1 + i % 5);
        for &t in &seq {
            let kind = std::mem::discriminant(&Vocab::token(t).unwrap());
            *seen.entry(kind).or_insert(0usize) += 1;
        }
        remi::validate(&seq).unwrap();
        let song = remi::decode(&seq).unwrap();
        let reread = midi::read_bytes(&midi::write_bytes(&song)).unwrap();
        let again = remi::encode(&reread).unwrap();
        assert_eq!(again.tokens, seq, "sequence {i}");
    }
    // The samples exercise every kind of token except Pad.
    for t in [
        BOS,
        BAR,
        EOS,
        pos(0),
        chord(0, Quality::Major),
        id(Token::Tempo(32)),
    ] {
        assert!(
            seen.contains_key(&std::mem::discriminant(&Vocab::token(t).unwrap())),
            "{}",
            Vocab::name(t)
        );
    }
    for t in note(60) {
        assert!(seen[&std::mem::discriminant(&Vocab::token(t).unwrap())] > 100);
    }
}
