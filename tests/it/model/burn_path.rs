//! The path every non-CPU backend (CUDA) runs, checked on the CPU: the whole model built from
//! the Burn compositions that the fused CPU kernels replace, against the fused path, end to end
//! (logits with memory, every gradient, and 20 training steps).
//!
//! The fused kernels are chosen by backend type (`model::fused::kernels`). Burn's autodiff over
//! the same CPU backend with another checkpointing strategy (balanced: some activations are
//! recomputed in the backward pass) is another type, so its model gets `Kernels::Burn`, the
//! compositions CUDA runs. (AdamW stays the fused one here, since the optimizer works on the
//! inner backend; it is compared with Burn's AdamW in `train::adamw`.)

use crate::support::max_abs_diff;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use cadenza::model::fused::{Kernels, kernels};
use cadenza::model::{Compute, CpuTrainBackend, Pass, TransformerXl, TransformerXlConfig};
use cadenza::train::trainer::{TrainSpec, cross_entropy, train};

type Fused = CpuTrainBackend;
type Composed = burn::backend::Autodiff<
    cadenza::model::CpuBackend,
    burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing,
>;

const VOCAB: usize = 29;
/// Largest |difference| allowed in logits and gradients (f32, different summation orders).
const TOL: f32 = 1e-5;
/// Largest |difference| allowed in any weight after 20 AdamW steps of lr ≤ 3e-3 (measured:
/// 6e-7).
const TOL_TRAINED: f32 = 1e-4;

pub(super) fn config() -> TransformerXlConfig {
    TransformerXlConfig::tiny(VOCAB)
        .with_tgt_len(12)
        .with_mem_len(12)
        .with_dropout(0.0)
}

fn tokens<B: Backend>(salt: u64) -> (Tensor<B, 2, Int>, Tensor<B, 2, Int>) {
    let mut rng = cadenza::rng::Rng::new(salt);
    let v: Vec<i64> = (0..2 * 13)
        .map(|_| rng.below(VOCAB as u64) as i64)
        .collect();
    let t = Tensor::<B, 2, Int>::from_data(TensorData::new(v, [2, 13]), &Default::default());
    (t.clone().slice([0..2, 0..12]), t.slice([0..2, 1..13]))
}

/// Every parameter's gradient, in module order.
struct Grads<'a>(&'a GradientsParams, Vec<f32>);

impl<B: AutodiffBackend> ModuleVisitor<B> for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let g = self
            .0
            .get::<B::InnerBackend, D>(param.id)
            .expect("a gradient per parameter");
        self.1
            .extend(g.into_data().convert::<f32>().to_vec::<f32>().unwrap());
    }
}

/// Logits of two segments (the second attending to the first's memory), and every gradient of
/// the second segment's loss, the passes in `compute`.
pub(super) fn run<B: AutodiffBackend>(
    model: &TransformerXl<B>,
    compute: Compute,
) -> (Vec<f32>, Vec<f32>) {
    let (x1, _) = tokens::<B>(1);
    let (x2, y2) = tokens::<B>(2);
    let pass = Pass {
        compute,
        ..Pass::default()
    };
    let (_, mem) = model.forward_with(x1, None, pass);
    let (logits, _) = model.forward_with(x2, Some(&mem), pass);
    let values = logits.clone().into_data().to_vec::<f32>().unwrap();
    let grads = GradientsParams::from_grads(cross_entropy(logits, y2).backward(), model);
    let mut g = Grads(&grads, Vec::new());
    model.visit(&mut g);
    (values, g.1)
}

#[test]
fn the_burn_compositions_match_the_fused_cpu_path_end_to_end() {
    assert_eq!(kernels::<Fused>(), Kernels::CpuAutodiff);
    assert_eq!(kernels::<Composed>(), Kernels::Burn);
    let cfg = config();
    let fused = crate::support::model::<Fused>(&cfg, 11);
    let composed = crate::support::model::<Composed>(&cfg, 11);
    let (wf, wc) = (
        crate::support::flatten(&fused),
        crate::support::flatten(&composed),
    );
    assert_eq!(wf, wc, "the same weights on both paths");

    let ((lf, gf), (lc, gc)) = (run(&fused, Compute::F32), run(&composed, Compute::F32));
    let (dl, dg) = (max_abs_diff(&lf, &lc), max_abs_diff(&gf, &gc));
    eprintln!(
        "logits max |diff| {dl:.2e}, gradients max |diff| {dg:.2e} over {} values",
        gf.len()
    );
    assert!(dl < TOL, "logits differ by {dl}");
    assert!(dg < TOL, "gradients differ by {dg}");
    assert!(
        gf.iter().any(|g| g.abs() > 1e-3),
        "the gradients are not all ~0"
    );

    // 20 training steps (AdamW, clipping, schedule, memory across segments) on both paths.
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut rng = cadenza::rng::Rng::new(5);
    let songs: Vec<Vec<u16>> = (0..6)
        .map(|_| {
            let mut s = vec![1u16];
            s.extend((0..40).map(|_| 3 + rng.below(VOCAB as u64 - 3) as u16));
            s.push(2);
            s
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let spec = |name: &str| TrainSpec {
        model: cfg.clone(),
        train: cadenza::train::TrainConfig {
            batch_size: 2,
            lr: 3e-3,
            min_lr: 1e-4,
            warmup_steps: 3,
            max_steps: 20,
            eval_every: 10,
            valid_tokens: 100,
            checkpoint_every: 20,
            transpose: 0,
            ..Default::default()
        },
        seed: 3,
        resume_key: "burn-path".into(),
        train_songs: &songs,
        valid_songs: &songs[..2],
        transposer: |t, _| Some(t.to_vec()),
        tempo_shifter: |t, _| t.to_vec(),
        out_dir: tmp.path().join(name),
        resume_dirs: vec![],
        force: true,
        session_steps: None,
        inject_overflow: None,
        progress: false,
    };
    let a = train::<Fused>(&spec("fused"), &Default::default()).unwrap();
    let b = train::<Composed>(&spec("composed"), &Default::default()).unwrap();
    let (la, lb) = (a.valid_loss.unwrap(), b.valid_loss.unwrap());
    let load = |dir: &std::path::Path| {
        let m = cadenza::model::Checkpoint::resolve(dir)
            .unwrap()
            .load_model::<cadenza::model::CpuBackend>(&Default::default())
            .unwrap();
        crate::support::flatten(&m)
    };
    let dw = max_abs_diff(
        &load(&tmp.path().join("fused")),
        &load(&tmp.path().join("composed")),
    );
    eprintln!("after 20 steps: valid loss {la:.6} vs {lb:.6}, weights max |diff| {dw:.2e}");
    assert!((la - lb).abs() < 1e-5, "valid loss {la} vs {lb}");
    assert!(dw < TOL_TRAINED, "weights differ by {dw} after 20 steps");
}
