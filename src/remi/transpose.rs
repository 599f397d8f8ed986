//! Transposition (training augmentation): shift every Pitch by k and every chord root by k
//! (mod 12). Refused (None) when a pitch would leave 21..108.

use super::vocab::{MAX_PITCH, MIN_PITCH, Token, Vocab};

pub fn transpose(tokens: &[u16], k: i32) -> Option<Vec<u16>> {
    tokens
        .iter()
        .map(|&id| match Vocab::token(id) {
            Some(Token::Pitch(p)) => {
                let q = p as i32 + k;
                (MIN_PITCH as i32..=MAX_PITCH as i32)
                    .contains(&q)
                    .then(|| Vocab::id(&Token::Pitch(q as u8)))
            }
            Some(Token::Chord(c)) => Some(Vocab::id(&Token::Chord(c.transposed(k)))),
            _ => Some(id),
        })
        .collect()
}
