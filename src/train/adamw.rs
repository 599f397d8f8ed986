//! AdamW as one pass per parameter on the CPU backend.
//!
//! Burn's AdamW updates each parameter with about a dozen tensor ops (moments, bias correction,
//! square root, decay, step), each a pass over the parameter: about 7% of a small-model step on
//! CPU. Here the same update, with the same state record (so checkpoints keep their format), is
//! one loop over parameter, gradient and moments. Other backends run Burn's AdamW.
//!
//! Training runs both with no decay of their own: [`WeightDecay`] applies the decoupled decay
//! before the step, to the weight matrices only, the same on every backend.

use burn::module::{AutodiffModule, ModuleMapper, Param, ParamId};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{
    AdamW, AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate, SimpleOptimizer,
};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, Device, Tensor};
use rayon::prelude::*;
use std::collections::HashSet;

use crate::model::TransformerXl;
use crate::model::fused::{Kernels, Output, f32_tensor, from_flex, kernels, to_flex};

/// The optimizer of a training session: the fused AdamW over the model.
pub type Optim<B> = OptimizerAdaptor<FusedAdamW, TransformerXl<B>, B>;

/// AdamW's hyper-parameters (decoupled weight decay, bias-corrected moments).
#[derive(Debug, Clone, Copy)]
pub struct AdamWParams {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub weight_decay: f32,
}

#[derive(Clone)]
pub struct FusedAdamW {
    params: AdamWParams,
    /// Burn's AdamW with the same parameters, for other backends.
    burn: AdamW,
}

impl FusedAdamW {
    pub fn init<B: AutodiffBackend, M: AutodiffModule<B>>(
        params: AdamWParams,
    ) -> OptimizerAdaptor<Self, M, B> {
        let burn = AdamWConfig::new()
            .with_beta_1(params.beta_1)
            .with_beta_2(params.beta_2)
            .with_epsilon(params.epsilon)
            .with_weight_decay(params.weight_decay)
            .build();
        OptimizerAdaptor::from(Self { params, burn })
    }
}

/// AdamW's decoupled weight decay, p ← p·(1 − lr·wd), on the weight matrices only: parameters
/// of two or more dimensions that are not in `skip` (the attention position biases). Biases
/// and LayerNorm (1-D) are never decayed. Applied to the model just before the optimizer step,
/// which is then the same as AdamW's own decay on those parameters.
pub struct WeightDecay<'a> {
    /// 1 − lr·wd, computed as AdamW computes it.
    pub factor: f32,
    pub skip: &'a HashSet<ParamId>,
}

impl WeightDecay<'_> {
    pub fn factor(lr: f64, weight_decay: f64) -> f32 {
        1.0 - (lr * weight_decay) as f32
    }
}

impl<B: AutodiffBackend> ModuleMapper<B> for WeightDecay<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if D < 2 || self.skip.contains(&param.id) {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let require_grad = tensor.is_require_grad();
        let mut decayed = Tensor::from_inner(tensor.inner().mul_scalar(self.factor));
        if require_grad {
            decayed = decayed.require_grad();
        }
        Param::from_mapped_value(id, decayed, mapper)
    }
}

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

impl<B: Backend> SimpleOptimizer<B> for FusedAdamW {
    type State<const D: usize> = AdamWState<B, D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        let cpu = kernels::<B>() == Kernels::Cpu;
        if !cpu || tensor.dtype() != DType::F32 || grad.dtype() != DType::F32 {
            return SimpleOptimizer::<B>::step(&self.burn, lr, tensor, grad, state);
        }
        let AdamWParams {
            beta_1: b1,
            beta_2: b2,
            epsilon,
            weight_decay,
        } = self.params;
        let shape: Vec<usize> = tensor.dims().to_vec();
        let (param, grad) = (
            to_flex(tensor).to_contiguous(),
            to_flex(grad).to_contiguous(),
        );
        let (time, moments) = match state {
            Some(s) => {
                let m = s.momentum;
                let (m1, m2) = (
                    to_flex(m.moment_1).to_contiguous(),
                    to_flex(m.moment_2).to_contiguous(),
                );
                (m.time, Some((m1, m2)))
            }
            None => (0, None),
        };
        let time = time + 1;
        let (c1, c2) = (1.0 - b1.powi(time as i32), 1.0 - b2.powi(time as i32));
        let (lr, decay) = (lr as f32, 1.0 - (lr * weight_decay as f64) as f32);

