//! Burn's wgpu backend (`--features wgpu`; in CI on Mesa's lavapipe, a Vulkan driver that runs
//! on the CPU), against the CPU backend from the same weights: 20 training steps through the
//! CLI, the loss and the final weights within stated tolerances, the wgpu checkpoint loaded
//! and decoded on the CPU; f16-mixed runs, bf16-mixed is refused (WGSL has no bf16).

use std::path::{Path, PathBuf};

use cadenza::model::{Checkpoint, CpuBackend, TransformerXlConfig, checkpoint};
use cadenza::pipeline::manifest::Manifest;

use crate::support::{cli, flatten, max_abs_diff, text};

fn config(dir: &Path, backend: &str, precision: &str, init: &Path) -> PathBuf {
    let name = format!("{backend}-{precision}");
    let cfg = dir.join(format!("{name}.toml"));
    let text = format!(
        "[run]\nname = \"{name}\"\nseed = 9\nraw_dir = \"{raw}\"\ntokens_dir = \"{tok}\"\n\
         artifacts_dir = \"{art}\"\n[model]\npreset = \"tiny\"\n\
         [train]\nbackend = \"{backend}\"\nprecision = \"{precision}\"\nbatch_size = 4\n\
         warmup_steps = 2\nmax_steps = 20\neval_every = 20\ncheckpoint_every = 20\n\
         valid_tokens = 512\nlr = 0.003\ninit_from = \"{init}\"\n[train.monitor]\npieces = 0\n",
        raw = dir.join("raw").display(),
        tok = dir.join("tokens").display(),
        art = dir.join("artifacts").display(),
        init = init.display(),
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

fn counts(dir: &Path, name: &str) -> (f64, f64) {
    let m = Manifest::read(&dir.join("artifacts").join(name).join("train"))
        .unwrap()
        .unwrap();
    (
        m.counts["train_loss"].as_f64().unwrap(),
        m.counts["valid_loss"].as_f64().unwrap(),
    )
}

fn weights(dir: &Path, name: &str) -> Vec<f32> {
    let ckpt = Checkpoint::resolve(&dir.join("artifacts").join(name).join("train")).unwrap();
    flatten(&ckpt.load_model::<CpuBackend>(&Default::default()).unwrap())
}

#[test]
fn wgpu_trains_like_the_cpu_and_its_checkpoint_decodes_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = cli(
        Path::new("unused.toml"),
        &[
            "demo-data",
            "--out",
            d.join("raw").to_str().unwrap(),
            "--songs",
            "40",
            "--seed",
            "1",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    // The same starting weights for both backends (their random generators differ).
    let vocab = cadenza::remi::Vocab::SIZE;
    let cfg = TransformerXlConfig::tiny(vocab);
    let init = d.join("init/checkpoints/step-00000000");
    std::fs::create_dir_all(&init).unwrap();
    checkpoint::write_model(&init, &crate::support::model::<CpuBackend>(&cfg, 3), &cfg).unwrap();
    std::fs::write(init.join(checkpoint::STATE_FILE), "{}").unwrap();

    let cpu = config(d, "cpu", "f32", &init);
    for stage in ["tokenize", "train"] {
        let o = cli(&cpu, &["run", stage], &[]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let gpu = config(d, "wgpu", "f32", &init);
    let o = cli(&gpu, &["run", "train"], &[]);
    assert!(o.status.success(), "{}", text(&o));

    let (cpu_train, cpu_valid) = counts(d, "cpu-f32");
    let (gpu_train, gpu_valid) = counts(d, "wgpu-f32");
    let weight_diff = max_abs_diff(&weights(d, "cpu-f32"), &weights(d, "wgpu-f32"));
    eprintln!(
        "20 steps, f32: train loss cpu {cpu_train:.5} wgpu {gpu_train:.5}, valid cpu {cpu_valid:.5} \
         wgpu {gpu_valid:.5}; largest weight difference {weight_diff:.3e}"
    );
    // f32 rounding in other kernels, 20 steps of AdamW at lr 3e-3 on a 2-layer model.
    assert!(
        (cpu_train - gpu_train).abs() < 1e-2,
        "train loss {cpu_train} vs {gpu_train}"
    );
    assert!(
        (cpu_valid - gpu_valid).abs() < 1e-2,
        "valid loss {cpu_valid} vs {gpu_valid}"
    );
    assert!(weight_diff < 1e-2, "weights differ by {weight_diff}");

    // The wgpu checkpoint on the CPU: generation decodes it like the CPU run's own.
    let mut pieces = Vec::new();
    for name in ["cpu-f32", "wgpu-f32"] {
        let out = d.join(format!("gen-{name}"));
        let ckpt = d.join("artifacts").join(name).join("train");
        let args = [
            "generate",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--task",
            "unconditional",
        ];
        let o = cli(
            &cpu,
            &[
                &args[..],
                &[
                    "--sampler",
                    "t1.0_k40_pitchp0.95_prior",
                    "--n",
                    "2",
                    "--bars",
                    "2",
                    "--out",
                    out.to_str().unwrap(),
                ],
            ]
            .concat(),
            &[],
        );
        assert!(o.status.success(), "{}", text(&o));
        let rows = cadenza::samples::read_samples(
            &out.join("task=unconditional/sampler=t1.0_k40_pitchp0.95_prior")
                .join(cadenza::samples::SAMPLES_FILE),
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        pieces.push(rows.into_iter().map(|r| r.n_bars).collect::<Vec<_>>());
    }
    assert_eq!(
        pieces[0], pieces[1],
        "both decode to pieces of the bars asked for"
    );

    // bf16 has no WGSL type: refused before any work, with the reason. f16 runs.
    let bf16 = config(d, "wgpu", "bf16-mixed", &init);
    let o = cli(&bf16, &["run", "train"], &[]);
    let t = text(&o);
    assert!(
        !o.status.success() && t.contains("train.precision") && t.contains("no bf16 type"),
        "{t}"
    );
    assert!(!t.contains("starting from"), "refused before training: {t}");
    eprintln!(
        "bf16-mixed on wgpu: {}",
        t.lines().find(|l| l.contains("bf16")).unwrap_or_default()
    );
    let f16 = config(d, "wgpu", "f16-mixed", &init);
    let o = cli(&f16, &["run", "train"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (train, valid) = counts(d, "wgpu-f16-mixed");
    eprintln!("20 steps, f16-mixed on wgpu: train loss {train:.5}, valid {valid:.5}");
    assert!(
        (valid - cpu_valid).abs() < 0.1,
        "f16-mixed: valid {valid} vs f32 {cpu_valid}"
    );
}
