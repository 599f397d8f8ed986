//! `pipeline bench train`: training throughput on synthetic tokens (no data loading,
//! checkpoints or logging) on the configured backend, and on CPU beside the PyTorch reference of
//! the same shape, batch and dropout (scripts/bench/train_peer.py, in the bench venv).

use anyhow::Result;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use std::time::Instant;

use crate::model::backend::{BackendWork, on_backend};
use crate::model::{Compute, Memory, Pass, TransformerXlConfig, dropout};
use crate::rng::Rng;
use crate::train::adamw::{AdamWParams, FusedAdamW};
use crate::train::clip::clip_grad_norm;
use crate::train::{TrainConfig, cross_entropy};

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
    compute: Compute,
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
        let pass = Pass {
            compute,
            ..Pass::default()
        };
        let (logits, new) = model.forward_with(x, mems.as_ref(), pass);
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

/// [`throughput`] of `model` at `train.batch_size` on the configured backend and precision.
pub fn bench_on_configured_backend(
    train: &TrainConfig,
    model: &TransformerXlConfig,
    warmup: usize,
    steps: usize,
) -> Result<BenchResult> {
    struct Work<'a> {
        model: &'a TransformerXlConfig,
        compute: Compute,
        batch: usize,
        warmup: usize,
        steps: usize,
    }
    impl BackendWork for Work<'_> {
        type Output = BenchResult;
        fn run<B: AutodiffBackend>(self, device: &B::Device) -> Result<BenchResult> {
            Ok(throughput::<B>(
                self.model,
                self.compute,
                self.batch,
                self.warmup,
                self.steps,
                device,
            ))
        }
    }
    let work = Work {
        model,
        compute: train.compute(),
        batch: train.batch_size,
        warmup,
        steps,
    };
    on_backend(&train.backend, &train.checkpointing, work)
}

/// Model FLOPs per trained token (backward = 2 × forward; a multiply-add = 2 FLOPs): the
/// projections (keys and values over memory + segment), feed-forward and output layer, and the
/// attention's content scores, position scores and mix over a query's mean window. The basis
/// of the model FLOP utilisation a GPU run reports against its chip's peak.
pub fn train_flops_per_token(m: &TransformerXlConfig) -> f64 {
    let (d, hd) = (m.d_model as f64, (m.n_head * m.d_head) as f64);
    let (t, mem) = (m.tgt_len as f64, m.mem_len as f64);
    let keys = mem + (t + 1.0) / 2.0;
    let proj = d * hd * (1.0 + 2.0 * (mem + t) / t) + hd * d + 2.0 * d * m.d_inner as f64;
    let attn = 3.0 * keys * hd;
    3.0 * 2.0 * (m.n_layer as f64 * (proj + attn) + d * m.vocab_size as f64)
}

