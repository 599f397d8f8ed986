//! Training and validation batches: B token streams cut into `tgt_len` segments.
//!
//! Each of the B streams is an endless concatenation of songs. Songs are dealt to the streams
//! from one shuffled order per epoch (stream 0 first, then 1, ...), each with a random
//! transposition drawn from [-transpose, +transpose] semitones (a shift that leaves the pitch
//! range falls back to the original key) and a random tempo shift of [-tempo_shift,
//! +tempo_shift] bins ([`Augment`]). Because every song starts with Bos and ends with Eos,
//! the memory is *not* reset at song boundaries: as with the articles of WikiText-103 in the
//! Transformer-XL paper, the model sees the previous song in its memory and learns that Bos
//! starts afresh. The memory of stream b is always the past of stream b, so it stays exact.
//! With `train.memory_across_songs = false`, [`SongPositions`] gives each token's position in
//! its song, and the model's attention does not reach past the song's Bos (the memory is
//! emptied where a song starts, as in the Pop Music Transformer's code, where songs never
//! share a segment).

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::model::Lookback;
use crate::rng::Rng;
use crate::shards::Split;

/// The token sequences of the train and the valid split in the shards of `tokens_dir`; refuses
/// shards with ids outside a vocabulary of `vocab_size`.
pub fn split_songs(tokens_dir: &Path, vocab_size: usize) -> Result<(Vec<Vec<u16>>, Vec<Vec<u16>>)> {
    let songs = crate::shards::read_shards(tokens_dir).with_context(|| {
        format!(
            "cannot read token shards in {} (run `pipeline run tokenize`)",
            tokens_dir.display()
        )
    })?;
    if let Some(bad) = songs
        .iter()
        .flat_map(|s| &s.tokens)
        .find(|&&t| t as usize >= vocab_size)
    {
        anyhow::bail!(
            "token id {bad} in {} is outside the REMI vocabulary ({vocab_size} ids): re-run `pipeline run tokenize --force`",
            tokens_dir.display()
        );
    }
    let pick = |split: Split| {
        songs
            .iter()
            .filter(|s| s.split == split)
            .map(|s| s.tokens.clone())
            .collect::<Vec<_>>()
    };
    let (train, valid) = (pick(Split::Train), pick(Split::Valid));
    anyhow::ensure!(
        !train.is_empty(),
        "no train-split songs in {}",
        tokens_dir.display()
    );
    Ok((train, valid))
}

/// Transposes a song's tokens by k semitones; `None` when a pitch leaves the range.
pub type Transposer = fn(&[u16], i32) -> Option<Vec<u16>>;
/// Moves a song's tempo tokens by k bins (clamped to the vocabulary).
pub type TempoShifter = fn(&[u16], i32) -> Vec<u16>;

/// The per-song augmentations, each drawn per song and epoch from the loader's generator:
/// a transposition in [-transpose, +transpose] semitones, then a tempo shift in
/// [-tempo_shift, +tempo_shift] bins. A range of 0 draws nothing.
#[derive(Clone, Copy)]
pub struct Augment {
    pub transpose: i32,
    pub transposer: Transposer,
    pub tempo_shift: i32,
    pub tempo_shifter: TempoShifter,
}

/// One segment per stream: `inputs[b * len + t]`, `targets` = inputs shifted by one.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub batch: usize,
    pub len: usize,
    pub inputs: Vec<i32>,
    pub targets: Vec<i32>,
}

impl Batch {
    pub fn tokens(&self) -> usize {
        self.batch * self.len
    }
}

/// Where the loader stands: enough to continue exactly after a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoaderState {
    pub rng: Rng,
    pub epoch: u64,
    order: Vec<u32>,
    next: usize,
    /// Pending tokens of each stream; the first one is the next segment's first input.
    streams: Vec<Vec<u16>>,
}

#[derive(Clone)]
pub struct StreamLoader<'a> {
    songs: &'a [Vec<u16>],
    tgt_len: usize,
    augment: Augment,
    pub state: LoaderState,
}

