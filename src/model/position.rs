//! Relative positions: the sinusoids of the distances and the shift that aligns each query's
//! position scores to its keys (section 3.3 and appendix B of the Transformer-XL paper).

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// `x[.., i, c]` holds the score of query i against distance `klen-1-c`. Returns `y[.., i, j]` =
/// score of query i (absolute position `klen-T+i`) against key j, i.e. distance `klen-T+i-j`, for
/// every j <= klen-T+i (the rest is masked). This is `_rel_shift` of the authors' code: pad a zero
/// column in front, view `[klen+1, T]`, drop the first row, view back.
pub fn rel_shift<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [b, h, t, k] = x.dims();
    let zero = Tensor::<B, 4>::zeros([b, h, t, 1], &x.device());
    Tensor::cat(vec![zero, x], 3)
        .reshape([b, h, k + 1, t])
        .narrow(2, 1, k)
        .reshape([b, h, t, k])
}

/// Sinusoidal embeddings `[klen, d_model]` of the distances klen-1, ..., 0 (sin half, cos half).
pub fn sinusoids<B: Backend>(klen: usize, d_model: usize, device: &B::Device) -> Tensor<B, 2> {
    let half = d_model / 2;
    let inv_freq: Vec<f64> = (0..half)
        .map(|i| 1.0 / 10000f64.powf(2.0 * i as f64 / d_model as f64))
        .collect();
    let mut data = vec![0f32; klen * d_model];
    for (row, out) in data.chunks_exact_mut(d_model).enumerate() {
        let p = (klen - 1 - row) as f64;
        for (i, f) in inv_freq.iter().enumerate() {
            let (sin, cos) = (p * f).sin_cos();
            out[i] = sin as f32;
            out[half + i] = cos as f32;
        }
    }
    Tensor::from_data(TensorData::new(data, [klen, d_model]), device)
}
