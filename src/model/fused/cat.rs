//! Concatenating memory and segment along time, `[B, M, d] ++ [B, T, d]`. Burn's backward hands
//! each input a strided view of the gradient; the segment's is then added to its other gradients
//! (queries, residual) element by element through an index iterator on flex. Here both come back
//! contiguous.

use burn::backend::flex::FlexTensor;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rayon::prelude::*;

use super::{Kernel, Output, dims, f32_tensor, put, run};

/// `Tensor::cat(vec![a, b], 1)` for 3-D tensors.
pub fn cat_time<B: Backend>(a: Tensor<B, 3>, b: Tensor<B, 3>) -> Tensor<B, 3> {
    run(CatTime, [a, b], |[a, b]| Tensor::cat(vec![a, b], 1))
}

#[derive(Debug)]
struct CatTime;

impl Kernel<2> for CatTime {
    /// Length of the first part.
    type State = usize;

    fn forward(&self, [a, b]: [&FlexTensor; 2]) -> (FlexTensor, usize) {
        let (a, b) = (a.to_contiguous(), b.to_contiguous());
        let ([n, la, d], lb) = (dims3(&a), dims3(&b)[1]);
        let (sa, sb) = (a.storage::<f32>(), b.storage::<f32>());
        let mut out = Output::new(n * (la + lb) * d);
        out.buf()
            .par_chunks_mut((la + lb) * d)
            .enumerate()
            .for_each(|(i, row)| {
                let (ra, rb) = row.split_at_mut(la * d);
                put(ra, &sa[i * la * d..(i + 1) * la * d]);
                put(rb, &sb[i * lb * d..(i + 1) * lb * d]);
            });
        // SAFETY: each output row is the two input rows, written in full.
        let out = unsafe { out.written() };
        (f32_tensor(out, vec![n, la + lb, d]), la)
    }

    fn backward(la: usize, grad: &FlexTensor) -> [FlexTensor; 2] {
        let grad = grad.to_contiguous();
        let [n, l, d] = dims3(&grad);
        let lb = l - la;
        let g = grad.storage::<f32>();
        let (mut ga, mut gb) = (Output::new(n * la * d), Output::new(n * lb * d));
        for (i, (ra, rb)) in ga
            .buf()
            .chunks_mut(la * d)
            .zip(gb.buf().chunks_mut(lb * d))
            .enumerate()
        {
            let row = &g[i * l * d..(i + 1) * l * d];
            put(ra, &row[..la * d]);
            put(rb, &row[la * d..]);
        }
        // SAFETY: each gradient row is one half of a row of `grad`, written in full.
        let (ga, gb) = unsafe { (ga.written(), gb.written()) };
        [
            f32_tensor(ga, vec![n, la, d]),
            f32_tensor(gb, vec![n, lb, d]),
        ]
    }
}

fn dims3(x: &FlexTensor) -> [usize; 3] {
    let d = dims(x);
    [d[0], d[1], d[2]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuTrainBackend;
    use burn::tensor::Distribution;

    #[test]
    fn cat_and_its_gradients_match_burn() {
        type B = CpuTrainBackend;
        let device = Default::default();
        let a = Tensor::<B, 3>::random([2, 3, 4], Distribution::Default, &device);
        let b = Tensor::<B, 3>::random([2, 5, 4], Distribution::Default, &device);
        let run = |fused: bool| {
            let (a, b) = (a.clone().require_grad(), b.clone().require_grad());
            let y = if fused {
                cat_time(a.clone(), b.clone())
            } else {
                Tensor::cat(vec![a.clone(), b.clone()], 1)
            };
            let grads = (y.clone() * y.clone().detach()).sum().backward();
            let v = |x: Tensor<_, 3>| x.into_data().to_vec::<f32>().unwrap();
            [
                v(y.inner()),
                v(a.grad(&grads).unwrap()),
                v(b.grad(&grads).unwrap()),
            ]
        };
        assert_eq!(run(true), run(false));
    }
}
