//! Incremental Transformer-XL inference with a key/value cache.
//!
//! `TransformerXl::forward` with T = 1 and the XL memory recomputes the keys and values of all
//! `mem_len` remembered positions at every step (the memory holds layer inputs), which makes a
//! step cost `O(batch × mem_len × d²)`. The keys and values of a remembered position never change
//! (same weights, same input), so this decoder caches them per layer and computes only the new
//! position: a step costs `O(batch × d²)` plus the attention itself. With [`Window::Memory`] it
//! attends over exactly the same window as the XL memory (the last `mem_len` positions plus the
//! current one), so it gives the model's logits (the decoder tests check this, also past
//! `mem_len`); [`Window::Segment`] keeps `mem_len + tgt_len` keys, the most a training query saw.
//!
//! A prompt is not fed one position at a time: [`NextToken::prefill`] runs each row's prompt
//! through the model in training's segments of `tgt_len` (aligned to the prompt's end, so the
//! last is whole) with the XL memory, and fills the ring from the layer inputs the last segment
//! leaves (keys and values are a function of those).
//!
//! The projections and feed-forward layers run as Burn ops on the layers' own weights; the
//! attention over the cache runs in [`ring`](super::ring) on plain slices. The rows of a batch are
//! split into groups (up to one per worker thread) that step in parallel: at generation's batch
//! sizes Burn runs each matmul on one thread, so this is what puts the cores to work. Rows never
//! interact, so a piece does not depend on the batch around it.

use anyhow::{Result, bail};
use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rayon::prelude::*;

use super::ring::{Dims, PosKeys, RingCache, Step, attend};
use super::state::{Group, KvState};
use super::weights::{Linear, Norm, ReadAll, floats};
use super::{NextToken, Window, to_tensor};
use crate::model::{Memory, Pass, TransformerXl, XlLayer, sinusoids};

/// One layer's weights as the decoder uses them.
struct Layer<B: Backend> {
    q_net: Linear<B>,
    kv_net: Linear<B>,
    o_net: Linear<B>,
    /// The learned attention biases r_w_bias and r_r_bias, `[H Dh]`.
    u: Vec<f32>,
    vb: Vec<f32>,
    /// `r_net` of the sinusoids of every distance in the window.
    pos: PosKeys,
    norm_attn: Norm<B>,
    ff1: Linear<B>,
    ff2: Linear<B>,
    norm_ff: Norm<B>,
    pre_norm: bool,
}

/// A Transformer-XL decoder with a per-layer key/value cache.
pub struct KvDecoder<B: Backend> {
    /// The model itself, for prompts (whole segments at a time).
    model: TransformerXl<B>,
    tgt_len: usize,
    /// Keys a step attends to: the ring size.
    slots: usize,
    embed: Tensor<B, 2>,
    out_bias: Tensor<B, 1>,
    layers: Vec<Layer<B>>,
    final_norm: Option<Norm<B>>,
    n_head: usize,
    d_head: usize,
    d_model: usize,
    mem_len: usize,
    device: B::Device,
}

/// Rows below which splitting a batch into another parallel group stops paying.
const MIN_GROUP_ROWS: usize = 8;

impl<B: Backend> Layer<B> {
    fn new(l: &XlLayer<B>, sin: Tensor<B, 2>) -> Result<Self> {
        let r = Linear::of(&l.r_net).forward(sin);
        Ok(Layer {
            q_net: Linear::of(&l.q_net),
            kv_net: Linear::of(&l.kv_net),
            o_net: Linear::of(&l.o_net),
            u: floats(l.r_w_bias.val().into_data())?,
            vb: floats(l.r_r_bias.val().into_data())?,
            pos: PosKeys::new(&floats(r.into_data())?, l.n_head, l.d_head),
            norm_attn: Norm::of(&l.norm_attn),
            ff1: Linear::of(&l.ff1),
            ff2: Linear::of(&l.ff2),
            norm_ff: Norm::of(&l.norm_ff),
            pre_norm: l.pre_norm,
        })
    }

    /// One position of one group of rows through the layer: `h` `[B, d]` -> `[B, d]`.
    fn step(
        &self,
        h: Tensor<B, 2>,
        dims: Dims,
        cache: &mut RingCache,
        seen: &[usize],
    ) -> Result<Tensor<B, 2>> {
        let x = self.attention_input(h.clone());
        let kv = floats(self.kv_net.forward(x.clone()).into_data())?; // [B, 2 H Dh]
        let q = floats(self.q_net.forward(x).into_data())?; // [B, H Dh]
        let step = Step {
            q: &q,
            kv: &kv,
            u: &self.u,
            vb: &self.vb,
            pos: &self.pos,
            seen,
        };
        let out = attend(dims, cache, &step);
        let out = Tensor::from_data(
            TensorData::new(out, [dims.rows, dims.heads * dims.d_head]),
            &h.device(),
        );
        let attn = self.o_net.forward(out);
        let h = if self.pre_norm {
            h + attn
        } else {
            self.norm_attn.forward(h + attn)
        };
        let ff_in = if self.pre_norm {
            self.norm_ff.forward(h.clone())
        } else {
            h.clone()
        };
        let ff = self.ff2.forward(relu(self.ff1.forward(ff_in)));
        Ok(if self.pre_norm {
            h + ff
        } else {
            self.norm_ff.forward(h + ff)
        })
    }

