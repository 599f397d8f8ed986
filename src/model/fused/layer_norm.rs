//! Layer norm with its gradient as one kernel. flex has a fused forward, but Burn's autodiff
//! runs layer norm as its decomposition (mean, centre, variance, divide, scale, shift), each a
//! pass with its own backward; here it is one pass forward and one back.

use burn::backend::flex::FlexTensor;
use burn::nn::LayerNorm;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, FloatDType, Tensor};
use rayon::prelude::*;

use std::mem::MaybeUninit;

use super::{Kernel, Output, dims, f32_tensor, run};

/// The epsilon of `LayerNormConfig`'s default, which the model's layer norms use.
const EPSILON: f32 = 1e-5;

/// Rows per parallel task.
const ROWS_PER_TASK: usize = 32;

/// `norm.forward(x)`, normalising over the last dim; in f32 whatever `x`'s float type (the
/// statistics of a bf16 or f16 row lose too much), the result cast back.
pub fn layer_norm<B: Backend>(norm: &LayerNorm<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let dt = x.dtype();
    if dt != DType::F32 {
        return layer_norm(norm, x.cast(FloatDType::F32)).cast(dt);
    }
    let [b, t, d] = x.dims();
    let Some(beta) = &norm.beta else {
        return norm.forward(x);
    };
    let inputs = [
        x.clone().reshape([b * t, d]),
        norm.gamma.val().reshape([1, d]),
        beta.val().reshape([1, d]),
    ];
    run(LayerNormKernel, inputs, |_| {
        norm.forward(x).reshape([b * t, d])
    })
    .reshape([b, t, d])
}

#[derive(Debug)]
struct LayerNormKernel;

/// What the backward pass needs: the normalised input, 1/std per row, and gamma.
#[derive(Debug, Clone)]
struct Saved {
    xhat: FlexTensor,
    rstd: Vec<f32>,
    gamma: FlexTensor,
}

impl Kernel<3> for LayerNormKernel {
    type State = Saved;

    fn forward(&self, [x, gamma, beta]: [&FlexTensor; 3]) -> (FlexTensor, Saved) {
        let (x, gamma, beta) = (
            x.to_contiguous(),
            gamma.to_contiguous(),
            beta.to_contiguous(),
        );
        let shape = dims(&x);
        let d = shape[1];
        let (src, g, b) = (
            x.storage::<f32>(),
            gamma.storage::<f32>(),
            beta.storage::<f32>(),
        );
        let (mut xhat, mut out) = (Output::new(src.len()), Output::new(src.len()));
        let mut rstd = vec![0f32; shape[0]];
        xhat.buf()
            .par_chunks_mut(d)
            .zip(out.buf().par_chunks_mut(d))
            .zip(rstd.par_iter_mut())
            .zip(src.par_chunks(d))
            .with_min_len(ROWS_PER_TASK)
            .for_each(|(((xh, y), rs), x)| *rs = normalise_row(x, g, b, xh, y));
        // SAFETY: normalise_row writes every element of its rows.
        let (xhat, out) = unsafe { (xhat.written(), out.written()) };
        let saved = Saved {
            xhat: f32_tensor(xhat, shape.clone()),
            rstd,
            gamma,
        };
        (f32_tensor(out, shape), saved)
    }

    fn backward(saved: Saved, grad: &FlexTensor) -> [FlexTensor; 3] {
        let grad = grad.to_contiguous();
        let shape = dims(&saved.xhat);
        let d = shape[1];
        let (xhat, g, dy) = (
            saved.xhat.storage::<f32>(),
            saved.gamma.storage::<f32>(),
            grad.storage::<f32>(),
        );
        let mut dx = Output::new(xhat.len());
        let task = ROWS_PER_TASK * d;
        // Per task: dx rows, and partial sums of d gamma and d beta, added up in task order
        // afterwards (rayon's reduce tree depends on scheduling, and float sums on their order).
        let partials: Vec<(Vec<f32>, Vec<f32>)> = dx
            .buf()
            .par_chunks_mut(task)
            .zip(xhat.par_chunks(task).zip(dy.par_chunks(task)))
            .zip(saved.rstd.par_chunks(ROWS_PER_TASK))
            .map(|((dx, (xhat, dy)), rstd)| {
                let (mut dg, mut db) = (vec![0f32; d], vec![0f32; d]);
                for (((dx, xhat), dy), rstd) in dx
                    .chunks_mut(d)
                    .zip(xhat.chunks(d))
                    .zip(dy.chunks(d))
                    .zip(rstd)
                {
                    grad_row(xhat, dy, g, *rstd, dx, &mut dg, &mut db);
                }
                (dg, db)
            })
            .collect();
        let (mut dgamma, mut dbeta) = (vec![0f32; d], vec![0f32; d]);
        for (dg, db) in partials {
            dgamma.iter_mut().zip(dg).for_each(|(a, b)| *a += b);
            dbeta.iter_mut().zip(db).for_each(|(a, b)| *a += b);
        }
        // SAFETY: grad_row writes every element of its rows.
        let dx = unsafe { dx.written() };
        [
            f32_tensor(dx, shape),
            f32_tensor(dgamma, vec![1, d]),
            f32_tensor(dbeta, vec![1, d]),
        ]
    }
}

