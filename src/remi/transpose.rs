//! Training augmentations on tokens. Transposition: shift every Pitch by k and every chord root
//! by k (mod 12); refused (None) when a pitch would leave 21..108. Tempo shift (the symbolic
//! form of time stretching): move every Tempo by k bins of 4 BPM, clamped to 32..224.

use super::vocab::{MAX_PITCH, MAX_TEMPO, MIN_PITCH, MIN_TEMPO, TEMPO_STEP, Token, Vocab};

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

pub fn shift_tempo(tokens: &[u16], k: i32) -> Vec<u16> {
    let step = TEMPO_STEP as i32;
    tokens
        .iter()
        .map(|&id| match Vocab::token(id) {
            Some(Token::Tempo(bpm)) => {
                let shifted = (bpm as i32 + k * step).clamp(MIN_TEMPO as i32, MAX_TEMPO as i32);
                Vocab::id(&Token::Tempo(shifted as u16))
            }
            _ => id,
        })
        .collect()
}
