//! Incremental Transformer-XL inference with a key/value cache.
//!
//! `TransformerXl::forward` with T = 1 and the XL memory recomputes the keys and values of all
//! `mem_len` remembered positions at every step (the memory holds layer inputs), which makes a
//! step cost `O(batch × mem_len × d²)`. The keys and values of a remembered position never change
//! (same weights, same input), so this decoder caches them per layer and computes only the new
//! position: a step costs `O(batch × d²)` plus the attention itself. It attends over exactly the
//! same window as the XL memory (the last `mem_len` positions plus the current one), so it gives
//! the model's logits (tests/generate_decode.rs checks this, also past `mem_len`).
//!
//! The weights are read from the model by their module paths (`layers.N.kv_net.weight`, ...), so
//! this file depends only on the model's parameter names and the equations of its layer.

use anyhow::{Context, Result, anyhow, bail};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData, TensorPrimitive};
use std::collections::HashMap;

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
    r_net: Linear<B>,
    o_net: Linear<B>,
    /// `[1, H, 1, Dh]`
    u: Tensor<B, 4>,
    vb: Tensor<B, 4>,
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
    /// `r_net(sinusoids(mem_len + 1))` per layer, as `[1, H, Dh, mem_len + 1]`.
    r_full: Vec<Tensor<B, 4>>,
}

/// Per layer: keys and values of the remembered positions, `[B, H, m, Dh]` (m <= mem_len).
pub type KvState<B> = Vec<Option<(Tensor<B, 4>, Tensor<B, 4>)>>;

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
        let mut layers = Vec::with_capacity(model.layers.len());
        let (mut n_head, mut d_head) = (0, 0);
        for n in 0..model.layers.len() {
            let l = format!("layers.{n}");
            let u = p.t2(&format!("{l}.r_w_bias"))?;
            let vb = p.t2(&format!("{l}.r_r_bias"))?;
            [n_head, d_head] = u.dims();
            let to4 = |t: Tensor<B, 2>| t.reshape([1, n_head, 1, d_head]);
            layers.push(Layer {
                q_net: p.linear(&format!("{l}.q_net"))?,
                kv_net: p.linear(&format!("{l}.kv_net"))?,
                r_net: p.linear(&format!("{l}.r_net"))?,
                o_net: p.linear(&format!("{l}.o_net"))?,
                u: to4(u),
                vb: to4(vb),
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
        let full = model.mem_len + 1;
        let pos = sinusoids::<B>(full, d_model, &device);
        let r_full = layers
            .iter()
            .map(|l| {
                l.r_net
                    .forward(pos.clone())
                    .reshape([1, full, n_head, d_head])
                    .permute([0, 2, 3, 1])
            })
            .collect();
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
            r_full,
        })
    }

    fn pre_norm(&self) -> bool {
        self.final_norm.is_some()
    }

    /// Per layer, `r_net(sinusoids(klen))` as `[1, H, Dh, klen]` (transposed for the matmul).
    /// Row i of `sinusoids(K)` encodes distance K-1-i and `r_net` acts row by row, so the terms
    /// for a shorter window are the last `klen` columns of those for the full window.
    fn r_terms(&self, klen: usize) -> Vec<Tensor<B, 4>> {
        let full = self.mem_len + 1;
        self.r_full
            .iter()
            .map(|r| r.clone().narrow(3, full - klen, klen))
            .collect()
    }

    /// One position for every row: `tokens` `[B]` -> logits `[B, vocab]`.
    fn step(&self, tokens: &[u16], state: &mut KvState<B>) -> Tensor<B, 2> {
        let b = tokens.len();
        let (nh, dh, d) = (self.n_head, self.d_head, self.d_model);
        let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
        let ids = Tensor::<B, 1, Int>::from_data(TensorData::new(ids, [b]), &self.device);
        let mut h = self.embed.clone().select(0, ids) * (d as f64).sqrt(); // [B, d]
        let mlen = state
            .first()
            .and_then(|s| s.as_ref())
            .map_or(0, |(k, _)| k.dims()[2]);
        let klen = mlen + 1;
        let r = self.r_terms(klen);
        for (n, l) in self.layers.iter().enumerate() {
            let x = if self.pre_norm() {
                l.norm_attn.forward(h.clone())
            } else {
                h.clone()
            };
            let kv = l.kv_net.forward(x.clone()); // [B, 2 H Dh]
            let q = l.q_net.forward(x).reshape([b, nh, 1, dh]);
            let k = kv.clone().narrow(1, 0, nh * dh).reshape([b, nh, 1, dh]);
            let v = kv.narrow(1, nh * dh, nh * dh).reshape([b, nh, 1, dh]);
            let (k, v) = match state[n].take() {
                Some((km, vm)) => (Tensor::cat(vec![km, k], 2), Tensor::cat(vec![vm, v], 2)),
                None => (k, v),
            };
            let ac = (q.clone() + l.u.clone()).matmul(k.clone().swap_dims(2, 3)); // [B, H, 1, klen]
            // The position keys r are shared by all rows: H matmuls over the whole batch.
            let bd = (q + l.vb.clone())
                .swap_dims(0, 2)
                .matmul(r[n].clone())
                .swap_dims(0, 2);
            let prob = softmax((ac + bd).mul_scalar(1.0 / (dh as f64).sqrt()), 3);
            let out = prob.matmul(v.clone()).reshape([b, nh * dh]);
            let attn = l.o_net.forward(out);
            // Keep the last mem_len positions, as the XL memory does.
            let keep = self.mem_len.min(klen);
            state[n] = Some((
                k.narrow(2, klen - keep, keep),
                v.narrow(2, klen - keep, keep),
            ));

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
        if let Some(norm) = &self.final_norm {
            h = norm.forward(h);
        }
        h.matmul(self.embed.clone().transpose()) + self.out_bias.clone().unsqueeze::<2>()
    }
}

impl<B: Backend> NextToken for KvXl<B> {
    type State = KvState<B>;

    fn vocab_size(&self) -> usize {
        self.embed.dims()[0]
    }

    fn init_state(&self, _batch: usize) -> Self::State {
        vec![None; self.layers.len()]
    }

    /// Several tokens per row are fed one position at a time (the cache makes that cheap).
    fn feed(&self, tokens: &[u16], batch: usize, state: &mut Self::State) -> Result<Vec<f32>> {
        let t = tokens.len() / batch;
        let mut logits = None;
        for i in 0..t {
            let col: Vec<u16> = (0..batch).map(|b| tokens[b * t + i]).collect();
            logits = Some(self.step(&col, state));
        }
        let logits = logits.ok_or_else(|| anyhow!("feed needs at least one token per row"))?;
        logits
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .map_err(|e| anyhow!("logits: {e:?}"))
    }
}
