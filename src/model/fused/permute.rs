//! Permuting a 4-D tensor into contiguous memory: splitting `[B, L, H, Dh]` into heads
//! `[B, H, L, Dh]` (or keys already transposed, `[B, H, Dh, L]`) and merging them back. Burn's
//! permute is a strided view; the copy that later makes it contiguous (in a reshape, or in the
//! backward pass) goes element by element through an index iterator on flex. Here it is one pass
//! that reads the source through its strides, both ways.

use burn::backend::flex::FlexTensor;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rayon::prelude::*;

use super::{Kernel, Output, dims, f32_tensor, put, run};

/// `x.permute(axes)`, contiguous.
pub fn permute<B: Backend>(x: Tensor<B, 4>, axes: [usize; 4]) -> Tensor<B, 4> {
    run(Permute(axes), [x], |[x]| x.permute(axes))
}

#[derive(Debug)]
struct Permute([usize; 4]);

impl Kernel<1> for Permute {
    type State = [usize; 4];

    fn forward(&self, [x]: [&FlexTensor; 1]) -> (FlexTensor, [usize; 4]) {
        (permuted(x, self.0), self.0)
    }

    fn backward(axes: [usize; 4], grad: &FlexTensor) -> [FlexTensor; 1] {
        let mut inverse = [0; 4];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        [permuted(grad, inverse)]
    }
}

fn permuted(x: &FlexTensor, axes: [usize; 4]) -> FlexTensor {
    let layout = x.layout();
    if layout.strides().iter().any(|&s| s < 0) {
        return permuted(&x.to_contiguous(), axes);
    }
    let shape = dims(x);
    let [_, n1, n2, n3] = axes.map(|a| shape[a]);
    let s = axes.map(|a| layout.strides()[a] as usize);
    let (src, start) = (x.storage::<f32>(), layout.start_offset());
    let mut out = Output::new(shape.iter().product());
    // One task per output block [n2, n3]; rows are runs of n3 read with the input's stride.
    out.buf()
        .par_chunks_mut(n2 * n3)
        .enumerate()
        .for_each(|(i01, block)| {
            let base = start + (i01 / n1) * s[0] + (i01 % n1) * s[1];
            for (i2, row) in block.chunks_exact_mut(n3).enumerate() {
                let from = base + i2 * s[2];
                if s[3] == 1 {
                    put(row, &src[from..from + n3]);
                } else {
                    for (l, v) in row.iter_mut().enumerate() {
                        v.write(src[from + l * s[3]]);
                    }
                }
            }
        });
    // SAFETY: the blocks tile the output and every row of each block is written.
    let out = unsafe { out.written() };
    f32_tensor(out, axes.map(|a| shape[a]).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuTrainBackend;
    use burn::tensor::Distribution;

    /// Forward and gradient equal Burn's permute, also from a strided (transposed) input.
    #[test]
    fn permute_and_its_gradient_match_burn() {
        type B = CpuTrainBackend;
        let device = Default::default();
        let x = Tensor::<B, 4>::random([2, 3, 4, 5], Distribution::Default, &device);
        for axes in [[0, 2, 1, 3], [0, 2, 3, 1], [1, 0, 3, 2]] {
            for strided in [false, true] {
                let run = |fused: bool| {
                    let x = x.clone().require_grad();
                    let input = if strided {
                        x.clone().swap_dims(2, 3)
                    } else {
                        x.clone()
                    };
                    let y = if fused {
                        permute(input, axes)
                    } else {
                        input.permute(axes)
                    };
                    let w = Tensor::<B, 4>::ones(y.shape(), &device).mul(y.clone().detach());
                    let grads = (y.clone() * w).sum().backward();
                    let g = x.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
                    (y.into_data().to_vec::<f32>().unwrap(), g)
                };
                assert_eq!(run(true), run(false), "axes {axes:?}, strided {strided}");
            }
        }
    }
}
