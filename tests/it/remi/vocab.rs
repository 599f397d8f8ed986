//! The vocabulary layout, names and vocab.json.

use cadenza::remi::{
    BAR, BOS, Chord, EOS, PAD, Quality, Token, Vocab, tempo_bin, tokenizer_json, vocab_json,
};

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

/// tokenizer.json's name -> id map is vocab.json's inverse, and its parameters are those the
/// encoder uses: every Pitch, Velocity, Duration and Tempo value they name has an id.
#[test]
fn tokenizer_json_maps_names_to_ids_with_the_encoder_parameters() {
    let t: serde_json::Value = serde_json::from_str(&tokenizer_json()).unwrap();
    let by_id: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&vocab_json()).unwrap();
    let vocab = t["vocab"].as_object().unwrap();
    assert_eq!(vocab.len(), Vocab::SIZE);
    assert_eq!(t["vocab_size"], Vocab::SIZE);
    for (name, id) in vocab {
        assert_eq!(by_id[&id.to_string()], name.as_str());
        assert_eq!(
            Vocab::parse(name).map(|t| Vocab::id(&t)),
            Some(id.as_u64().unwrap() as u16)
        );
    }
    assert_eq!(vocab["Bos"], BOS);
    let p = &t["params"];
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    let (lo, hi) = (n(&p["pitch_range"][0]), n(&p["pitch_range"][1]));
    assert_eq!(
        vocab.keys().filter(|k| k.starts_with("Pitch_")).count() as u64,
        hi - lo
    );
    assert!(
        vocab.contains_key(&format!("Pitch_{lo}"))
            && vocab.contains_key(&format!("Pitch_{}", hi - 1))
    );
    let velocities = vocab.keys().filter(|k| k.starts_with("Velocity_")).count() as u64;
    assert_eq!(velocities, n(&p["num_velocities"]));
    let positions = vocab.keys().filter(|k| k.starts_with("Position_")).count() as u64;
    assert_eq!(positions, n(&p["positions_per_bar"]));
    assert_eq!(positions, 4 * n(&p["beat_res"]["0_4"]));
    let (t0, t1, step) = (
        n(&p["tempo_range"][0]),
        n(&p["tempo_range"][1]),
        n(&p["tempo_step"]),
    );
    let tempos = vocab.keys().filter(|k| k.starts_with("Tempo_")).count() as u64;
    assert_eq!(tempos, (t1 - t0) / step + 1);
    assert_eq!(tempos, n(&p["num_tempos"]));
    let durations = vocab.keys().filter(|k| k.starts_with("Duration_")).count() as u64;
    assert_eq!(durations, n(&p["durations"][1]));
    // Duration_8 is one beat: 8 units of an eighth of a beat.
    assert_eq!(p["duration_unit_beats"].as_f64().unwrap() * 8.0, 1.0);
    assert_eq!(Vocab::parse("Duration_8"), Some(Token::Duration(8)));
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