        let (p, g) = (param.storage::<f32>(), grad.storage::<f32>());
        let n = p.len();
        let (mut new_p, mut new_m1, mut new_m2) = (Output::new(n), Output::new(n), Output::new(n));
        let zeros = vec![0f32; if moments.is_none() { n } else { 0 }];
        let (m1, m2) = match &moments {
            Some((m1, m2)) => (m1.storage::<f32>(), m2.storage::<f32>()),
            None => (&zeros[..], &zeros[..]),
        };
        new_p
            .buf()
            .par_chunks_mut(CHUNK)
            .zip(new_m1.buf().par_chunks_mut(CHUNK))
            .zip(new_m2.buf().par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(c, ((np, nm1), nm2))| {
                let at = c * CHUNK;
                for i in 0..np.len() {
                    let (gi, k) = (g[at + i], at + i);
                    let m = b1 * m1[k] + (1.0 - b1) * gi;
                    let v = b2 * m2[k] + (1.0 - b2) * gi * gi;
                    nm1[i].write(m);
                    nm2[i].write(v);
                    np[i].write(p[k] * decay - lr * ((m / c1) / ((v / c2).sqrt() + epsilon)));
                }
            });
        // SAFETY: the loop above writes every element of the three.
        let (new_p, new_m1, new_m2) =
            unsafe { (new_p.written(), new_m1.written(), new_m2.written()) };
        let state = AdamWState {
            momentum: AdaptiveMomentumState {
                time,
                moment_1: from_flex(f32_tensor(new_m1, shape.clone())),
                moment_2: from_flex(f32_tensor(new_m2, shape.clone())),
                max_moment_2: None,
            },
        };
        (from_flex(f32_tensor(new_p, shape)), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device<B>) -> Self::State<D> {
        <AdamW as SimpleOptimizer<B>>::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuBackend;
    use burn::tensor::Distribution;

    /// Three steps agree with Burn's AdamW, state included.
    #[test]
    fn fused_steps_match_burn() {
        type B = CpuBackend;
        let device = Default::default();
        let params = AdamWParams {
            beta_1: 0.9,
            beta_2: 0.98,
            epsilon: 1e-8,
            weight_decay: 0.01,
        };
        let ours = FusedAdamW {
            params,
            burn: AdamWConfig::new()
                .with_beta_1(0.9)
                .with_beta_2(0.98)
                .with_epsilon(1e-8)
                .with_weight_decay(0.01)
                .build(),
        };
        let mut p = (
            Tensor::<B, 2>::random([50, 30], Distribution::Default, &device),
            None,
        );
        let mut q = (p.0.clone(), None);
        for step in 0..3 {
            let g = Tensor::<B, 2>::random([50, 30], Distribution::Normal(0.0, 1.0), &device);
            let lr = 1e-3 * (step + 1) as f64;
            p = SimpleOptimizer::<B>::step(&ours, lr, p.0, g.clone(), p.1);
            q = SimpleOptimizer::<B>::step(&ours.burn, lr, q.0, g, q.1);
        }
        let v = |t: Tensor<B, 2>| t.into_data().to_vec::<f32>().unwrap();
        let (ps, qs) = (p.1.unwrap().momentum, q.1.unwrap().momentum);
        assert_eq!(ps.time, qs.time);
        for (a, b) in [
            (p.0, q.0),
            (ps.moment_1, qs.moment_1),
            (ps.moment_2, qs.moment_2),
        ] {
            for (x, y) in v(a).iter().zip(v(b)) {
                assert!((x - y).abs() <= 1e-6 * y.abs().max(1.0), "{x} vs {y}");
            }
        }
    }
}
