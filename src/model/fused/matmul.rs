//! Matrix products through the gemm crate directly. flex's matmul is the same gemm call, but
//! every output goes through `FlexTensor::empty`, which zeroes a byte buffer and then copies it
//! into an aligned one: two extra passes over each output, about 9% of a training step. Here the
//! output is one zeroed allocation, and the backward products read their operands transposed
//! through strides instead of copying them.
//!
//! With [`Inputs::Bf16`] the products (forward and both gradients) go through [`super::bf16`]
//! where the CPU has AVX-512 BF16: inputs rounded to bf16, sums in f32, outputs f32. Elsewhere,
//! or inside [`f32_fallback`], they are the f32 products, bit for bit.

use std::cell::Cell;
use std::mem::MaybeUninit;

use burn::backend::flex::FlexTensor;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use gemm::Parallelism;
use rayon::prelude::*;

use super::{Kernel, bf16, dims, f32_tensor, run};

/// What a matrix product multiplies: its f32 inputs as they are, or rounded to bf16 (mixed
/// precision). The sums and the output are f32 either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Inputs {
    #[default]
    F32,
    Bf16,
}

/// `lhs.matmul(rhs)` for `[.., M, K] x [.., K, N]` with equal batch dims (expand first to
/// broadcast). Off the CPU backend, `Inputs::Bf16` casts the operands to bf16 and the product
/// back to f32.
pub fn matmul<B: Backend, const D: usize>(
    lhs: Tensor<B, D>,
    rhs: Tensor<B, D>,
    inputs: Inputs,
) -> Tensor<B, D> {
    let bf16 = inputs == Inputs::Bf16 && bf16_kernel();
    run(Matmul { bf16 }, [lhs, rhs], |[lhs, rhs]| match inputs {
        Inputs::F32 => lhs.matmul(rhs),
        Inputs::Bf16 => {
            let bf = burn::tensor::FloatDType::BF16;
            lhs.cast(bf)
                .matmul(rhs.cast(bf))
                .cast(burn::tensor::FloatDType::F32)
        }
    })
}

