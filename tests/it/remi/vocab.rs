//! The vocabulary layout, names and vocab.json.

use cadenza::remi::{BAR, BOS, Chord, EOS, PAD, Quality, Token, Vocab, tempo_bin, vocab_json};

#[test]
fn specials_and_size() {
    assert_eq!((PAD, BOS, EOS, BAR), (0, 1, 2, 3));
    assert_eq!(Vocab::token(0), Some(Token::Pad));
    assert_eq!(Vocab::token(3), Some(Token::Bar));
    // 4 specials + 16 positions + (12 x 11 + 1) chords + 49 tempos + 88 pitches + 32 + 64.
    assert_eq!(Vocab::SIZE, 4 + 16 + 133 + 49 + 88 + 32 + 64);
    assert_eq!(Vocab::len(), Vocab::SIZE);
    assert_eq!(Vocab::token(Vocab::SIZE as u16), None);
}

#[test]
fn ids_and_tokens_are_a_bijection_and_names_parse_back() {
    let mut names = std::collections::HashSet::new();
    for id in 0..Vocab::SIZE as u16 {
        let t = Vocab::token(id).unwrap();
        assert_eq!(Vocab::id(&t), id);
        let name = t.to_string();
        assert_eq!(Vocab::parse(&name), Some(t), "{name}");
        assert!(names.insert(name));
    }
}

#[test]
fn names_follow_the_spec() {
    let name = |t: Token| Vocab::name(Vocab::id(&t));
    assert_eq!(name(Token::Position(3)), "Position_3");
    assert_eq!(
        name(Token::Chord(Chord::Rooted {
            root: 9,
            quality: Quality::Major7
        })),
        "Chord_A_M7"
    );
    assert_eq!(
        name(Token::Chord(Chord::Rooted {
            root: 1,
            quality: Quality::HalfDiminished7
        })),
        "Chord_C#_/o7"
    );
    assert_eq!(name(Token::Chord(Chord::N)), "Chord_N");
    assert_eq!(name(Token::Tempo(120)), "Tempo_120");
    assert_eq!(name(Token::Pitch(60)), "Pitch_60");
    assert_eq!(name(Token::Velocity(20)), "Velocity_20");
    assert_eq!(name(Token::Duration(8)), "Duration_8");
    for bad in [
        Token::Pitch(20),
        Token::Pitch(109),
        Token::Tempo(30),
        Token::Tempo(122),
        Token::Duration(0),
        Token::Duration(65),
        Token::Velocity(32),
        Token::Position(16),
    ] {
        assert_eq!(Vocab::try_id(&bad), None, "{bad:?}");
    }
}

#[test]
fn vocab_json_maps_every_id_to_its_name() {
    let v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&vocab_json()).unwrap();
    assert_eq!(v.len(), Vocab::SIZE);
    assert_eq!(v["0"], "Pad");
    assert_eq!(v["3"], "Bar");
    let a_m7 = Vocab::id(&Token::Chord(Chord::Rooted {
        root: 9,
        quality: Quality::Major7,
    }));
    assert_eq!(v[&a_m7.to_string()], "Chord_A_M7");
}

#[test]
fn chord_markers_parse_with_the_bass_dropped() {
    assert_eq!(
        Chord::from_marker("A_M7_A"),
        Some(Chord::Rooted {
            root: 9,
            quality: Quality::Major7
        })
    );
    assert_eq!(
        Chord::from_marker("D_+_A#"),
        Some(Chord::Rooted {
            root: 2,
            quality: Quality::Augmented
        })
    );
    assert_eq!(
        Chord::from_marker("A#_/o7_E"),
        Some(Chord::Rooted {
            root: 10,
            quality: Quality::HalfDiminished7
        })
    );
    assert_eq!(Chord::from_marker("N_N_N"), Some(Chord::N));
    assert_eq!(Chord::from_marker("H_M_H"), None);
    assert_eq!(Chord::from_marker("C_dim9_C"), None);
    assert_eq!(
        Chord::Rooted {
            root: 1,
            quality: Quality::Minor
        }
        .marker_text(),
        "C#_m_C#"
    );
}

#[test]
fn tempo_bins_clamp_and_round_to_four() {
    assert_eq!(tempo_bin(5.0), 32);
    assert_eq!(tempo_bin(2000.0), 224);
    assert_eq!(tempo_bin(120.0), 120);
    assert_eq!(tempo_bin(121.9), 120);
    assert_eq!(tempo_bin(122.0), 124); // half-way rounds up
    assert_eq!(tempo_bin(35.99999), 36);
}