/// Lanes of the row sums, so they vectorise.
const LANES: usize = 16;

fn lane_sum(x: &[f32], f: impl Fn(usize, f32) -> f32) -> f32 {
    let mut acc = [0f32; LANES];
    for (c, chunk) in x.chunks(LANES).enumerate() {
        for (l, (a, v)) in acc.iter_mut().zip(chunk).enumerate() {
            *a += f(c * LANES + l, *v);
        }
    }
    acc.iter().sum()
}

with_avx2! {
/// Normalises one row into `xhat` and `y = xhat * g + b`; returns 1/std.
fn normalise_row(
    x: &[f32],
    g: &[f32],
    b: &[f32],
    xhat: &mut [MaybeUninit<f32>],
    y: &mut [MaybeUninit<f32>]
) -> f32 {
    let n = x.len() as f32;
    let mean = lane_sum(x, |_, v| v) / n;
    let var = lane_sum(x, |_, v| (v - mean) * (v - mean)) / n;
    let rstd = 1.0 / (var + EPSILON).sqrt();
    for ((((xh, y), x), g), b) in xhat.iter_mut().zip(y.iter_mut()).zip(x).zip(g).zip(b) {
        let v = (x - mean) * rstd;
        xh.write(v);
        y.write(v * g + b);
    }
    rstd
}
}

with_avx2! {
/// One row's input gradient, and its share of the gamma and beta gradients.
fn grad_row(
    xhat: &[f32],
    dy: &[f32],
    g: &[f32],
    rstd: f32,
    dx: &mut [MaybeUninit<f32>],
    dgamma: &mut [f32],
    dbeta: &mut [f32]
) {
    let n = xhat.len() as f32;
    // dxhat = dy * g; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
    let mean_dxhat = lane_sum(dy, |j, v| v * g[j]) / n;
    let mean_dxhat_xhat = lane_sum(dy, |j, v| v * g[j] * xhat[j]) / n;
    for j in 0..xhat.len() {
        dx[j].write(rstd * (dy[j] * g[j] - mean_dxhat - xhat[j] * mean_dxhat_xhat));
        dgamma[j] += dy[j] * xhat[j];
        dbeta[j] += dy[j];
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuTrainBackend;
    use burn::module::Param;
    use burn::nn::LayerNormConfig;
    use burn::tensor::Distribution;

    #[test]
    fn layer_norm_and_its_gradients_match_burn() {
        type B = CpuTrainBackend;
        let device = Default::default();
        let mut norm = LayerNormConfig::new(40).init::<B>(&device);
        // Not the identity init, so gamma and beta matter.
        norm.gamma = Param::from_tensor(Tensor::random(
            [40],
            Distribution::Normal(1.0, 0.3),
            &device,
        ));
        let x = Tensor::<B, 3>::random([3, 70, 40], Distribution::Normal(0.5, 2.0), &device);
        let w = Tensor::<B, 3>::random([3, 70, 40], Distribution::Default, &device);
        let run = |fused: bool| {
            let x = x.clone().require_grad();
            let y = if fused {
                layer_norm(&norm, x.clone())
            } else {
                norm.forward(x.clone())
            };
            let grads = (y.clone() * w.clone()).sum().backward();
            let v = |t: Tensor<_, 3>| t.into_data().to_vec::<f32>().unwrap();
            let w = |t: Tensor<_, 1>| t.into_data().to_vec::<f32>().unwrap();
            let beta = norm.beta.as_ref().unwrap();
            [
                v(y.inner()),
                v(x.grad(&grads).unwrap()),
                w(norm.gamma.grad(&grads).unwrap()),
                w(beta.grad(&grads).unwrap()),
            ]
        };
        let (fused, reference) = (run(true), run(false));
        for (part, (f, r)) in fused.iter().zip(&reference).enumerate() {
            for (x, y) in f.iter().zip(r) {
                assert!(
                    (x - y).abs() <= 2e-4 * y.abs().max(1.0),
                    "part {part}: {x} vs {y}"
                );
            }
        }
    }
}
