//! The baseline "model": every step the same distribution, the token frequencies of the train
//! split. Sampled under the same grammar and bar rules as the real model, its pieces show what
//! the trained Transformer-XL adds over token statistics alone.

use anyhow::Result;

use crate::model::NextToken;
use crate::shards::{SongRecord, Split};

pub struct Unigram {
    logits: Vec<f32>,
}

impl Unigram {
    /// Log frequencies of every token in the train split (add-one smoothed).
    pub fn from_songs(songs: &[SongRecord], vocab_size: usize) -> Unigram {
        let mut counts = vec![1u64; vocab_size];
        for s in songs.iter().filter(|s| s.split == Split::Train) {
            for &t in &s.tokens {
                if let Some(c) = counts.get_mut(t as usize) {
                    *c += 1;
                }
            }
        }
        let total: u64 = counts.iter().sum();
        let logits = counts
            .iter()
            .map(|&c| (c as f64 / total as f64).ln() as f32)
            .collect();
        Unigram { logits }
    }

    /// What the pieces depend on: the distribution itself.
    pub fn fingerprint(&self) -> String {
        let bytes: Vec<u8> = self.logits.iter().flat_map(|l| l.to_le_bytes()).collect();
        format!("unigram:{}", crate::hash::sha256_hex(&bytes))
    }
}

impl NextToken for Unigram {
    type State = ();

    fn vocab_size(&self) -> usize {
        self.logits.len()
    }

    fn init_state(&self, _batch: usize) -> Self::State {}

    fn feed(&self, _tokens: &[u16], batch: usize, _state: &mut ()) -> Result<Vec<f32>> {
        Ok(self.logits.repeat(batch))
    }
}
