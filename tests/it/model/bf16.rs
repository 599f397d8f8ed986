//! bf16-mixed on the CPU: the AVX-512 BF16 product against an f64 reference on awkward shapes
//! and layouts, the model's forward and gradients against f32, and the fallback (a CPU without
//! the instructions) against the f32 path bit for bit.
//!
//! Bounds. bf16 keeps 8 significant bits, so rounding to nearest moves an input by at most
//! u = 2^-8 of itself, and a product of two rounded inputs by at most (2u + u²) of |a b|. The
//! kernel multiplies the rounded inputs exactly (8 x 8 bits fit in f32) and sums K of them in
//! f32 (u = 2^-24): at most (K + 2) 2^-24 of the sum of |a' b'|. So each output, against the
//! f32 inputs unrounded, is off by at most (2^-7 + 2^-16 + (K + 2) 2^-24) Σ |a b|.

use burn::tensor::{Tensor, TensorData};
use cadenza::model::fused::bf16::{self, View};
use cadenza::model::fused::{Inputs, bf16_kernel, f32_fallback, matmul};
use cadenza::model::{Compute, CpuTrainBackend};
use std::mem::MaybeUninit;

use super::burn_path::{config, run};
use crate::support::max_abs_diff;

/// Whether the kernel runs here; otherwise `check` is listed as skipped, with the reason.
fn kernel_here(check: &str) -> bool {
    if bf16::available() {
        return true;
    }
    crate::support::skip_lacking_cpu_feature(
        check,
        "this CPU lacks AVX-512 BF16 (no avx512_bf16 in /proc/cpuinfo); bf16-mixed runs the \
         f32 products here, which model::bf16::the_fallback_* checks",
    );
    false
}

/// A matrix stored one of three ways inside a larger buffer (with an offset): row-major,
/// column-major (a transposed operand), or with both strides > 1.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Rows,
    Columns,
    Strided,
}