    /// What the projections read: the layer input, layer-normed first in a pre-norm model.
    fn attention_input(&self, h: Tensor<B, 2>) -> Tensor<B, 2> {
        if self.pre_norm {
            self.norm_attn.forward(h)
        } else {
            h
        }
    }

    /// Writes the keys and values of `row`'s positions `end - P .. end` into the cache, from
    /// this layer's inputs `mem` `[P, d]` at those positions.
    fn fill(
        &self,
        mem: Tensor<B, 2>,
        dims: Dims,
        cache: &mut RingCache,
        row: usize,
        end: usize,
    ) -> Result<()> {
        let kv = floats(self.kv_net.forward(self.attention_input(mem)).into_data())?;
        let width = 2 * dims.heads * dims.d_head;
        let first = end - kv.len() / width;
        for (p, kv) in kv.chunks_exact(width).enumerate() {
            cache.write(dims, row, first + p, kv);
        }
        Ok(())
    }
}

impl<B: Backend> KvDecoder<B> {
    /// A decoder over `window`'s keys of a model trained on segments of `tgt_len`.
    pub fn new(model: &TransformerXl<B>, tgt_len: usize, window: Window) -> Result<Self> {
        if model.mem_len == 0 || tgt_len == 0 {
            bail!(
                "cached decoding needs a model with mem_len > 0 and tgt_len > 0 (the memory is the context)"
            );
        }
        model.visit(&mut ReadAll);
        let slots = window.keys(model.mem_len, tgt_len);
        let embed = model.embed.weight.val();
        let device = embed.device();
        let sin = sinusoids::<B>(slots, model.d_model, &device);
        let layers = model
            .layers
            .iter()
            .map(|l| Layer::new(l, sin.clone()))
            .collect::<Result<Vec<_>>>()?;
        let (n_head, d_head) = model
            .layers
            .first()
            .map_or((0, 0), |l| (l.n_head, l.d_head));
        Ok(KvDecoder {
            model: model.clone(),
            tgt_len,
            slots,
            embed,
            out_bias: model.out_bias.val(),
            layers,
            final_norm: model.final_norm.as_ref().map(Norm::of),
            n_head,
            d_head,
            d_model: model.d_model,
            mem_len: model.mem_len,
            device,
        })
    }

    /// One position for every row of one group: `tokens` `[B]` -> final hidden states `[B, d]`;
    /// then each row's position moves on by one.
    fn step(&self, tokens: &[u16], group: &mut Group) -> Result<Tensor<B, 2>> {
        let b = tokens.len();
        let dims = self.dims(b);
        let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
        let ids = Tensor::<B, 1, Int>::from_data(TensorData::new(ids, [b]), &self.device);
        let mut h = self.embed.clone().select(0, ids) * (self.d_model as f64).sqrt(); // [B, d]
        for (l, cache) in self.layers.iter().zip(&mut group.layers) {
            h = l.step(h, dims, cache, &group.seen)?;
        }
        for seen in &mut group.seen {
            *seen += 1;
        }
        Ok(match &self.final_norm {
            Some(norm) => norm.forward(h),
            None => h,
        })
    }

    /// Tied output projection: hidden `[B, d]` -> logits `[B, vocab]`.
    fn logits(&self, h: Tensor<B, 2>) -> Tensor<B, 2> {
        h.matmul(self.embed.clone().transpose()) + self.out_bias.clone().unsqueeze::<2>()
    }

    fn dims(&self, rows: usize) -> Dims {
        Dims {
            rows,
            heads: self.n_head,
            d_head: self.d_head,
            slots: self.slots,
        }
    }

