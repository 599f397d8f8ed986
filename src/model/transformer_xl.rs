//! Transformer-XL (Dai et al. 2019, "Transformer-XL: Attentive Language Models Beyond a
//! Fixed-Length Context"), written to be read beside the paper (section 3 and appendix B) and the
//! authors' PyTorch code (`mem_transformer.py`, `RelPartialLearnableMultiHeadAttn`).
//!
//! Layout: batch first. Tokens `[B, T]`, hidden states `[B, T, d_model]`, per-layer memory
//! `[B, M, d_model]`. Heads are `[B, H, T, d_head]`.
//!
//! Per layer n, with h = the layer input and m = its memory (the *inputs* of layer n on earlier
//! segments, no gradient):
//!   h̃  = [m ∘ h]                                       (concatenate along time)
//!   q  = h W_q,  k = h̃ W_k,  v = h̃ W_v                 (k and v: one fused projection)
//!   r  = R W_r   (R = sinusoids of the distances klen-1 .. 0)
//!   A  = (q + u) kᵀ  +  shift((q + v_bias) rᵀ)          (terms (a)+(c) and (b)+(d) of eq. 3)
//!   out = softmax(mask(A / sqrt(d_head))) v  W_o,  then residual, layer norm, feed-forward.
//!
//! The matmuls, head permutes, concatenation, layer norms and the shift-mask-softmax go through
//! `super::fused`: on the CPU backend each is one kernel, elsewhere the plain Burn ops.
//!
//! Mixed precision ([`Compute`](super::Compute)): the parameters stay f32 (the master weights). On the CPU,
//! bf16-mixed keeps every activation f32 and the weight products (projections, feed-forward)
//! round their inputs to bf16 (the AVX-512 BF16 kernel of `fused`); the attention's
//! score and value products stay f32. On a GPU backend the forward casts the embedding, the
//! sinusoids and each weight to the compute type where it is used, so the matmuls, activations
//! and memory are bf16 or f16 and their gradients flow back to f32 through the casts; layer-norm
//! statistics and the attention softmax run in f32 (`fused` casts in and out). On every backend
//! the logits' product is f32, for the loss. In f32 no cast is made at all.

use burn::config::Config;
use burn::module::{Module, Param, ParamId};
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{FloatDType, Int, Tensor};

use super::dropout::Dropout;
use super::fused::{Inputs, cat_time, layer_norm, matmul, permute, rel_softmax};
use super::linear::{flat, h_dtype, linear_2d};
use super::pass::{Lookback, Pass, to_dtype};
use super::position::sinusoids;

/// Shapes and regularisation of a Transformer-XL. Presets: [`TransformerXlConfig::small`],
/// [`TransformerXlConfig::course`], [`TransformerXlConfig::tiny`].
#[derive(Config, Debug, PartialEq)]
pub struct TransformerXlConfig {
    pub vocab_size: usize,
    pub n_layer: usize,
    pub d_model: usize,
    pub n_head: usize,
    pub d_head: usize,
    pub d_inner: usize,
    /// Dropout on embeddings, attention output and feed-forward.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Dropout on the attention probabilities.
    #[config(default = 0.0)]
    pub dropatt: f64,
    /// Segment length used in training.
    pub tgt_len: usize,
    /// Hidden states kept per layer as memory.
    pub mem_len: usize,
    /// Layer norm before each sub-layer (plus a final one) instead of after the residual.
    #[config(default = false)]
    pub pre_norm: bool,
    /// Std of the normal initialisation of all weights (the paper's code uses 0.02).
    #[config(default = 0.02)]
    pub init_std: f64,
}

impl TransformerXlConfig {
    /// A model that learns on 2 CPU cores in minutes.
    pub fn small(vocab_size: usize) -> Self {
        Self::new(vocab_size, 4, 256, 4, 64, 1024, 256, 256)
    }

    /// The course model: 12 layers, d_model 512, 8 heads, tgt/mem 512.
    pub fn course(vocab_size: usize) -> Self {
        Self::new(vocab_size, 12, 512, 8, 64, 2048, 512, 512)
    }

    /// For tests: two layers, d_model 32.
    pub fn tiny(vocab_size: usize) -> Self {
        Self::new(vocab_size, 2, 32, 2, 16, 64, 16, 16).with_dropout(0.0)
    }

