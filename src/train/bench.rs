//! Training throughput on synthetic tokens (no data loading, checkpoints or logging), for
//! comparing backends and against the PyTorch reference in scripts/bench/train_peer.py.

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use std::time::Instant;

use super::adamw::{AdamWParams, FusedAdamW};
use super::clip::clip_grad_norm;
use super::trainer::cross_entropy;
use crate::model::{Memory, TransformerXlConfig, dropout};
use crate::rng::Rng;

#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchResult {
    pub steps: usize,
    pub batch_size: usize,
    pub tgt_len: usize,
    pub ms_per_step: f64,
    pub tokens_per_sec: f64,
    pub last_loss: f64,
}

/// Runs `warmup + steps` full training steps (forward with memory, backward, global-norm clip,
/// AdamW) on uniform random tokens and times the last `steps`.
pub fn throughput<B: AutodiffBackend>(
    cfg: &TransformerXlConfig,
    batch_size: usize,
    warmup: usize,
    steps: usize,
    device: &B::Device,
) -> BenchResult {
    B::seed(device, 0);
    dropout::seed(0);
    let mut model = cfg.init::<B>(device);
    // As the PyTorch peer: torch.optim.AdamW's defaults.
    let mut optim = FusedAdamW::init::<B, _>(AdamWParams {
        beta_1: 0.9,
        beta_2: 0.999,
        epsilon: 1e-8,
        weight_decay: 0.01,
    });
    let mut rng = Rng::new(0);
    let mut mems: Option<Memory<B>> = None;
    let (t, v) = (cfg.tgt_len, cfg.vocab_size as u64);
    let mut start = Instant::now();
    let mut last_loss = f64::NAN;
    for i in 0..warmup + steps {
        if i == warmup {
            start = Instant::now();
        }
        let data: Vec<i32> = (0..batch_size * (t + 1))
            .map(|_| rng.below(v) as i32)
            .collect();
        let all =
            Tensor::<B, 2, Int>::from_data(TensorData::new(data, [batch_size, t + 1]), device);
        let x = all.clone().narrow(1, 0, t);
        let y = all.narrow(1, 1, t);
        let (logits, new) = model.forward(x, mems.as_ref());
        let loss = cross_entropy(logits, y);
        last_loss = loss.clone().into_scalar().elem::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        clip_grad_norm::<B, _>(&model, &mut grads, 1.0);
        model = optim.step(1e-4, model, grads);
        mems = Some(new);
    }
    let secs = start.elapsed().as_secs_f64();
    BenchResult {
        steps,
        batch_size,
        tgt_len: t,
        ms_per_step: secs * 1e3 / steps.max(1) as f64,
        tokens_per_sec: (steps * batch_size * t) as f64 / secs.max(1e-9),
        last_loss,
    }
}