    /// Feeds `row` of `group` its prompt as training does: segments of `tgt_len` aligned to
    /// the prompt's end, with the XL memory; the last segment keeps the inputs of the ring's
    /// `slots - 1` positions, whose keys and values then fill the cache.
    fn prefill_row(&self, prompt: &[u16], group: &mut Group, row: usize) -> Result<()> {
        let len = prompt.len();
        let mut mem: Option<Memory<B>> = None;
        let mut start = 0;
        while start < len {
            let end = if start == 0 && len % self.tgt_len != 0 {
                len % self.tgt_len
            } else {
                start + self.tgt_len
            };
            let x = to_tensor::<B>(&prompt[start..end], 1, &self.device);
            let keep = if end == len {
                self.slots - 1
            } else {
                self.mem_len
            };
            mem = Some(
                self.model
                    .hidden_keeping(x, mem.as_ref(), Pass::default(), keep)
                    .1,
            );
            start = end;
        }
        let dims = self.dims(group.seen.len());
        if let Some(mem) = mem {
            for ((l, cache), m) in self.layers.iter().zip(&mut group.layers).zip(mem.layers) {
                let [_, p, d] = m.dims();
                l.fill(m.reshape([p, d]), dims, cache, row, len)?;
            }
        }
        group.seen[row] = len;
        Ok(())
    }
}

impl<B: Backend> NextToken for KvDecoder<B> {
    type State = KvState;

    fn vocab_size(&self) -> usize {
        self.embed.dims()[0]
    }

    fn init_state(&self, batch: usize) -> Self::State {
        // At least MIN_GROUP_ROWS rows per group where the batch allows: every group reads all
        // the weights each step, so tiny groups on a many-core machine would mostly move weights.
        let groups = rayon::current_num_threads()
            .min(batch.div_ceil(MIN_GROUP_ROWS))
            .max(1);
        let groups = (0..groups)
            .map(|g| {
                let rows = batch / groups + usize::from(g < batch % groups);
                Group {
                    layers: self
                        .layers
                        .iter()
                        .map(|_| RingCache::new(self.dims(rows)))
                        .collect(),
                    seen: vec![0; rows],
                }
            })
            .collect();
        KvState { groups }
    }

    /// Several tokens per row are fed one position at a time (the cache makes that cheap).
    fn feed(&self, tokens: &[u16], batch: usize, state: &mut Self::State) -> Result<Vec<f32>> {
        let held: usize = state.groups.iter().map(|g| g.seen.len()).sum();
        if held != batch {
            bail!("the decoding state holds {held} rows but {batch} were fed");
        }
        let t = tokens.len() / batch;
        if t == 0 {
            bail!("feed needs at least one token per row");
        }
        let starts = state.starts();
        let mut logits = Vec::new();
        for i in 0..t {
            let col: Vec<u16> = (0..batch).map(|b| tokens[b * t + i]).collect();
            let last = i + 1 == t;
            let parts = state
                .groups
                .par_iter_mut()
                .zip(starts.par_windows(2))
                .map(|(group, w)| {
                    let h = self.step(&col[w[0]..w[1]], group)?;
                    // Only the last position's logits are returned (and computed).
                    if last {
                        floats(self.logits(h).into_data())
                    } else {
                        Ok(Vec::new())
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            if last {
                logits = parts.concat();
            }
        }
        Ok(logits)
    }

    /// Every row's whole prompt, in training's segments (see [`KvDecoder::prefill_row`]).
    fn prefill(&self, prompts: &[&[u16]], state: &mut Self::State) -> Result<Vec<usize>> {
        let starts = state.starts();
        if starts.last() != Some(&prompts.len()) {
            bail!(
                "the decoding state holds {} rows but {} prompts were given",
                starts.last().unwrap_or(&0),
                prompts.len()
            );
        }
        if state.groups.iter().flat_map(|g| &g.seen).any(|&s| s > 0) {
            bail!("prefill needs a fresh decoding state");
        }
        state
            .groups
            .par_iter_mut()
            .zip(starts.par_windows(2))
            .try_for_each(|(group, w)| {
                for (row, prompt) in prompts[w[0]..w[1]].iter().enumerate() {
                    self.prefill_row(prompt, group, row)?;
                }
                Ok::<_, anyhow::Error>(())
            })?;
        Ok(prompts.iter().map(|p| p.len()).collect())
    }

    /// Copies only the rows that change, each source once (before any is overwritten).
    fn reorder(&self, state: &mut Self::State, parents: &[usize]) -> Result<()> {
        let rows = *state.starts().last().unwrap_or(&0);
        if parents.len() != rows || parents.iter().any(|&p| p >= rows) {
            bail!("reorder needs one parent row (< {rows}) for each of the {rows} rows");
        }
        let mut copies = std::collections::BTreeMap::new();
        for (r, &p) in parents.iter().enumerate() {
            if r != p && !copies.contains_key(&p) {
                copies.insert(p, state.copy_row(p, |rows| self.dims(rows)));
            }
        }
        for (r, &p) in parents.iter().enumerate() {
            if r != p {
                state.paste_row(r, &copies[&p], |rows| self.dims(rows));
            }
        }
        Ok(())
    }
}
