//! Transposition shifts pitches and chord roots, and refuses shifts that leave 21..108.

use cadenza::remi::{self, BAR, BOS, Chord, EOS, Quality, Token, Vocab};

fn id(t: Token) -> u16 {
    Vocab::id(&t)
}

fn seq(low: u8, high: u8) -> Vec<u16> {
    vec![
        BOS,
        BAR,
        id(Token::Position(0)),
        id(Token::Chord(Chord::Rooted {
            root: 11,
            quality: Quality::Minor7,
        })), // B m7
        id(Token::Tempo(100)),
        id(Token::Pitch(low)),
        id(Token::Velocity(5)),
        id(Token::Duration(3)),
        id(Token::Pitch(high)),
        id(Token::Velocity(6)),
        id(Token::Duration(4)),
        id(Token::Position(4)),
        id(Token::Chord(Chord::N)),
        EOS,
    ]
}

#[test]
fn shifts_pitches_and_chord_roots() {
    let up = remi::transpose(&seq(40, 70), 3).unwrap();
    let expected: Vec<u16> = seq(43, 73)
        .into_iter()
        .map(|t| match Vocab::token(t) {
            // B (11) + 3 wraps to D (2); N stays N.
            Some(Token::Chord(Chord::Rooted { quality, .. })) => {
                id(Token::Chord(Chord::Rooted { root: 2, quality }))
            }
            _ => t,
        })
        .collect();
    assert_eq!(up, expected);
    remi::validate(&up).unwrap();
    assert_eq!(remi::transpose(&up, -3).unwrap(), seq(40, 70));
    assert_eq!(remi::transpose(&seq(40, 70), 0).unwrap(), seq(40, 70));
    let down = remi::transpose(&seq(40, 70), -13).unwrap();
    assert_eq!(Vocab::token(down[5]), Some(Token::Pitch(27)));
    assert_eq!(
        Vocab::token(down[3]),
        Some(Token::Chord(Chord::Rooted {
            root: 10,
            quality: Quality::Minor7
        }))
    );
}

#[test]
fn refuses_shifts_that_leave_the_piano_range() {
    let s = seq(21, 108);
    assert!(remi::transpose(&s, 1).is_none());
    assert!(remi::transpose(&s, -1).is_none());
    assert!(remi::transpose(&seq(25, 100), 8).is_some());
    assert!(remi::transpose(&seq(25, 100), 9).is_none());
    assert!(remi::transpose(&seq(25, 100), -4).is_some());
    assert!(remi::transpose(&seq(25, 100), -5).is_none());
}

#[test]
fn tempo_shift_moves_tempos_by_whole_bins_and_clamps() {
    let tempo = |bpm| id(Token::Tempo(bpm));
    let up = remi::shift_tempo(&seq(40, 70), 3);
    // Tempo(100) moves 3 bins of 4 BPM; nothing else changes.
    let want: Vec<u16> = seq(40, 70)
        .into_iter()
        .map(|t| if t == tempo(100) { tempo(112) } else { t })
        .collect();
    assert_eq!(up, want);
    assert_eq!(remi::shift_tempo(&up, -3), seq(40, 70));
    assert_eq!(remi::shift_tempo(&seq(40, 70), 0), seq(40, 70));
    // Clamped to the vocabulary's 32..224 BPM.
    assert_eq!(remi::shift_tempo(&[tempo(220)], 5), vec![tempo(224)]);
    assert_eq!(remi::shift_tempo(&[tempo(36)], -5), vec![tempo(32)]);
}
