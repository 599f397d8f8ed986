//! `pipeline bench window`: which decoder window suits the trained model. On the same valid-split
//! tokens (each song from its Bos, cut to one length), the per-token loss of
//! - the training evaluation: segments of `tgt_len` with the XL memory, as training sees songs;
//! - the cached decoder, teacher-forced one token at a time as generation sees the context, with
//!   a window of `mem_len + 1` keys and of `mem_len + tgt_len` keys.
//!
//! The windows differ only past the first `mem_len + 1` positions, so that span is reported
//! apart, with a 95 % interval of the paired per-song difference.

use anyhow::{Result, bail};
use std::fmt::Write;
use std::path::Path;

use crate::model::{Checkpoint, CpuBackend, KvDecoder, NextToken, TransformerXl, Window};
use crate::train::loader::{Batch, split_songs};
use crate::train::trainer::evaluate;

/// Valid songs of at least `len` tokens (at most `songs` of them), cut to `len`.
fn valid_rows(tokens_dir: &Path, vocab: usize, songs: usize, len: usize) -> Result<Vec<Vec<u16>>> {
    let (_, valid) = split_songs(tokens_dir, vocab)?;
    let rows: Vec<Vec<u16>> = valid
        .into_iter()
        .filter(|s| s.len() >= len)
        .take(songs)
        .map(|s| s[..len].to_vec())
        .collect();
    if rows.is_empty() {
        bail!(
            "no valid-split song in {} has {len} tokens",
            tokens_dir.display()
        );
    }
    Ok(rows)
}

/// Per song, the summed loss (nats) of the targets 1..len, teacher-forced through `decoder`.
fn decoder_losses<M: NextToken>(decoder: &M, rows: &[Vec<u16>]) -> Result<Vec<Vec<f64>>> {
    let (batch, len, vocab) = (rows.len(), rows[0].len(), decoder.vocab_size());
    let mut state = decoder.init_state(batch);
    let mut losses = vec![Vec::with_capacity(len - 1); batch];
    for t in 0..len - 1 {
        let col: Vec<u16> = rows.iter().map(|r| r[t]).collect();
        let logits = decoder.feed(&col, batch, &mut state)?;
        for (b, row) in rows.iter().enumerate() {
            let l = &logits[b * vocab..(b + 1) * vocab];
            let max = l.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
            let sum: f64 = l.iter().map(|&x| (x as f64 - max).exp()).sum();
            losses[b].push(max + sum.ln() - l[row[t + 1] as usize] as f64);
        }
    }
    Ok(losses)
}

/// The training evaluation's mean loss over the same targets (one stream per song).
fn segment_loss(model: &TransformerXl<CpuBackend>, rows: &[Vec<u16>], tgt_len: usize) -> f64 {
    let len = rows[0].len();
    let batches: Vec<Batch> = (0..len - 1)
        .step_by(tgt_len)
        .map(|start| {
            let n = tgt_len.min(len - 1 - start);
            let cut = |off: usize| -> Vec<i32> {
                rows.iter()
                    .flat_map(|r| r[start + off..start + off + n].iter().map(|&x| x as i32))
                    .collect()
            };
            Batch {
                batch: rows.len(),
                len: n,
                inputs: cut(0),
                targets: cut(1),
            }
        })
        .collect();
    evaluate(model, &batches, false, &Default::default()).unwrap_or(f64::NAN)
}

/// Mean and 95 % half-width of per-song values.
fn mean_ci(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, 1.96 * (var / n).sqrt())
}

/// The report for the newest checkpoint in `train_dir`, on `songs` valid songs cut to `len`.
pub fn report(train_dir: &Path, tokens_dir: &Path, songs: usize, len: usize) -> Result<String> {
    let ckpt = Checkpoint::resolve(train_dir)?;
    let cfg = ckpt.model_config()?;
    let model = ckpt.load_model::<CpuBackend>(&Default::default())?;
    let rows = valid_rows(tokens_dir, cfg.vocab_size, songs, len)?;
    let split = cfg.mem_len + 1; // positions before it see the same keys in both windows
    let mut out = format!(
        "decoder window ({}, mem_len {}, tgt_len {}): {} valid songs × {len} tokens, teacher-forced\n",
        ckpt.name(),
        cfg.mem_len,
        cfg.tgt_len,
        rows.len()
    );
    let targets = (rows.len() * (len - 1)) as f64;
    writeln!(
        out,
        "  training evaluation (segments of {} with memory): {:.4} nats/token",
        cfg.tgt_len,
        segment_loss(&model, &rows, cfg.tgt_len)
    )?;
    let mut late = Vec::new();
    for window in [Window::Memory, Window::Segment] {
        let decoder = KvDecoder::new(&model, cfg.tgt_len, window)?;
        let losses = decoder_losses(&decoder, &rows)?;
        let all: f64 = losses.iter().flatten().sum::<f64>() / targets;
        let per_song: Vec<f64> = losses
            .iter()
            .map(|l| l[split..].iter().sum::<f64>() / (l.len() - split).max(1) as f64)
            .collect();
        let (m, ci) = mean_ci(&per_song);
        writeln!(
            out,
            "  cached decoder, window {} = {} keys: {all:.4} nats/token; past position {split}: {m:.4} ± {ci:.4}",
            window.name(),
            window.keys(cfg.mem_len, cfg.tgt_len),
        )?;
        late.push(per_song);
    }
    let diff: Vec<f64> = late[1].iter().zip(&late[0]).map(|(s, m)| s - m).collect();
    let (d, ci) = mean_ci(&diff);
    writeln!(
        out,
        "  mem_len+tgt_len − mem_len+1, past position {split}: {d:+.4} ± {ci:.4} nats/token (paired over songs){}",
        if d.abs() > ci {
            ""
        } else {
            " — within the interval"
        }
    )?;
    Ok(out)
}
