//! The attention probabilities of relative attention, `softmax(mask(AC + shift(BD)))`.
//!
//! Composed from Burn ops this is the relative shift (a concatenation and a strided copy), an
//! add, a mask fill and a softmax, each a pass over `[B, H, T, klen]`, and as many again
//! backwards. Fused, it is one pass each way: the shift becomes an index offset and the causal
//! mask a row length.

use burn::backend::flex::FlexTensor;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, DType, FloatDType, Tensor, TensorData};
use rayon::prelude::*;
use std::sync::Arc;

use super::{Kernel, Output, dims, f32_tensor, put, put_zeros, run};
use crate::model::{Lookback, rel_shift};

/// `ac`, `bd`: `[B, H, T, klen]` content and (unshifted) position scores, `bd[.., i, c]` for
/// distance `klen-1-c`. Returns the probabilities of query i (absolute position `klen-T+i`) over
/// keys `j <= klen-T+i` (and, with a lookback, `j >= klen-T+i-lookback`), zero elsewhere.
pub fn rel_softmax<B: Backend>(
    ac: Tensor<B, 4>,
    bd: Tensor<B, 4>,
    lookback: Option<&Lookback>,
) -> Tensor<B, 4> {
    // The softmax runs in f32 whatever the scores' float type; the probabilities go back.
    let dt = ac.dtype();
    if dt != DType::F32 {
        let f32 = |x: Tensor<B, 4>| x.cast(FloatDType::F32);
        return rel_softmax(f32(ac), f32(bd), lookback).cast(dt);
    }
    let kernel = RelSoftmax(lookback.map(|l| l.0.clone()));
    run(kernel, [ac, bd], |[ac, bd]| {
        rel_softmax_composed(ac, bd, lookback)
    })
}

/// The same function from Burn ops, as the paper's code computes it.
pub fn rel_softmax_composed<B: Backend>(
    ac: Tensor<B, 4>,
    bd: Tensor<B, 4>,
    lookback: Option<&Lookback>,
) -> Tensor<B, 4> {
    let [b, h, t, klen] = ac.dims();
    let device = ac.device();
    let mask = match lookback {
        None => Tensor::<B, 2, Bool>::tril_mask([t, klen], (klen - t) as i64, &device)
            .unsqueeze::<4>()
            .expand([b, h, t, klen]),
        Some(lookback) => {
            let rows = Rows::new(t, klen, h, Some(lookback.0.clone()));
            let masked: Vec<bool> = (0..b * t * klen)
                .map(|n| {
                    let (first, len, _) = rows.span((n / klen / t) * h * t + (n / klen) % t);
                    !(first..len).contains(&(n % klen))
                })
                .collect();
            Tensor::<B, 3, Bool>::from_bool(TensorData::new(masked, [b, t, klen]), &device)
                .unsqueeze_dim::<4>(1)
                .expand([b, h, t, klen])
        }
    };
    softmax((ac + rel_shift(bd)).mask_fill(mask, -1e9), 3)
}

/// The kernel, with the lookback of each `[B, T]` query when there is one.
#[derive(Debug)]
struct RelSoftmax(Option<Arc<[u32]>>);

impl Kernel<2> for RelSoftmax {
    /// The probabilities and the lookback.
    type State = (FlexTensor, Option<Arc<[u32]>>);

    fn forward(&self, [ac, bd]: [&FlexTensor; 2]) -> (FlexTensor, Self::State) {
        let rows = Rows::of(ac, self.0.clone());
        let (ac, bd) = (ac.to_contiguous(), bd.to_contiguous());
        let (a, b) = (ac.storage::<f32>(), bd.storage::<f32>());
        let k = rows.klen;
        let mut prob = Output::new(a.len());
        prob.buf()
            .par_chunks_mut(k)
            .enumerate()
            .with_min_len(ROWS_PER_TASK)
            .for_each_init(
                || vec![0f32; k],
                |row_p, (r, p)| {
                    let (first, len, shift) = rows.span(r);
                    let row = r * k;
                    let a = &a[row + first..row + len];
                    let b = &b[row + shift + first..row + shift + len];
                    softmax_row(a, b, &mut row_p[first..len]);
                    put_zeros(&mut p[..first]);
                    put(&mut p[first..len], &row_p[first..len]);
                    put_zeros(&mut p[len..]);
                },
            );
        // SAFETY: every row is written in full: zeros, probabilities, zeros.
        let prob = unsafe { prob.written() };
        let prob = f32_tensor(prob, dims(&ac));
        (prob.clone(), (prob, self.0.clone()))
    }

