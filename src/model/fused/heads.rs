//! Swapping dims 1 and 2 of a 4-D tensor into contiguous memory: splitting `[B, L, H, Dh]` into
//! heads `[B, H, L, Dh]` and merging them back. Burn's swap is a strided view; the copy that
//! makes it contiguous (in the next reshape, or in the backward pass) goes element by element on
//! flex. Here it is a copy of `Dh`-long runs, both ways.

use burn::backend::flex::FlexTensor;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rayon::prelude::*;

use super::{Kernel, dims, f32_tensor, run};

/// `x.swap_dims(1, 2)`, contiguous.
pub fn swap_dims_1_2<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    run(Swap, [x], |[x]| x.swap_dims(1, 2))
}

#[derive(Debug)]
struct Swap;

impl Kernel<1> for Swap {
    type State = ();

    fn forward(&self, [x]: [&FlexTensor; 1]) -> (FlexTensor, ()) {
        (swap(x), ())
    }

    fn backward(_: (), grad: &FlexTensor) -> [FlexTensor; 1] {
        [swap(grad)]
    }
}

fn swap(x: &FlexTensor) -> FlexTensor {
    let [a, b, c, d] = dims(x)[..] else {
        panic!("swap_dims_1_2 takes a 4-D tensor")
    };
    let x = x.to_contiguous();
    let src = x.storage::<f32>();
    let mut out = vec![0f32; src.len()];
    // Output block (i, k) is [b, d]: row j comes from input (i, j, k).
    out.par_chunks_mut(b * d).enumerate().for_each(|(ik, block)| {
        let (i, k) = (ik / c, ik % c);
        for (j, row) in block.chunks_exact_mut(d).enumerate() {
            let from = ((i * b + j) * c + k) * d;
            row.copy_from_slice(&src[from..from + d]);
        }
    });
    f32_tensor(out, vec![a, c, b, d])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuTrainBackend;
    use burn::tensor::Distribution;

    #[test]
    fn swap_and_its_gradient_match_burn() {
        type B = CpuTrainBackend;
        let device = Default::default();
        let x = Tensor::<B, 4>::random([2, 3, 4, 5], Distribution::Default, &device);
        let w = Tensor::<B, 4>::random([2, 4, 3, 5], Distribution::Default, &device);
        let run = |fused: bool| {
            let x = x.clone().require_grad();
            let y = if fused {
                swap_dims_1_2(x.clone())
            } else {
                x.clone().swap_dims(1, 2)
            };
            let grads = (y.clone() * w.clone()).sum().backward();
            let g = x.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
            (y.into_data().to_vec::<f32>().unwrap(), g)
        };
        assert_eq!(run(true), run(false));
    }
}
