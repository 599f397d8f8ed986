//! Gradient-norm clipping over all parameters together (Burn's own clipping is per tensor).

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

/// The global L2 norm of the gradients of `module`'s parameters.
pub fn grad_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &GradientsParams,
) -> f64 {
    let mut v = SquaredSum::<B> { grads, sum: None };
    module.visit(&mut v);
    v.sum.map_or(0.0, |s| s.into_scalar().elem::<f64>().sqrt())
}

/// Scales all gradients by `max_norm / norm` when the global norm exceeds `max_norm`.
/// Returns the norm before clipping.
pub fn clip_grad_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f64,
) -> f64 {
    let norm = grad_norm::<B, M>(module, grads);
    clip_to_norm::<B, M>(module, grads, norm, max_norm);
    norm
}

/// Scales all gradients, whose global norm is `norm`, by `max_norm / norm` when it exceeds
/// `max_norm` (a non-finite norm is left alone).
pub fn clip_to_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &mut GradientsParams,
    norm: f64,
    max_norm: f64,
) {
    if norm > max_norm && norm.is_finite() {
        scale_grads::<B, M>(module, grads, max_norm / (norm + 1e-6));
    }
}

/// Multiplies every gradient by `factor` (in the gradients' own type, f32).
pub fn scale_grads<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &mut GradientsParams,
    factor: f64,
) {
    let mut v = Scale::<B> {
        grads,
        factor,
        _b: std::marker::PhantomData,
    };
    module.visit(&mut v);
}

struct SquaredSum<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredSum<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let s = g.square().sum();
            self.sum = Some(match self.sum.take() {
                Some(acc) => acc + s,
                None => s,
            });
        }
    }
}

struct Scale<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    factor: f64,
    _b: std::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.grads
                .register::<B::InnerBackend, D>(param.id, g * self.factor);
        }
    }
}
