//! Next-token decoding, one position at a time: the [`NextToken`] interface the sampling loop
//! drives, and three Transformer-XL decoders behind it.
//!
//! - [`KvDecoder`] (generation): keeps each layer's keys and values of the last positions of
//!   its [`Window`] in a ring buffer and computes only the new position: a step costs the same
//!   at any length. A prompt goes in as training's segments of `tgt_len` with memory.
//! - [`MemoryDecoder`]: the model's own forward with the XL memory, one segment per call (it
//!   recomputes the remembered positions' keys and values every step); the reference the cached
//!   decoder must equal.
//! - [`NaiveDecoder`]: recomputes the whole history every step, for tests and the benchmark.

mod cached;
mod ring;
mod state;
mod weights;

pub use cached::KvDecoder;

use anyhow::{Result, bail};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::{Memory, TransformerXl};

/// A next-token model: logits for a batch given the new tokens and its running state.
pub trait NextToken {
    type State;
    fn vocab_size(&self) -> usize;
    /// A fresh state for `batch` rows (no context yet).
    fn init_state(&self, batch: usize) -> Self::State;
    /// Append `tokens` (row-major `[batch, t]`, t >= 1) to every row's context and return the
    /// logits at the last new position, row-major `[batch, vocab]`.
    fn feed(&self, tokens: &[u16], batch: usize, state: &mut Self::State) -> Result<Vec<f32>>;

    /// Feeds the start of each row's prompt into a fresh state before decoding; returns how
    /// many tokens of each row went in. This default feeds the length all rows share (the
    /// shortest prompt) in one call.
    fn prefill(&self, prompts: &[&[u16]], state: &mut Self::State) -> Result<Vec<usize>> {
        let n = prompts.iter().map(|p| p.len()).min().unwrap_or(0);
        if n > 0 {
            let flat: Vec<u16> = prompts.iter().flat_map(|p| &p[..n]).copied().collect();
            self.feed(&flat, prompts.len(), state)?;
        }
        Ok(vec![n; prompts.len()])
    }

    /// Makes row r continue the context of row `parents[r]` (beam search's forks). Decoders
    /// that cannot copy rows refuse.
    fn reorder(&self, _state: &mut Self::State, _parents: &[usize]) -> Result<()> {
        bail!("this model cannot fork decoding rows (beam search needs it)")
    }
}

/// How many keys a decoding step attends to, its own included: `"mem_len+1"`,
/// `"mem_len+tgt_len"` or a number of keys (in the config, a string or an integer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WindowSetting", into = "WindowSetting")]
pub enum Window {
    /// The XL memory and the new position, as the model's forward one token at a time.
    Memory,
    /// The most keys a training query saw (the last position of a segment). The default:
    /// on the default model it gives the lower teacher-forced valid loss (`pipeline bench
    /// window`, docs/earlier-studies.md "Decoder window").
    #[default]
    Segment,
    /// This many keys: more than training saw lets a piece remember further back (the
    /// sinusoidal relative positions extend to any distance; Dai et al. 2019 evaluate with a
    /// longer attention than they train with).
    Keys(usize),
}

/// The most keys [`Window::Keys`] may name.
pub const MAX_WINDOW: usize = 8192;

/// How a [`Window`] is written in the config.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WindowSetting {
    Name(String),
    Keys(usize),
}

impl TryFrom<WindowSetting> for Window {
    type Error = String;
    fn try_from(s: WindowSetting) -> std::result::Result<Window, String> {
        match s {
            WindowSetting::Name(n) if n == "mem_len+1" => Ok(Window::Memory),
            WindowSetting::Name(n) if n == "mem_len+tgt_len" => Ok(Window::Segment),
            WindowSetting::Name(n) => Err(format!(
                "window {n:?}: expected \"mem_len+1\", \"mem_len+tgt_len\" or a number of keys"
            )),
            WindowSetting::Keys(k) if (2..=MAX_WINDOW).contains(&k) => Ok(Window::Keys(k)),
            WindowSetting::Keys(k) => Err(format!("window {k}: must be 2..={MAX_WINDOW} keys")),
        }
    }
}

impl From<Window> for WindowSetting {
    fn from(w: Window) -> WindowSetting {
        match w {
            Window::Keys(k) => WindowSetting::Keys(k),
            other => WindowSetting::Name(other.name()),
        }
    }
}

impl Window {
    pub fn keys(self, mem_len: usize, tgt_len: usize) -> usize {
        match self {
            Window::Memory => mem_len + 1,
            Window::Segment => mem_len + tgt_len,
            Window::Keys(k) => k,
        }
    }

    pub fn name(self) -> String {
        match self {
            Window::Memory => "mem_len+1".into(),
            Window::Segment => "mem_len+tgt_len".into(),
            Window::Keys(k) => k.to_string(),
        }
    }
}

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

/// Each `feed` runs only the new tokens through the model, attending to the XL memory.
pub struct MemoryDecoder<'a, B: Backend> {
    model: &'a TransformerXl<B>,
    device: B::Device,
}

impl<'a, B: Backend> MemoryDecoder<'a, B> {
    pub fn new(model: &'a TransformerXl<B>) -> Result<Self> {
        if model.mem_len == 0 {
            bail!("cached decoding needs a model with mem_len > 0 (the memory is the context)");
        }
        Ok(MemoryDecoder {
            model,
            device: model.embed.weight.device(),
        })
    }
}

impl<B: Backend> NextToken for MemoryDecoder<'_, B> {
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

    fn reorder(&self, state: &mut Self::State, parents: &[usize]) -> Result<()> {
        if let Some(mem) = state {
            let idx: Vec<i64> = parents.iter().map(|&p| p as i64).collect();
            let idx =
                Tensor::<B, 1, Int>::from_data(TensorData::new(idx, [parents.len()]), &self.device);
            for m in &mut mem.layers {
                *m = m.clone().select(0, idx.clone());
            }
        }
        Ok(())
    }
}

/// Keeps every row's whole history and recomputes it without memory each step.
pub struct NaiveDecoder<'a, B: Backend> {
    model: &'a TransformerXl<B>,
    device: B::Device,
}

impl<'a, B: Backend> NaiveDecoder<'a, B> {
    pub fn new(model: &'a TransformerXl<B>) -> Self {
        NaiveDecoder {
            model,
            device: model.embed.weight.device(),
        }
    }
}

impl<B: Backend> NextToken for NaiveDecoder<'_, B> {
    /// Each row's history.
    type State = Vec<Vec<u16>>;

    fn vocab_size(&self) -> usize {
        self.model.vocab_size()
    }

    fn init_state(&self, batch: usize) -> Self::State {
        vec![Vec::new(); batch]
    }

    fn feed(&self, tokens: &[u16], batch: usize, state: &mut Self::State) -> Result<Vec<f32>> {
        let t = tokens.len() / batch;
        for (b, row) in state.iter_mut().enumerate() {
            row.extend_from_slice(&tokens[b * t..(b + 1) * t]);
        }
        let flat: Vec<u16> = state.concat();
        let (logits, _) = self
            .model
            .forward(to_tensor::<B>(&flat, batch, &self.device), None);
        last_logits(logits)
    }

    fn reorder(&self, state: &mut Self::State, parents: &[usize]) -> Result<()> {
        *state = parents.iter().map(|&p| state[p].clone()).collect();
        Ok(())
    }
}