    fn backward((prob, lookback): Self::State, grad: &FlexTensor) -> [FlexTensor; 2] {
        let rows = Rows::of(&prob, lookback);
        let grad = grad.to_contiguous();
        let (p, g) = (prob.storage::<f32>(), grad.storage::<f32>());
        let k = rows.klen;
        let (mut d_ac, mut d_bd) = (Output::new(p.len()), Output::new(p.len()));
        d_ac.buf()
            .par_chunks_mut(k)
            .zip(d_bd.buf().par_chunks_mut(k))
            .enumerate()
            .with_min_len(ROWS_PER_TASK)
            .for_each_init(
                || vec![0f32; k],
                |ds, (r, (da, db))| {
                    let (first, len, shift) = rows.span(r);
                    let row = r * k;
                    let (p, g) = (&p[row + first..row + len], &g[row + first..row + len]);
                    softmax_grad_row(p, g, &mut ds[first..len]);
                    // The masked keys get no gradient; in bd the keys start at `shift`, and
                    // shift + len = klen.
                    put_zeros(&mut da[..first]);
                    put(&mut da[first..len], &ds[first..len]);
                    put_zeros(&mut da[len..]);
                    put_zeros(&mut db[..shift + first]);
                    put(&mut db[shift + first..], &ds[first..len]);
                },
            );
        // SAFETY: every row of both is written in full, gradients and zeros.
        let (d_ac, d_bd) = unsafe { (d_ac.written(), d_bd.written()) };
        let shape = dims(&prob);
        [f32_tensor(d_ac, shape.clone()), f32_tensor(d_bd, shape)]
    }
}

/// Rows per parallel task (a row is klen floats).
const ROWS_PER_TASK: usize = 64;

/// The rows of `[B, H, T, klen]`, each a query.
struct Rows {
    t: usize,
    klen: usize,
    heads: usize,
    /// Per `[B, T]` query: the most keys before its own it sees.
    lookback: Option<Arc<[u32]>>,
}

impl Rows {
    fn new(t: usize, klen: usize, heads: usize, lookback: Option<Arc<[u32]>>) -> Self {
        Rows {
            t,
            klen,
            heads,
            lookback,
        }
    }

    fn of(x: &FlexTensor, lookback: Option<Arc<[u32]>>) -> Self {
        let d = dims(x);
        Rows::new(d[2], d[3], d[1], lookback)
    }

    /// For row r: the first key and the end of the keys its query sees, and where key 0 is in
    /// its unshifted BD row.
    fn span(&self, r: usize) -> (usize, usize, usize) {
        let i = r % self.t;
        let own = self.klen - self.t + i;
        let first = self.lookback.as_ref().map_or(0, |l| {
            let query = (r / (self.heads * self.t)) * self.t + i;
            own.saturating_sub(l[query] as usize)
        });
        (first, own + 1, self.t - 1 - i)
    }
}

/// Lanes of the row loops: independent accumulators, so the max and sum reductions vectorise
/// (a single float accumulator forces one element at a time).
const LANES: usize = 16;