/// The report of `pipeline bench train`. On the CPU: four rows measured in one run, cadenza in
/// f32 and bf16-mixed and PyTorch in f32 and bf16 autocast (its fastest CPU mode), with the
/// ratios and the processor's bf16 features. Elsewhere: the configured backend and precision.
pub fn report(
    train: &TrainConfig,
    m: &TransformerXlConfig,
    warmup: usize,
    steps: usize,
) -> Result<String> {
    let mut report = format!(
        "train benchmark ({} layers, d_model {}, tgt/mem {}/{}, batch {}, dropout {}, {} backend, \
         {steps} timed steps)",
        m.n_layer, m.d_model, m.tgt_len, m.mem_len, train.batch_size, m.dropout, train.backend,
    );
    let row = |name: &str, r: &BenchResult| {
        format!(
            "\n  {name:<36} {:>7.0} tokens/s, {:.1} ms/step, {:.3} model TFLOP/s",
            r.tokens_per_sec,
            r.ms_per_step,
            r.tokens_per_sec * train_flops_per_token(m) / 1e12,
        )
    };
    if train.backend != "cpu" {
        let r = bench_on_configured_backend(train, m, warmup, steps)?;
        return Ok(report + &row(&format!("cadenza {}", train.precision), &r));
    }
    let ours = ["f32", "bf16-mixed"].map(|precision| {
        let t = TrainConfig {
            precision: precision.into(),
            ..train.clone()
        };
        bench_on_configured_backend(&t, m, warmup, steps)
    });
    let [f32_run, bf16_run] = ours;
    let (f32_run, bf16_run) = (f32_run?, bf16_run?);
    report += &row("cadenza f32", &f32_run);
    report += &row("cadenza bf16-mixed", &bf16_run);
    let arg = |v: usize| v.to_string();
    let args = [
        ("--n-layer", arg(m.n_layer)),
        ("--d-model", arg(m.d_model)),
        ("--n-head", arg(m.n_head)),
        ("--d-inner", arg(m.d_inner)),
        ("--tgt-len", arg(m.tgt_len)),
        ("--mem-len", arg(m.mem_len)),
        ("--vocab", arg(m.vocab_size)),
        ("--batch", arg(train.batch_size)),
        ("--dropout", m.dropout.to_string()),
        ("--warmup", arg(warmup)),
        ("--steps", arg(steps)),
    ];
    let args: Vec<&str> = args.iter().flat_map(|(k, v)| [*k, v.as_str()]).collect();
    let mut peers = Vec::new();
    for (autocast, mode) in [("none", "f32"), ("bf16", "bf16 autocast")] {
        let args = [&args[..], &["--autocast", autocast]].concat();
        match super::python_peer(&["torch"], "train_peer.py", &args) {
            Ok(v) => {
                let peer = v["tokens_per_sec"].as_f64().unwrap_or(f64::NAN);
                report += &format!(
                    "\n  {:<36} {peer:>7.0} tokens/s ({} threads)",
                    format!("PyTorch {} {mode}", v["torch"].as_str().unwrap_or("?")),
                    v["threads"],
                );
                peers.push(Some(peer));
            }
            Err(e) => {
                report += &format!("\n  PyTorch {mode} peer unavailable: {e:#}");
                peers.push(None);
            }
        }
    }
    let kernel = if crate::model::fused::bf16::available() {
        "its products on AVX-512 BF16"
    } else {
        "the f32 products: this CPU lacks AVX-512 BF16"
    };
    report += &format!(
        "\n  CPU bf16 features: {}; cadenza bf16-mixed ran {kernel}\n  ratios: cadenza \
         bf16-mixed / f32 {:.2}x",
        cpu_bf16_units(),
        bf16_run.tokens_per_sec / f32_run.tokens_per_sec
    );
    if let [Some(pf), Some(pb)] = peers[..] {
        report += &format!(
            ", cadenza f32 / PyTorch f32 {:.2}x, cadenza bf16-mixed / PyTorch bf16 autocast \
             {:.2}x (target 1.3x), cadenza best / PyTorch best {:.2}x",
            f32_run.tokens_per_sec / pf,
            bf16_run.tokens_per_sec / pb,
            f32_run.tokens_per_sec.max(bf16_run.tokens_per_sec) / pf.max(pb),
        );
    }
    Ok(report)
}

/// Which of the processor's bf16 matrix units PyTorch's autocast can use (Linux: /proc/cpuinfo
/// flags), so a reader knows what the bf16 row measured.
fn cpu_bf16_units() -> String {
    let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags: std::collections::BTreeSet<&str> = flags
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let found: Vec<&str> = ["avx512_bf16", "amx_bf16"]
        .into_iter()
        .filter(|f| flags.contains(f))
        .collect();
    if flags.is_empty() {
        "unknown (no /proc/cpuinfo)".into()
    } else if found.is_empty() {
        "none (no avx512_bf16 or amx_bf16 flag)".into()
    } else {
        found.join(", ")
    }
}
