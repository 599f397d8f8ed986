//! Dropout with masks drawn on the host on the CPU backend.
//!
//! Burn's `Dropout` samples every mask element through a chacha20 distribution sampler: about 12%
//! of a small-model training step on CPU. Here a CPU mask is a hash of the element index and one
//! draw of our seeded generator, already scaled by 1/(1-p), so dropout is one multiply. On other
//! backends (CUDA) the mask is drawn on the device as Burn does, to avoid a host-to-device copy
//! per call.
//!
//! The host generator is per thread and seeded with [`seed`], the way Burn's `B::seed` seeds the
//! device one: the trainer reseeds both before each step, so a resumed run draws the same masks.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};
use rayon::prelude::*;

use super::fused::{Kernels, Output, kernels};
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
        if kernels::<B>() == Kernels::Burn {
            let keep = 1.0 - self.prob;
            return x.clone() * x.random_like(Distribution::Bernoulli(keep)) * (1.0 / keep);
        }
        let shape = x.shape();
        let mask =
            HOST_RNG.with(|r| host_mask(shape.num_elements(), self.prob, &mut r.borrow_mut()));
        let mask = Tensor::from_data(TensorData::new(mask, shape), &device);
        // Mixed precision: the mask in the activations' type.
        let dt = x.dtype().into();
        x * super::to_dtype(mask, dt)
    }
}

/// Mask elements per parallel task.
const CHUNK: usize = 1 << 16;

/// `n` values, each 0 with probability `prob` (to 2^-32) and 1/(1-prob) otherwise. Element i
/// draws from a hash of (i, one 64-bit draw of `rng`): counter-based, so chunks fill in parallel
/// and vectorise, and the mask does not depend on the number of threads.
fn host_mask(n: usize, prob: f64, rng: &mut Rng) -> Vec<f32> {
    let kept = (1.0 / (1.0 - prob)) as f32;
    let threshold = (prob * 4_294_967_296.0).min(u32::MAX as f64) as u32;
    let seed = rng.next_u64();
    let mut mask = Output::new(n);
    mask.buf()
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| fill_mask(chunk, (c * CHUNK) as u32, seed, threshold, kept));
    // SAFETY: fill_mask writes every element of its chunk.
    unsafe { mask.written() }
}

with_avx2! {
fn fill_mask(chunk: &mut [MaybeUninit<f32>], first: u32, seed: u64, threshold: u32, kept: f32) {
    let (lo, hi) = (seed as u32, (seed >> 32) as u32);
    for (i, m) in chunk.iter_mut().enumerate() {
        let bits = mix32(mix32((first + i as u32).wrapping_mul(0x9E37_79B9) ^ lo) ^ hi);
        m.write(if bits < threshold { 0.0 } else { kept });
    }
}
}

/// A 32-bit integer hash with full avalanche (Wellons' "lowbias32").
#[inline(always)]
fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_mask_drops_the_asked_share_and_keeps_the_mean() {
        let mut rng = Rng::new(7);
        let n = 200_001; // not a multiple of the parallel chunk
        let mask = host_mask(n, 0.1, &mut rng);
        let dropped = mask.iter().filter(|&&v| v == 0.0).count() as f64 / n as f64;
        let mean = mask.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!((dropped - 0.1).abs() < 0.003, "dropped share {dropped}");
        assert!((mean - 1.0).abs() < 0.005, "mean {mean}");
        assert!(
            mask.iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6)
        );
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