thread_local! {
    static FALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// Whether bf16 products on this thread run the AVX-512 BF16 kernel (the CPU has it and no
/// [`f32_fallback`] is in force).
pub fn bf16_kernel() -> bool {
    bf16::available() && !FALLBACK.get()
}

/// Runs `f` with every product started on this thread in f32, as on a CPU without AVX-512
/// BF16 (a product's gradients follow its forward).
pub fn f32_fallback<R>(f: impl FnOnce() -> R) -> R {
    let before = FALLBACK.replace(true);
    let out = f();
    FALLBACK.set(before);
    out
}

#[derive(Debug)]
struct Matmul {
    /// Through the bf16 kernel (decided once, so the gradients match the forward).
    bf16: bool,
}

impl Kernel<2> for Matmul {
    /// Both operands, and whether through the bf16 kernel.
    type State = (FlexTensor, FlexTensor, bool);

    fn forward(&self, [lhs, rhs]: [&FlexTensor; 2]) -> (FlexTensor, Self::State) {
        let out = product(
            &Operand::of(lhs, false),
            &Operand::of(rhs, false),
            self.bf16,
        );
        (out, (lhs.clone(), rhs.clone(), self.bf16))
    }

    fn backward((lhs, rhs, bf16): Self::State, grad: &FlexTensor) -> [FlexTensor; 2] {
        let g = Operand::of(grad, false);
        [
            product(&g, &Operand::of(&rhs, true), bf16),
            product(&Operand::of(&lhs, true), &g, bf16),
        ]
    }
}

/// A tensor read as a batch of matrices, optionally transposed, through its strides.
struct Operand {
    tensor: FlexTensor,
    batch: Vec<usize>,
    batch_strides: Vec<isize>,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl Operand {
    fn of(x: &FlexTensor, transposed: bool) -> Self {
        // gemm takes negative strides, but the batch offsets below assume none (flip only).
        let tensor = if x.layout().strides().iter().any(|&s| s < 0) {
            x.to_contiguous()
        } else {
            x.clone()
        };
        let shape = dims(&tensor);
        let strides = tensor.layout().strides().to_vec();
        let d = shape.len();
        let (mut rows, mut cols) = (shape[d - 2], shape[d - 1]);
        let (mut row_stride, mut col_stride) = (strides[d - 2], strides[d - 1]);
        if transposed {
            (rows, cols) = (cols, rows);
            (row_stride, col_stride) = (col_stride, row_stride);
        }
        Operand {
            batch: shape[..d - 2].to_vec(),
            batch_strides: strides[..d - 2].to_vec(),
            tensor,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// Element offset of matrix `b` (row-major over the batch dims).
    fn offset(&self, mut b: usize) -> usize {
        let mut off = self.tensor.layout().start_offset() as isize;
        for (&n, &s) in self.batch.iter().zip(&self.batch_strides).rev() {
            off += (b % n) as isize * s;
            b /= n;
        }
        off as usize
    }
}

/// Below this many multiply-adds a matrix runs on one thread (flex's threshold).
const PARALLEL_MATRIX: usize = 192 * 192 * 192;
/// From this many multiply-adds in all, a batch runs one matrix per task (flex's threshold).
const PARALLEL_BATCH: usize = 128 * 128 * 128;

fn product(lhs: &Operand, rhs: &Operand, bf16: bool) -> FlexTensor {
    assert_eq!(lhs.batch, rhs.batch, "matmul: batch dims differ");
    assert_eq!(lhs.cols, rhs.rows, "matmul: inner dims differ");
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    let count: usize = lhs.batch.iter().product();
    let (a, b) = (lhs.tensor.storage::<f32>(), rhs.tensor.storage::<f32>());
    let len = count * m * n;
    if k == 0 {
        return f32_tensor(vec![0.0; len], out_shape(lhs, m, n));
    }
    // Not zeroed: gemm writes every element of dst when it does not read it.
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let one = |i: usize, dst: &mut [MaybeUninit<f32>], parallelism: Parallelism| {
        if bf16 {
            let view = |x: &Operand, data, offset| bf16::View {
                data,
                offset,
                rows: x.rows,
                cols: x.cols,
                row_stride: x.row_stride,
                col_stride: x.col_stride,
            };
            let parallel = matches!(parallelism, Parallelism::Rayon(_));
            let (va, vb) = (view(lhs, a, lhs.offset(i)), view(rhs, b, rhs.offset(i)));
            return bf16::product(va, vb, dst, parallel);
        }
        let (pa, pb) = (a[lhs.offset(i)..].as_ptr(), b[rhs.offset(i)..].as_ptr());
        // SAFETY: the operands' shapes and strides describe views inside their buffers (flex
        // layouts), and dst holds exactly m x n elements, written row-major.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr().cast::<f32>(),
                1,
                n as isize,
                false,
                pa,
                lhs.col_stride,
                lhs.row_stride,
                pb,
                rhs.col_stride,
                rhs.row_stride,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            )
        }
    };
    let per_matrix = m * n * k;
    let dst = &mut out.spare_capacity_mut()[..len];
    if m * n == 0 {
    } else if count > 1 && count * per_matrix >= PARALLEL_BATCH {
        dst.par_chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, dst)| one(i, dst, Parallelism::None));
    } else {
        let parallelism = if per_matrix >= PARALLEL_MATRIX {
            Parallelism::Rayon(0)
        } else {
            Parallelism::None
        };
        for (i, dst) in dst.chunks_mut(m * n).enumerate() {
            one(i, dst, parallelism);
        }
    }
    // SAFETY: every one of the len elements was written by gemm above (k > 0).
    unsafe { out.set_len(len) };
    f32_tensor(out, out_shape(lhs, m, n))
}

fn out_shape(lhs: &Operand, m: usize, n: usize) -> Vec<usize> {
    let mut shape = lhs.batch.clone();
    shape.extend([m, n]);
    shape
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuTrainBackend;
    use burn::tensor::Distribution;

    /// Product and both gradients equal Burn's matmul: 2-D, batched, a transposed operand and an
    /// expanded (stride 0) one.
    #[test]
    fn matmul_and_its_gradients_match_burn() {
        type B = CpuTrainBackend;
        let device = Default::default();
        let random =
            |shape: [usize; 4]| Tensor::<B, 4>::random(shape, Distribution::Default, &device);
        let cases: Vec<(Tensor<B, 4>, Tensor<B, 4>)> = vec![
            (random([1, 1, 7, 5]), random([1, 1, 5, 3])),
            (random([2, 3, 7, 5]), random([2, 3, 3, 5]).swap_dims(2, 3)),
            (
                random([2, 3, 7, 5]),
                random([1, 3, 5, 4]).expand([2, 3, 5, 4]),
            ),
        ];
        for (lhs, rhs) in cases {
            let run = |fused: bool| {
                let (l, r) = (lhs.clone().require_grad(), rhs.clone().require_grad());
                let y = if fused {
                    matmul(l.clone(), r.clone(), Inputs::F32)
                } else {
                    l.clone().matmul(r.clone())
                };
                let w = y.clone().detach();
                let grads = (y.clone() * w).sum().backward();
                let v = |x: Tensor<_, 4>| x.into_data().to_vec::<f32>().unwrap();
                [
                    v(y.inner()),
                    v(l.grad(&grads).unwrap()),
                    v(r.grad(&grads).unwrap()),
                ]
            };
            let (fused, reference) = (run(true), run(false));
            for (x, y) in fused.iter().flatten().zip(reference.iter().flatten()) {
                assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "{x} vs {y}");
            }
        }
    }
}