with_avx2! {
/// `p = softmax(a + b)`.
fn softmax_row(a: &[f32], b: &[f32], p: &mut [f32]) {
    let mut max = [f32::NEG_INFINITY; LANES];
    for ((p, a), b) in p.iter_mut().zip(a).zip(b) {
        *p = a + b;
    }
    for chunk in p.chunks(LANES) {
        for (m, x) in max.iter_mut().zip(chunk) {
            *m = m.max(*x);
        }
    }
    let max = max.iter().fold(f32::NEG_INFINITY, |m, x| m.max(*x));
    let mut sum = [0f32; LANES];
    for chunk in p.chunks_mut(LANES) {
        for (s, x) in sum.iter_mut().zip(chunk) {
            *x = exp(*x - max);
            *s += *x;
        }
    }
    let inv = 1.0 / sum.iter().sum::<f32>();
    for p in p.iter_mut() {
        *p *= inv;
    }
}
}

with_avx2! {
/// `d = p ⊙ (g - Σ p g)`, the softmax's input gradient.
fn softmax_grad_row(p: &[f32], g: &[f32], d: &mut [f32]) {
    let mut dot = [0f32; LANES];
    for (p, g) in p.chunks(LANES).zip(g.chunks(LANES)) {
        for ((s, p), g) in dot.iter_mut().zip(p).zip(g) {
            *s += p * g;
        }
    }
    let dot: f32 = dot.iter().sum();
    for ((d, p), g) in d.iter_mut().zip(p).zip(g) {
        *d = p * (g - dot);
    }
}
}

/// e^x for x <= 0 (a score minus its row's maximum), to a few ulp; written so the loop
/// vectorises (libm's expf is a call per element).
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let x = x.max(-87.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Taylor polynomial of e^r on |r| <= ln2/2.
    let poly = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    poly * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuTrainBackend;
    use burn::tensor::Distribution;

    #[test]
    fn fast_exp_matches_std() {
        let mut worst = 0f32;
        for i in 0..=87_000 {
            let x = -(i as f32) / 1000.0;
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            worst = worst.max(rel);
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
    }

    /// The fused kernel against the Burn composition, forward and both gradients, with and
    /// without memory (klen > T and klen = T), with and without a lookback.
    #[test]
    fn fused_matches_composition() {
        type B = CpuTrainBackend;
        let device = Default::default();
        for (t, klen, lookback) in [
            (5, 12, None),
            (7, 7, None),
            (5, 12, Some(vec![0, 9, 2, 30, 1, 4, 0, 3, 8, 2])),
        ] {
            let lookback = lookback.map(|l: Vec<u32>| Lookback(l.into()));
            let shape = [2, 3, t, klen];
            let ac = Tensor::<B, 4>::random(shape, Distribution::Normal(0.0, 2.0), &device);
            let bd = Tensor::<B, 4>::random(shape, Distribution::Normal(0.0, 2.0), &device);
            let w = Tensor::<B, 4>::random(shape, Distribution::Default, &device);
            let run = |fused: bool| {
                let (a, b) = (ac.clone().require_grad(), bd.clone().require_grad());
                let p = if fused {
                    rel_softmax(a.clone(), b.clone(), lookback.as_ref())
                } else {
                    rel_softmax_composed(a.clone(), b.clone(), lookback.as_ref())
                };
                let grads = (p.clone() * w.clone()).sum().backward();
                let values = |x: Tensor<_, 4>| x.into_data().to_vec::<f32>().unwrap();
                let (ga, gb) = (a.grad(&grads).unwrap(), b.grad(&grads).unwrap());
                [values(p.inner()), values(ga), values(gb)]
            };
            let (fused, reference) = (run(true), run(false));
            for (x, y) in fused.iter().flatten().zip(reference.iter().flatten()) {
                assert!((x - y).abs() < 1e-6, "{x} vs {y} (t {t}, klen {klen})");
            }
            // Keys in the future or beyond the lookback get exactly zero probability.
            assert!(fused[0].iter().enumerate().all(|(n, p)| {
                let (b, i, j) = (n / (3 * t * klen), (n / klen) % t, n % klen);
                let own = klen - t + i;
                let reach = lookback.as_ref().map_or(own, |l| l.0[b * t + i] as usize);
                (j <= own && j + reach >= own) || *p == 0.0
            }));
        }
    }
}