impl<'a> StreamLoader<'a> {
    pub fn new(
        songs: &'a [Vec<u16>],
        batch: usize,
        tgt_len: usize,
        augment: Augment,
        seed: u64,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            songs.iter().any(|s| s.len() > 1),
            "no training song has more than one token"
        );
        let state = LoaderState {
            rng: Rng::new(seed),
            epoch: 0,
            order: Vec::new(),
            next: 0,
            streams: vec![Vec::new(); batch],
        };
        Ok(StreamLoader {
            songs,
            tgt_len,
            augment,
            state,
        })
    }

    /// Continue from a saved state (same songs, same settings).
    pub fn resume(mut self, state: LoaderState) -> anyhow::Result<Self> {
        anyhow::ensure!(
            state.streams.len() == self.state.streams.len()
                && state.order.iter().all(|&i| (i as usize) < self.songs.len()),
            "checkpointed data position does not fit these songs / batch size"
        );
        self.state = state;
        Ok(self)
    }

    pub fn next_batch(&mut self) -> Batch {
        let (b, t) = (self.state.streams.len(), self.tgt_len);
        let mut inputs = Vec::with_capacity(b * t);
        let mut targets = Vec::with_capacity(b * t);
        for s in 0..b {
            while self.state.streams[s].len() < t + 1 {
                let song = self.next_song();
                self.state.streams[s].extend_from_slice(&song);
            }
            let stream = &mut self.state.streams[s];
            inputs.extend(stream[..t].iter().map(|&x| x as i32));
            targets.extend(stream[1..=t].iter().map(|&x| x as i32));
            stream.drain(..t);
        }
        Batch {
            batch: b,
            len: t,
            inputs,
            targets,
        }
    }

    fn next_song(&mut self) -> Vec<u16> {
        let st = &mut self.state;
        if st.next >= st.order.len() {
            st.order = (0..self.songs.len() as u32).collect();
            st.rng.shuffle(&mut st.order);
            st.next = 0;
            st.epoch += 1;
        }
        let song = &self.songs[st.order[st.next] as usize];
        st.next += 1;
        let a = self.augment;
        let mut draw = |range: i32| {
            if range > 0 {
                st.rng.range_i64(-(range as i64), range as i64) as i32
            } else {
                0
            }
        };
        let (k, tempo) = (draw(a.transpose), draw(a.tempo_shift));
        let song = match k {
            0 => song.clone(),
            k => (a.transposer)(song, k).unwrap_or_else(|| song.clone()),
        };
        match tempo {
            0 => song,
            t => (a.tempo_shifter)(&song, t),
        }
    }
}

/// Validation segments: the songs concatenated in order, split into `batch` contiguous streams
/// of equal length (at most `max_tokens` in all), cut into segments of `tgt_len` (the last one
/// shorter). Run them in order with the memory carried.
pub fn valid_batches(
    songs: &[Vec<u16>],
    batch: usize,
    tgt_len: usize,
    max_tokens: usize,
) -> Vec<Batch> {
    let all: Vec<u16> = songs.iter().flatten().copied().collect();
    let usable = all.len().min(max_tokens + batch);
    let per_stream = usable / batch.max(1);
    if per_stream < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start + 1 < per_stream {
        let len = tgt_len.min(per_stream - 1 - start);
        let mut inputs = Vec::with_capacity(batch * len);
        let mut targets = Vec::with_capacity(batch * len);
        for b in 0..batch {
            let s = &all[b * per_stream..(b + 1) * per_stream];
            inputs.extend(s[start..start + len].iter().map(|&x| x as i32));
            targets.extend(s[start + 1..start + len + 1].iter().map(|&x| x as i32));
        }
        out.push(Batch {
            batch,
            len,
            inputs,
            targets,
        });
        start += len;
    }
    out
}

/// Each stream's position in its current song (tokens since its Bos), carried from segment to
/// segment: the [`Lookback`] that keeps attention inside one song.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SongPositions {
    /// Per stream: the position of the last token of the previous segment.
    last: Vec<u32>,
}

impl SongPositions {
    /// Before the first segment no stream has a past, so the lookback is the whole window
    /// until a Bos.
    pub fn new(streams: usize) -> Self {
        SongPositions {
            last: vec![u32::MAX; streams],
        }
    }