    /// Same model with another segment length.
    pub fn with_tgt_len(mut self, tgt_len: usize) -> Self {
        self.tgt_len = tgt_len;
        self
    }

    /// Same model with another memory length.
    pub fn with_mem_len(mut self, mem_len: usize) -> Self {
        self.mem_len = mem_len;
        self
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> TransformerXl<B> {
        let normal = Initializer::Normal {
            mean: 0.0,
            std: self.init_std,
        };
        let linear = |i: usize, o: usize| {
            LinearConfig::new(i, o)
                .with_bias(false)
                .with_initializer(normal.clone())
                .init(device)
        };
        let hd = self.n_head * self.d_head;
        let layers = (0..self.n_layer)
            .map(|_| XlLayer {
                q_net: linear(self.d_model, hd),
                kv_net: linear(self.d_model, 2 * hd),
                r_net: linear(self.d_model, hd),
                o_net: linear(hd, self.d_model),
                r_w_bias: Param::from_tensor(Tensor::zeros([self.n_head, self.d_head], device)),
                r_r_bias: Param::from_tensor(Tensor::zeros([self.n_head, self.d_head], device)),
                norm_attn: LayerNormConfig::new(self.d_model).init(device),
                ff1: LinearConfig::new(self.d_model, self.d_inner)
                    .with_initializer(normal.clone())
                    .init(device),
                ff2: LinearConfig::new(self.d_inner, self.d_model)
                    .with_initializer(normal.clone())
                    .init(device),
                norm_ff: LayerNormConfig::new(self.d_model).init(device),
                drop: Dropout::new(self.dropout),
                dropatt: Dropout::new(self.dropatt),
                n_head: self.n_head,
                d_head: self.d_head,
                pre_norm: self.pre_norm,
            })
            .collect();
        TransformerXl {
            embed: EmbeddingConfig::new(self.vocab_size, self.d_model)
                .with_initializer(normal)
                .init(device),
            out_bias: Param::from_tensor(Tensor::zeros([self.vocab_size], device)),
            layers,
            final_norm: self
                .pre_norm
                .then(|| LayerNormConfig::new(self.d_model).init(device)),
            drop: Dropout::new(self.dropout),
            d_model: self.d_model,
            mem_len: self.mem_len,
        }
    }
}

/// Per-layer memory: `layers[n]` is `[batch, mem, d_model]`, the inputs of layer n on the
/// previous segments, detached from the graph.
#[derive(Debug, Clone)]
pub struct Memory<B: Backend> {
    pub layers: Vec<Tensor<B, 3>>,
}

impl<B: Backend> Memory<B> {
    /// Number of remembered positions (0 for an empty memory).
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, |m| m.dims()[1])
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Module, Debug)]
pub struct TransformerXl<B: Backend> {
    /// Token embedding, also the (tied) output projection.
    pub embed: Embedding<B>,
    pub out_bias: Param<Tensor<B, 1>>,
    pub layers: Vec<XlLayer<B>>,
    pub final_norm: Option<LayerNorm<B>>,
    pub drop: Dropout,
    pub d_model: usize,
    pub mem_len: usize,
}

#[derive(Module, Debug)]
pub struct XlLayer<B: Backend> {
    /// Queries from the current segment only.
    pub(super) q_net: Linear<B>,
    /// Keys and values from memory + segment.
    pub(super) kv_net: Linear<B>,
    pub(super) r_net: Linear<B>,
    pub(super) o_net: Linear<B>,
    /// u in the paper: content bias shared over query positions.
    pub(super) r_w_bias: Param<Tensor<B, 2>>,
    /// v in the paper: position bias shared over query positions.
    pub(super) r_r_bias: Param<Tensor<B, 2>>,
    pub(super) norm_attn: LayerNorm<B>,
    pub(super) ff1: Linear<B>,
    pub(super) ff2: Linear<B>,
    pub(super) norm_ff: LayerNorm<B>,
    pub(super) drop: Dropout,
    pub(super) dropatt: Dropout,
    pub(super) n_head: usize,
    pub(super) d_head: usize,
    pub(super) pre_norm: bool,
}

impl<B: Backend> TransformerXl<B> {
    /// The attention position biases (u and v of the paper): 2-D, but biases, so weight decay
    /// leaves them alone.
    pub fn position_bias_ids(&self) -> Vec<ParamId> {
        self.layers
            .iter()
            .flat_map(|l| [l.r_w_bias.id, l.r_r_bias.id])
            .collect()
    }

