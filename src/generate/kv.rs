//! Incremental Transformer-XL inference with a key/value cache.
//!
//! `TransformerXl::forward` with T = 1 and the XL memory recomputes the keys and values of all
//! `mem_len` remembered positions at every step (the memory holds layer inputs), which makes a
//! step cost `O(batch × mem_len × d²)`. The keys and values of a remembered position never change
//! (same weights, same input), so this decoder caches them per layer and computes only the new
//! position: a step costs `O(batch × d²)` plus the attention itself. It attends over exactly the
//! same window as the XL memory (the last `mem_len` positions plus the current one), so it gives
//! the model's logits (tests/generate_kv.rs checks this, also past `mem_len`).
//!
//! The projections and feed-forward layers run as Burn matmuls; the attention over the cache runs
//! in [`attend`](super::attend) on plain slices. The rows of a batch are split into groups (up to
//! one per worker thread) that step in parallel: at generation's batch sizes Burn runs each matmul
//! on one thread, so this is what puts the cores to work. Rows never interact, so a piece does not
//! depend on the batch around it.
//!
//! The weights are read from the model by their module paths (`layers.N.kv_net.weight`, ...), so
//! this file depends only on the model's parameter names and the equations of its layer.

use anyhow::{Context, Result, anyhow, bail};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData, TensorPrimitive};
use rayon::prelude::*;
use std::collections::HashMap;

use super::attend::{Dims, PosKeys, RingCache, Step, attend};
use super::decode::NextToken;
use crate::model::{TransformerXl, sinusoids};

/// Collects every float parameter as (dotted path, data).
struct Collect {
    path: Vec<String>,
    params: HashMap<String, TensorData>,
}

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.params
            .insert(self.path.join("."), param.val().into_data());
    }
}

struct Linear<B: Backend> {
    w: Tensor<B, 2>,
    b: Option<Tensor<B, 1>>,
}

impl<B: Backend> Linear<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let y = x.matmul(self.w.clone());
        match &self.b {
            Some(b) => y + b.clone().unsqueeze::<2>(),
            None => y,
        }
    }
}

struct Norm<B: Backend> {
    gamma: Tensor<B, 1>,
    beta: Tensor<B, 1>,
}

impl<B: Backend> Norm<B> {
    /// Burn's LayerNorm kernel (epsilon 1e-5, LayerNormConfig's default) over the last dimension.
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        Tensor::from_primitive(TensorPrimitive::Float(B::layer_norm(
            x.into_primitive().tensor(),
            self.gamma.clone().into_primitive().tensor(),
            Some(self.beta.clone().into_primitive().tensor()),
            1e-5,
        )))
    }
}

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
}

/// A Transformer-XL decoder with a per-layer key/value cache.
pub struct KvXl<B: Backend> {
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

/// The decoding state: one [`RingCache`] per layer for each group of rows.
pub struct KvState {
    groups: Vec<Vec<RingCache>>,
    /// Rows per group.
    rows: Vec<usize>,
    /// Positions fed so far.
    seen: usize,
}

struct Params<'a, B: Backend> {
    map: HashMap<String, TensorData>,
    device: &'a B::Device,
}

impl<B: Backend> Params<'_, B> {
    fn data(&mut self, name: &str) -> Result<TensorData> {
        self.map
            .remove(name)
            .ok_or_else(|| anyhow!("the model has no parameter `{name}`"))
    }
    fn t1(&mut self, name: &str) -> Result<Tensor<B, 1>> {
        Ok(Tensor::from_data(self.data(name)?, self.device))
    }
    fn t2(&mut self, name: &str) -> Result<Tensor<B, 2>> {
        Ok(Tensor::from_data(self.data(name)?, self.device))
    }
    fn linear(&mut self, p: &str) -> Result<Linear<B>> {
        let w = self.t2(&format!("{p}.weight"))?;
        let b = self
            .map
            .remove(&format!("{p}.bias"))
            .map(|d| Tensor::from_data(d, self.device));
        Ok(Linear { w, b })
    }
    fn norm(&mut self, p: &str) -> Result<Norm<B>> {
        Ok(Norm {
            gamma: self.t1(&format!("{p}.gamma"))?,
            beta: self.t1(&format!("{p}.beta"))?,
        })
    }
}

