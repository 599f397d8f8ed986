//! Transformer-XL as a [`NextToken`] model: cached (one step through the XL memory) and naive
//! (recompute the whole context every step; for tests and the benchmark).

use anyhow::{Context, Result, bail};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use std::path::{Path, PathBuf};

use super::decode::NextToken;
use crate::model::{Memory, TransformerXl};

fn to_tensor<B: Backend>(tokens: &[u16], batch: usize, device: &B::Device) -> Tensor<B, 2, Int> {
    let t = tokens.len() / batch;
    let data: Vec<i64> = tokens.iter().map(|&x| x as i64).collect();
    Tensor::<B, 2, Int>::from_data(TensorData::new(data, [batch, t]), device)
}

fn last_logits<B: Backend>(logits: Tensor<B, 3>) -> Result<Vec<f32>> {
    let [b, t, v] = logits.dims();
    let last = logits.slice([0..b, t - 1..t, 0..v]).reshape([b, v]);
    last.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("logits: {e:?}"))
}

/// Cached decoding: each `feed` runs only the new tokens, attending to the XL memory.
pub struct CachedXl<'a, B: Backend> {
    pub model: &'a TransformerXl<B>,
    pub device: B::Device,
}

impl<'a, B: Backend> CachedXl<'a, B> {
    pub fn new(model: &'a TransformerXl<B>, device: B::Device) -> Result<Self> {
        if model.mem_len == 0 {
            bail!("cached decoding needs a model with mem_len > 0 (the memory is the context)");
        }
        Ok(CachedXl { model, device })
    }
}

impl<B: Backend> NextToken for CachedXl<'_, B> {
    type State = Option<Memory<B>>;

    fn vocab_size(&self) -> usize {
        self.model.vocab_size()
    }

    fn init_state(&self, _batch: usize) -> Self::State {
        None
    }

    fn feed(&self, tokens: &[u16], batch: usize, state: &mut Self::State) -> Result<Vec<f32>> {
        let x = to_tensor::<B>(tokens, batch, &self.device);
        let (logits, mem) = self.model.forward(x, state.as_ref());
        *state = Some(mem);
        last_logits(logits)
    }
}

/// Naive decoding: keeps every row's whole history and recomputes it without memory each step.
pub struct NaiveXl<'a, B: Backend> {
    pub model: &'a TransformerXl<B>,
    pub device: B::Device,
}

impl<B: Backend> NextToken for NaiveXl<'_, B> {
    /// Row-major `[batch, t]` history and `t`.
    type State = (Vec<Vec<u16>>, usize);

    fn vocab_size(&self) -> usize {
        self.model.vocab_size()
    }

    fn init_state(&self, batch: usize) -> Self::State {
        (vec![Vec::new(); batch], 0)
    }

    fn feed(&self, tokens: &[u16], batch: usize, state: &mut Self::State) -> Result<Vec<f32>> {
        let t = tokens.len() / batch;
        for (b, row) in state.0.iter_mut().enumerate() {
            row.extend_from_slice(&tokens[b * t..(b + 1) * t]);
        }
        state.1 += t;
        let flat: Vec<u16> = state.0.concat();
        let (logits, _) = self
            .model
            .forward(to_tensor::<B>(&flat, batch, &self.device), None);
        last_logits(logits)
    }
}

/// A checkpoint loaded for generation.
pub struct LoadedModel<B: Backend> {
    pub model: TransformerXl<B>,
    /// The checkpoint folder actually used (the newest when given a train folder).
    pub path: PathBuf,
    pub fingerprint: String,
}

/// Load a checkpoint folder, a `checkpoints` folder or a train output folder (newest checkpoint).
pub fn load_checkpoint<B: Backend>(path: &Path, device: &B::Device) -> Result<LoadedModel<B>> {
    let ckpt = crate::train::checkpoint::resolve(path)?;
    let fingerprint = crate::train::checkpoint::fingerprint(&ckpt)?;
    let (model, _) = crate::train::checkpoint::load_model::<B>(&ckpt, device)
        .with_context(|| format!("loading checkpoint {}", ckpt.display()))?;
    Ok(LoadedModel {
        model,
        path: ckpt,
        fingerprint,
    })
}