struct Stored {
    data: Vec<f32>,
    offset: usize,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl Stored {
    fn new(rows: usize, cols: usize, layout: Layout, rng: &mut cadenza::rng::Rng) -> Self {
        let offset = 3;
        let (row_stride, col_stride, len) = match layout {
            Layout::Rows => (cols, 1, rows * cols),
            Layout::Columns => (1, rows, rows * cols),
            Layout::Strided => (2 * cols + 1, 2, rows * (2 * cols + 1)),
        };
        // Values of mixed signs and scales (a few large), as activations and gradients are.
        let data = (0..offset + len + 1)
            .map(|i| {
                let x = rng.next_f64() as f32 * 2.0 - 1.0;
                if i % 97 == 0 { x * 50.0 } else { x }
            })
            .collect();
        Stored {
            data,
            offset,
            rows,
            cols,
            row_stride: row_stride as isize,
            col_stride: col_stride as isize,
        }
    }

    fn view(&self) -> View<'_> {
        View {
            data: &self.data,
            offset: self.offset,
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }

    fn at(&self, i: usize, j: usize) -> f32 {
        let o = self.offset as isize + i as isize * self.row_stride + j as isize * self.col_stride;
        self.data[o as usize]
    }
}

#[test]
fn the_bf16_kernel_matches_an_f64_reference_on_awkward_shapes() {
    if !kernel_here("model::bf16 kernel against the f64 reference") {
        return;
    }
    let mut rng = cadenza::rng::Rng::new(7);
    // (M, K, N): one element; below one tile; K past a packed block (256) by one and odd; M and
    // N not multiples of the 12 x 32 tile; exact tiles; several blocks and row tasks; too few
    // rows for a task per thread (the columns split); uneven row tasks of several strips.
    let shapes = [
        (1, 1, 1),
        (7, 5, 3),
        (13, 257, 33),
        (12, 256, 32),
        (25, 513, 65),
        (200, 300, 70),
        (5, 300, 100),
        (800, 40, 20),
    ];
    let layouts = [Layout::Rows, Layout::Columns, Layout::Strided];
    let (mut worst_kernel, mut worst_f32) = (0f64, 0f64);
    for &(m, k, n) in &shapes {
        for la in layouts {
            for lb in layouts {
                let (a, b) = (
                    Stored::new(m, k, la, &mut rng),
                    Stored::new(k, n, lb, &mut rng),
                );
                for parallel in [false, true] {
                    let mut out = vec![MaybeUninit::new(f32::NAN); m * n];
                    bf16::product(a.view(), b.view(), &mut out, parallel);
                    for i in 0..m {
                        for j in 0..n {
                            // SAFETY: product writes every element (and they started as NaN).
                            let got = unsafe { out[i * n + j].assume_init() } as f64;
                            let (mut rounded, mut exact, mut scale_r, mut scale) =
                                (0f64, 0f64, 0f64, 0f64);
                            for q in 0..k {
                                let (x, y) = (a.at(i, q), b.at(q, j));
                                let (xr, yr) =
                                    (bf16::round_bf16(x) as f64, bf16::round_bf16(y) as f64);
                                rounded += xr * yr;
                                exact += x as f64 * y as f64;
                                scale_r += (xr * yr).abs();
                                scale += (x as f64 * y as f64).abs();
                            }
                            let sum_bound = (k as f64 + 2.0) * 2f64.powi(-24);
                            let f32_bound = 2f64.powi(-7) + 2f64.powi(-16) + sum_bound;
                            let (e1, e2) = ((got - rounded).abs(), (got - exact).abs());
                            assert!(
                                e1 <= sum_bound * scale_r + 1e-30,
                                "{m}x{k}x{n} {la:?} {lb:?} ({i},{j}): {got} vs {rounded} (bf16 inputs)"
                            );
                            assert!(
                                e2 <= f32_bound * scale + 1e-30,
                                "{m}x{k}x{n} {la:?} {lb:?} ({i},{j}): {got} vs {exact} (f32 inputs)"
                            );
                            if scale > 0.0 {
                                worst_kernel = worst_kernel.max(e1 / (sum_bound * scale_r));
                                worst_f32 = worst_f32.max(e2 / (f32_bound * scale));
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "largest error as a share of its bound: {worst_kernel:.3} (the f32 sum of bf16 inputs), \
         {worst_f32:.3} (against the f32 inputs)"
    );
}

type B = CpuTrainBackend;

/// Forward and both gradients of `fused::matmul` with `inputs`, for a batch whose right operand
/// is broadcast (expanded, stride 0) and transposed (read through strides).
fn batched(inputs: Inputs) -> [Vec<f32>; 3] {
    let mut rng = cadenza::rng::Rng::new(4);
    let mut random = |shape: [usize; 4]| {
        let v: Vec<f32> = (0..shape.iter().product())
            .map(|_| rng.next_f64() as f32)
            .collect();
        Tensor::<B, 4>::from_data(TensorData::new(v, shape), &Default::default())
    };
    let lhs = random([2, 3, 19, 37]);
    let rhs = random([1, 3, 41, 37])
        .swap_dims(2, 3)
        .expand([2, 3, 37, 41]);
    let weight = random([2, 3, 19, 41]);
    let (l, r) = (lhs.require_grad(), rhs.require_grad());
    let y = matmul(l.clone(), r.clone(), inputs);
    let grads = (y.clone() * weight).sum().backward();
    let v = |x: Tensor<_, 4>| x.into_data().to_vec::<f32>().unwrap();
    [
        v(y.inner()),
        v(l.grad(&grads).unwrap()),
        v(r.grad(&grads).unwrap()),
    ]
}

#[test]
fn the_bf16_matmul_and_its_gradients_stay_within_the_bf16_bound_of_f32() {
    if !kernel_here("model::bf16 batched matmul and gradients") {
        return;
    }
    let (bf, f) = (batched(Inputs::Bf16), batched(Inputs::F32));
    // Inputs in [0, 1), so Σ |a b| is at most K times the largest
    // element; the gradients sum 19 x 2 (broadcast) or 41 terms of the same size.
    for ((name, x), y) in ["product", "lhs gradient", "rhs gradient"]
        .iter()
        .zip(&bf)
        .zip(&f)
    {
        let d = max_abs_diff(x, y);
        let scale = y.iter().fold(0f32, |m, v| m.max(v.abs()));
        eprintln!("{name}: max |bf16 - f32| {d:.2e}, largest |f32| {scale:.2}");
        assert!(d <= 2f32.powi(-7) * scale, "{name}: {d} against {scale}");
        assert!(
            d > 0.0,
            "{name}: bf16 inputs give the f32 numbers: the kernel did not run"
        );
    }
}

#[test]
fn the_fallback_gives_the_f32_products_bit_for_bit() {
    // The forward runs under the fallback; the gradients (outside it) follow the forward.
    let fallback = f32_fallback(|| {
        assert!(!bf16_kernel());
        batched(Inputs::Bf16)
    });
    assert_eq!(fallback, batched(Inputs::F32));
}

#[test]
fn the_model_in_bf16_mixed_follows_f32_forward_and_backward() {
    let cfg = config();
    let model = crate::support::model::<B>(&cfg, 11);
    let (lf, gf) = run(&model, Compute::F32);
    let (lb, gb) = run(&model, Compute::Bf16);
    let (fl, fg) = f32_fallback(|| run(&model, Compute::Bf16));
    assert!(
        fl == lf && fg == gf,
        "the fallback is the f32 path bit for bit"
    );
    if !kernel_here("model::bf16 model forward and gradients against f32") {
        return;
    }
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let rel = |a: &[f32], b: &[f32]| {
        let d: Vec<f32> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        norm(&d) / norm(b)
    };
    let (rl, rg) = (rel(&lb, &lf), rel(&gb, &gf));
    eprintln!(
        "bf16-mixed against f32: logits relative L2 {rl:.2e} (max |diff| {:.2e}), gradients \
         relative L2 {rg:.2e} over {} values",
        max_abs_diff(&lb, &lf),
        gf.len()
    );
    // Stated tolerances (measured: 4.5e-5 and 7.6e-4 on the tiny model).
    assert!(rl < 1e-3, "logits relative error {rl}");
    assert!(rg < 1e-2, "gradients relative error {rg}");
    assert!(
        rl > 0.0 && rg > 0.0,
        "bf16-mixed gave the f32 numbers: the kernel did not run"
    );
}