    /// tokens `[B, T]` -> logits `[B, T, vocab]`. The new memory holds the last `mem_len`
    /// inputs of each layer over (old memory + this segment), without gradient.
    pub fn forward(
        &self,
        tokens: Tensor<B, 2, Int>,
        mems: Option<&Memory<B>>,
    ) -> (Tensor<B, 3>, Memory<B>) {
        self.forward_with(tokens, mems, Pass::default())
    }

    /// [`forward`](Self::forward) with a lookback or another compute type.
    pub fn forward_with(
        &self,
        tokens: Tensor<B, 2, Int>,
        mems: Option<&Memory<B>>,
        pass: Pass,
    ) -> (Tensor<B, 3>, Memory<B>) {
        let (hidden, mems) = self.hidden(tokens, mems, pass);
        (self.logits(hidden), mems)
    }

    /// Like [`forward_with`](Self::forward_with) but returns the last hidden states
    /// `[B, T, d_model]` (in the pass's compute type).
    pub fn hidden(
        &self,
        tokens: Tensor<B, 2, Int>,
        mems: Option<&Memory<B>>,
        pass: Pass,
    ) -> (Tensor<B, 3>, Memory<B>) {
        self.hidden_keeping(tokens, mems, pass, self.mem_len)
    }

    /// [`hidden`](Self::hidden) keeping the last `keep` inputs of each layer as the new memory
    /// (a decoder's window may hold more than the `mem_len` of training). What this segment
    /// attends to does not depend on `keep`.
    pub fn hidden_keeping(
        &self,
        tokens: Tensor<B, 2, Int>,
        mems: Option<&Memory<B>>,
        pass: Pass,
        keep: usize,
    ) -> (Tensor<B, 3>, Memory<B>) {
        let device = tokens.device();
        let [_, t] = tokens.dims();
        let klen = mems.map_or(0, |m| m.len()) + t;
        let dt = pass.compute.activations::<B>();

        // Scaled embedding (Vaswani et al.); sinusoids of the distances klen-1 .. 0.
        let x = to_dtype(self.embed.forward(tokens), dt).mul_scalar((self.d_model as f64).sqrt());
        let pos = self
            .drop
            .forward(to_dtype(sinusoids::<B>(klen, self.d_model, &device), dt));

        let mut h = self.drop.forward(x);
        let mut new_mems = Vec::with_capacity(self.layers.len());
        for (n, layer) in self.layers.iter().enumerate() {
            // A memory read back from a checkpoint is f32.
            let mem = mems
                .and_then(|m| m.layers.get(n))
                .map(|m| to_dtype(m.clone(), dt));
            if keep > 0 {
                new_mems.push(update_memory(mem.as_ref(), &h, keep));
            }
            h = layer.forward(h, mem.as_ref(), pos.clone(), pass);
        }
        if let Some(norm) = &self.final_norm {
            h = layer_norm(norm, h);
        }
        (self.drop.forward(h), Memory { layers: new_mems })
    }

    /// Tied output projection: logits = h Eᵀ + b, in f32 whatever the hidden states' type.
    pub fn logits(&self, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, t, d] = hidden.dims();
        let hidden = to_dtype(hidden, FloatDType::F32).reshape([b * t, d]);
        let w = self.embed.weight.val(); // [vocab, d]
        let vocab = w.dims()[0];
        let logits = matmul(hidden, w.transpose(), Inputs::F32) + self.out_bias.val().unsqueeze();
        logits.reshape([b, t, vocab])
    }

    pub fn vocab_size(&self) -> usize {
        self.embed.weight.dims()[0]
    }
}

impl<B: Backend> XlLayer<B> {
    fn forward(
        &self,
        h: Tensor<B, 3>,
        mem: Option<&Tensor<B, 3>>,
        pos: Tensor<B, 2>,
        pass: Pass,
    ) -> Tensor<B, 3> {
        let mm = pass.compute.products::<B>();
        let attn = self.attention(h.clone(), mem, pos, pass.lookback, mm);
        let h = if self.pre_norm {
            h + attn
        } else {
            layer_norm(&self.norm_attn, h + attn)
        };
        let ff_in = if self.pre_norm {
            layer_norm(&self.norm_ff, h.clone())
        } else {
            h.clone()
        };
        let inner = self.drop.forward(relu(flat(&self.ff1, ff_in, mm)));
        let ff = self.drop.forward(flat(&self.ff2, inner, mm));
        if self.pre_norm {
            h + ff
        } else {
            layer_norm(&self.norm_ff, h + ff)
        }
    }