    /// The position of each input of `batch` in its song (0 at `bos`), as a lookback.
    pub fn lookback(&mut self, batch: &Batch, bos: u16) -> Lookback {
        let mut out = Vec::with_capacity(batch.tokens());
        for (stream, last) in batch.inputs.chunks(batch.len).zip(&mut self.last) {
            for &token in stream {
                *last = if token == bos as i32 {
                    0
                } else {
                    last.saturating_add(1)
                };
                out.push(*last);
            }
        }
        Lookback(out.into())
    }
}

/// Entropy (nats) of the unigram token distribution of `songs`.
pub fn unigram_entropy(songs: &[Vec<u16>]) -> f64 {
    let mut counts = std::collections::HashMap::<u16, u64>::new();
    for &t in songs.iter().flatten() {
        *counts.entry(t).or_default() += 1;
    }
    let total: u64 = counts.values().sum();
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(tokens: &[u16], k: i32) -> Option<Vec<u16>> {
        Some(
            tokens
                .iter()
                .map(|&t| (t as i32 + k + 100) as u16)
                .collect(),
        )
    }

    #[test]
    fn streams_are_contiguous_and_resume_exactly() {
        let songs: Vec<Vec<u16>> = (0..5u16)
            .map(|i| (0..(3 + i * 2)).map(|t| t + 10 * i).collect())
            .collect();
        let augment = Augment {
            transpose: 2,
            transposer: up,
            tempo_shift: 1,
            tempo_shifter: |t, k| t.iter().map(|&x| (x as i32 + 1000 * k) as u16).collect(),
        };
        let mut a = StreamLoader::new(&songs, 2, 4, augment, 9).unwrap();
        let first = a.next_batch();
        let saved = a.state.clone();
        let rest: Vec<Batch> = (0..6).map(|_| a.next_batch()).collect();
        let mut b = StreamLoader::new(&songs, 2, 4, augment, 9)
            .unwrap()
            .resume(saved)
            .unwrap();
        let again: Vec<Batch> = (0..6).map(|_| b.next_batch()).collect();
        assert_eq!(rest, again);
        // Both augmentations were drawn: transposed (+100 ± k) and tempo-shifted (± 1000).
        let seen: Vec<i32> = rest.iter().flat_map(|b| b.inputs.clone()).collect();
        assert!(seen.iter().any(|&x| x >= 1000) && seen.iter().any(|&x| x < 1000));
        // Targets are the inputs shifted by one within a stream, across segments too.
        assert_eq!(&first.targets[0..3], &first.inputs[1..4]);
        assert_eq!(first.targets[3], rest[0].inputs[0]);
    }

    #[test]
    fn valid_batches_cover_streams_in_order() {
        let songs = vec![(0..21u16).collect::<Vec<_>>()];
        let v = valid_batches(&songs, 2, 4, 1000);
        // 21 tokens -> 2 streams of 10 -> 9 targets each: segments of 4, 4, 1.
        assert_eq!(v.iter().map(|b| b.len).collect::<Vec<_>>(), vec![4, 4, 1]);
        assert_eq!(v[0].inputs, vec![0, 1, 2, 3, 10, 11, 12, 13]);
        assert_eq!(v[2].targets, vec![9, 19]);
        let h = unigram_entropy(&[vec![1, 2, 1, 2]]);
        assert!((h - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn song_positions_restart_at_bos_and_carry_across_segments() {
        let batch = |inputs: Vec<i32>| Batch {
            batch: 2,
            len: 3,
            targets: inputs.clone(),
            inputs,
        };
        let mut songs = SongPositions::new(2);
        let first = songs.lookback(&batch(vec![5, 1, 7, 1, 8, 9]), 1);
        assert_eq!(&first.0[..], &[u32::MAX, 0, 1, 0, 1, 2]);
        let second = songs.lookback(&batch(vec![4, 4, 1, 6, 1, 6]), 1);
        assert_eq!(&second.0[..], &[2, 3, 0, 3, 0, 1]);
    }
}
