//! Dropout with masks drawn on the host on the CPU backend.
//!
//! Burn's `Dropout` samples every mask element through a chacha20 distribution sampler: about 12%
//! of a small-model training step on CPU. Here a CPU mask comes from our xoshiro generator, two
//! elements per draw, already scaled by 1/(1-p), so dropout is one multiply. On other backends
//! (CUDA) the mask is drawn on the device as Burn does, to avoid a host-to-device copy per call.
//!
//! The host generator is per thread and seeded with [`seed`], the way Burn's `B::seed` seeds the
//! device one: the trainer reseeds both before each step, so a resumed run draws the same masks.

use std::any::TypeId;
use std::cell::RefCell;

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use rayon::prelude::*;

use super::CpuBackend;
use crate::rng::Rng;

thread_local! {
    static HOST_RNG: RefCell<Rng> = RefCell::new(Rng::new(0));
}

/// Seeds this thread's host mask generator.
pub fn seed(seed: u64) {
    HOST_RNG.with(|r| *r.borrow_mut() = Rng::new(seed));
}

/// Zeroes each element with probability `prob` and scales the rest by 1/(1-prob), in training
/// (autodiff) only.
#[derive(Module, Clone, Debug)]
pub struct Dropout {
    pub prob: f64,
}

impl Dropout {
    pub fn new(prob: f64) -> Self {
        Self { prob }
    }

    pub fn forward<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let device = x.device();
        if !B::ad_enabled(&device) || self.prob == 0.0 {
            return x;
        }
        if TypeId::of::<B::Device>() != TypeId::of::<Device<CpuBackend>>() {
            let keep = 1.0 - self.prob;
            return x.clone() * x.random_like(Distribution::Bernoulli(keep)) * (1.0 / keep);
        }
        let shape = x.shape();
        let mask = HOST_RNG.with(|r| host_mask(shape.num_elements(), self.prob, &mut r.borrow_mut()));
        x * Tensor::from_data(TensorData::new(mask, shape), &device)
    }
}

/// Mask elements per parallel task, each task with its own generator seeded from one draw, so
/// the mask does not depend on the number of threads.
const CHUNK: usize = 1 << 16;

/// `n` values, each 0 with probability `prob` (to 2^-32) and 1/(1-prob) otherwise.
fn host_mask(n: usize, prob: f64, rng: &mut Rng) -> Vec<f32> {
    let kept = (1.0 / (1.0 - prob)) as f32;
    let threshold = (prob * 4_294_967_296.0) as u64;
    let value = |bits: u64| if bits < threshold { 0.0 } else { kept };
    let seed = rng.next_u64();
    let mut mask = vec![0f32; n];
    mask.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut rng = Rng::new(seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut pairs = chunk.chunks_exact_mut(2);
        for pair in &mut pairs {
            let r = rng.next_u64();
            pair[0] = value(r & 0xFFFF_FFFF);
            pair[1] = value(r >> 32);
        }
        if let [last] = pairs.into_remainder() {
            *last = value(rng.next_u64() & 0xFFFF_FFFF);
        }
    });
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_mask_drops_the_asked_share_and_keeps_the_mean() {
        let mut rng = Rng::new(7);
        let n = 200_001; // odd: the last element takes the remainder path
        let mask = host_mask(n, 0.1, &mut rng);
        let dropped = mask.iter().filter(|&&v| v == 0.0).count() as f64 / n as f64;
        let mean = mask.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!((dropped - 0.1).abs() < 0.003, "dropped share {dropped}");
        assert!((mean - 1.0).abs() < 0.005, "mean {mean}");
        assert!(mask.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
    }

    #[test]
    fn masks_follow_the_seed() {
        type B = crate::model::CpuTrainBackend;
        let device = Default::default();
        let x = Tensor::<B, 2>::ones([64, 64], &device);
        let drop = Dropout::new(0.5);
        let draw = |s| {
            seed(s);
            drop.forward(x.clone()).into_data().to_vec::<f32>().unwrap()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}