impl<B: Backend> KvXl<B> {
    pub fn new(model: &TransformerXl<B>, device: B::Device) -> Result<Self> {
        if model.mem_len == 0 {
            bail!("cached decoding needs a model with mem_len > 0 (the memory is the context)");
        }
        let mut c = Collect {
            path: Vec::new(),
            params: HashMap::new(),
        };
        model.visit(&mut c);
        let mut p = Params::<B> {
            map: c.params,
            device: &device,
        };
        let embed = p.t2("embed.weight")?;
        let out_bias = p.t1("out_bias")?;
        let d_model = model.d_model;
        let slots = model.mem_len + 1;
        let sin = sinusoids::<B>(slots, d_model, &device);
        let mut layers = Vec::with_capacity(model.layers.len());
        let (mut n_head, mut d_head) = (0, 0);
        for n in 0..model.layers.len() {
            let l = format!("layers.{n}");
            let u = p.data(&format!("{l}.r_w_bias"))?;
            [n_head, d_head] = u.shape.dims();
            let r = p.linear(&format!("{l}.r_net"))?.forward(sin.clone());
            layers.push(Layer {
                q_net: p.linear(&format!("{l}.q_net"))?,
                kv_net: p.linear(&format!("{l}.kv_net"))?,
                o_net: p.linear(&format!("{l}.o_net"))?,
                u: floats(u)?,
                vb: floats(p.data(&format!("{l}.r_r_bias"))?)?,
                pos: PosKeys::new(&floats(r.into_data())?, n_head, d_head),
                norm_attn: p.norm(&format!("{l}.norm_attn"))?,
                ff1: p.linear(&format!("{l}.ff1"))?,
                ff2: p.linear(&format!("{l}.ff2"))?,
                norm_ff: p.norm(&format!("{l}.norm_ff"))?,
            });
        }
        let final_norm = match model.final_norm {
            Some(_) => Some(
                p.norm("final_norm")
                    .context("pre-norm model without final_norm weights")?,
            ),
            None => None,
        };
        Ok(KvXl {
            embed,
            out_bias,
            layers,
            final_norm,
            n_head,
            d_head,
            d_model,
            mem_len: model.mem_len,
            device,
        })
    }

    fn pre_norm(&self) -> bool {
        self.final_norm.is_some()
    }

    /// One position for every row of one group: `tokens` `[B]` -> final hidden states `[B, d]`;
    /// `cache` holds the group's layers and `seen` the positions fed before this one.
    fn step(&self, tokens: &[u16], cache: &mut [RingCache], seen: usize) -> Result<Tensor<B, 2>> {
        let b = tokens.len();
        let d = self.d_model;
        let dims = self.dims(b);
        let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
        let ids = Tensor::<B, 1, Int>::from_data(TensorData::new(ids, [b]), &self.device);
        let mut h = self.embed.clone().select(0, ids) * (d as f64).sqrt(); // [B, d]
        for (l, cache) in self.layers.iter().zip(cache) {
            let x = if self.pre_norm() {
                l.norm_attn.forward(h.clone())
            } else {
                h.clone()
            };
            let kv = floats(l.kv_net.forward(x.clone()).into_data())?; // [B, 2 H Dh]
            let q = floats(l.q_net.forward(x).into_data())?; // [B, H Dh]
            let step = Step {
                q: &q,
                kv: &kv,
                u: &l.u,
                vb: &l.vb,
                pos: &l.pos,
                seen,
            };
            let out = attend(dims, cache, &step);
            let out = Tensor::from_data(
                TensorData::new(out, [b, dims.heads * dims.d_head]),
                &self.device,
            );
            let attn = l.o_net.forward(out);
            h = if self.pre_norm() {
                h + attn
            } else {
                l.norm_attn.forward(h + attn)
            };
            let ff_in = if self.pre_norm() {
                l.norm_ff.forward(h.clone())
            } else {
                h.clone()
            };
            let ff = l.ff2.forward(relu(l.ff1.forward(ff_in)));
            h = if self.pre_norm() {
                h + ff
            } else {
                l.norm_ff.forward(h + ff)
            };
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
            slots: self.mem_len + 1,
        }
    }
}

fn floats(data: TensorData) -> Result<Vec<f32>> {
    data.convert::<f32>()
        .into_vec::<f32>()
        .map_err(|e| anyhow!("tensor data: {e:?}"))
}

impl<B: Backend> NextToken for KvXl<B> {
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
        let rows: Vec<usize> = (0..groups)
            .map(|g| batch / groups + usize::from(g < batch % groups))
            .collect();
        KvState {
            groups: rows
                .iter()
                .map(|&r| {
                    self.layers
                        .iter()
                        .map(|_| RingCache::new(self.dims(r)))
                        .collect()
                })
                .collect(),
            rows,
            seen: 0,
        }
    }

    /// Several tokens per row are fed one position at a time (the cache makes that cheap).
    fn feed(&self, tokens: &[u16], batch: usize, state: &mut Self::State) -> Result<Vec<f32>> {
        let held: usize = state.rows.iter().sum();
        if held != batch {
            bail!("the decoding state holds {held} rows but {batch} were fed");
        }
        let t = tokens.len() / batch;
        if t == 0 {
            bail!("feed needs at least one token per row");
        }
        let mut starts = vec![0];
        starts.extend(state.rows.iter().scan(0, |acc, r| {
            *acc += r;
            Some(*acc)
        }));
        let mut logits = Vec::new();
        for i in 0..t {
            let col: Vec<u16> = (0..batch).map(|b| tokens[b * t + i]).collect();
            let (seen, last) = (state.seen, i + 1 == t);
            let parts = state
                .groups
                .par_iter_mut()
                .zip(starts.par_windows(2))
                .map(|(cache, w)| {
                    let h = self.step(&col[w[0]..w[1]], cache, seen)?;
                    // Only the last position's logits are returned (and computed).
                    if last {
                        floats(self.logits(h).into_data())
                    } else {
                        Ok(Vec::new())
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            state.seen += 1;
            if last {
                logits = parts.concat();
            }
        }
        Ok(logits)
    }
}