    /// Relative multi-head attention (eq. 3 of the paper, output after dropout, before residual).
    fn attention(
        &self,
        h: Tensor<B, 3>,
        mem: Option<&Tensor<B, 3>>,
        pos: Tensor<B, 2>,
        lookback: Option<&Lookback>,
        mm: Inputs,
    ) -> Tensor<B, 3> {
        let [b, t, _] = h.dims();
        let (nh, dh) = (self.n_head, self.d_head);
        let cat = match mem {
            Some(m) => cat_time(m.clone(), h.clone()),
            None => h.clone(),
        };
        let klen = cat.dims()[1];
        let (cat, seg) = if self.pre_norm {
            let cat = layer_norm(&self.norm_attn, cat);
            (cat.clone(), cat.narrow(1, klen - t, t))
        } else {
            (cat, h)
        };

        // Keys and values from the two halves of kv_net's weight, so each comes out contiguous.
        let dt = h_dtype(&cat);
        let w_kv = to_dtype(self.kv_net.weight.val(), dt); // [d_model, 2 H Dh]
        let [_, _, d] = cat.dims();
        let cat = cat.reshape([b * klen, d]);
        let k = matmul(cat.clone(), w_kv.clone().narrow(1, 0, nh * dh), mm);
        let v = matmul(cat, w_kv.narrow(1, nh * dh, nh * dh), mm);
        let q = linear_2d(&self.q_net, seg.reshape([b * t, d]), mm);
        // [B len, H Dh] -> [B, H, len, Dh] (queries, values) or [B, H, Dh, len] (keys).
        let heads = |x: Tensor<B, 2>, rows: usize, len: usize, axes: [usize; 4]| {
            permute(x.reshape([rows, len, nh, dh]), axes)
        };
        const SPLIT: [usize; 4] = [0, 2, 1, 3];
        const SPLIT_T: [usize; 4] = [0, 2, 3, 1];
        let k_t = heads(k, b, klen, SPLIT_T);
        let v = heads(v, b, klen, SPLIT);
        let r_t =
            heads(linear_2d(&self.r_net, pos, mm), 1, klen, SPLIT_T).expand([b, nh, dh, klen]);

        // The biases are added before the split (a row broadcast, where flex has a fast path),
        // and the 1/sqrt(d_head) scale goes on the queries rather than the larger scores.
        let scale = 1.0 / (dh as f64).sqrt();
        let biased = |bias: &Param<Tensor<B, 2>>| {
            let bias = to_dtype(bias.val(), dt).reshape([1, nh * dh]);
            let q = (q.clone() + bias).mul_scalar(scale);
            heads(q, b, t, SPLIT)
        };
        // The attention's own products stay f32 on the CPU: with K = d_head and a transposed
        // operand per head, rounding and packing cost more than bf16 saves (measured: the
        // bf16-mixed step is 7-17% faster this way). On a GPU the operands already are bf16.
        let att = Inputs::F32;
        let ac = matmul(biased(&self.r_w_bias), k_t, att); // content: (a) + (c)
        let bd = matmul(biased(&self.r_r_bias), r_t, att); // position: (b) + (d), unshifted
        // Relative shift of bd, causal mask (and lookback), softmax: see
        // fused::rel_softmax_composed.
        let prob = self.dropatt.forward(rel_softmax(ac, bd, lookback));
        let out = permute(matmul(prob, v, att), SPLIT).reshape([b, t, nh * dh]);
        self.drop.forward(flat(&self.o_net, out, mm))
    }
}

/// The last `keep` positions of (memory + this segment's layer input), without gradient.
fn update_memory<B: Backend>(
    mem: Option<&Tensor<B, 3>>,
    h: &Tensor<B, 3>,
    keep: usize,
) -> Tensor<B, 3> {
    let cat = match mem {
        Some(m) => cat_time(m.clone(), h.clone()),
        None => h.clone(),
    };
    let len = cat.dims()[1];
    let keep = keep.min(len);
    cat.narrow(1, len - keep, keep).detach()
}
