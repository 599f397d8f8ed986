//! `pipeline export`: safetensors under stable names that import back bit for bit, and that a
//! numpy implementation outside Rust (scripts/reference/transformer_xl.py) turns into the same
//! logits, memory included.

use std::path::Path;
use std::process::Command;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use cadenza::model::export::{from_safetensors, read_safetensors, tensors, to_safetensors};
use cadenza::model::{CpuBackend, Memory, TransformerXl, TransformerXlConfig, checkpoint};

use crate::support::{cli, flatten, skip, text};

type B = CpuBackend;
const VOCAB: usize = 29;

/// Every parameter moved off its initial value (biases and layer norms start at 0 and 1, which
/// would hide a misplaced one).
struct Perturb;

impl ModuleMapper<B> for Perturb {
    fn map_float<const D: usize>(&mut self, p: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, t, mapper) = p.consume();
        let noise = Tensor::random(t.shape(), Distribution::Uniform(-0.3, 0.3), &t.device());
        Param::from_mapped_value(id, t + noise, mapper)
    }
}

fn model(pre_norm: bool) -> (TransformerXl<B>, TransformerXlConfig) {
    let cfg = TransformerXlConfig::tiny(VOCAB)
        .with_mem_len(12)
        .with_pre_norm(pre_norm);
    let m = crate::support::model::<B>(&cfg, 11).map(&mut Perturb);
    (m, cfg)
}

fn segments() -> Vec<Vec<Vec<i32>>> {
    let mut rng = cadenza::rng::Rng::new(3);
    (0..3)
        .map(|_| {
            (0..2)
                .map(|_| (0..7).map(|_| rng.below(VOCAB as u64) as i32).collect())
                .collect()
        })
        .collect()
}

/// The logits of `segments` run in turn with the XL memory, concatenated along time.
fn logits(m: &TransformerXl<B>, segments: &[Vec<Vec<i32>>]) -> Vec<f32> {
    let mut mem: Option<Memory<B>> = None;
    let mut per_segment = Vec::new();
    for seg in segments {
        let (b, t) = (seg.len(), seg[0].len());
        let x = Tensor::<B, 2, Int>::from_data(
            TensorData::new(seg.concat(), [b, t]),
            &Default::default(),
        );
        let (y, next) = m.forward(x, mem.as_ref());
        mem = Some(next);
        per_segment.push(y);
    }
    Tensor::cat(per_segment, 1)
        .into_data()
        .to_vec::<f32>()
        .unwrap()
}

#[test]
fn export_imports_back_bit_for_bit_under_stable_names() {
    for pre_norm in [false, true] {
        let (m, cfg) = model(pre_norm);
        let bytes = to_safetensors(&m, &cfg, &cadenza::remi::tokenizer_json()).unwrap();
        let st = read_safetensors(&bytes).unwrap();
        assert_eq!(st.metadata["format"], "cadenza.transformer_xl");
        let tokenizer: serde_json::Value = serde_json::from_str(&st.metadata["tokenizer"]).unwrap();
        assert_eq!(tokenizer["vocab"]["Bar"], 3);
        let names: Vec<&str> = st.tensors.keys().map(String::as_str).collect();
        for n in [
            "word_emb.weight",
            "out_bias",
            "layers.1.attn.kv_net.weight",
            "layers.0.ff.1.bias",
        ] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        assert_eq!(names.contains(&"final_norm.weight"), pre_norm);
        // PyTorch's [out, in]: kv_net maps d_model to keys and values of every head.
        assert_eq!(
            st.tensors["layers.0.attn.kv_net.weight"].shape,
            [2 * cfg.n_head * cfg.d_head, cfg.d_model]
        );
        let n_params: usize = st.tensors.values().map(|t| t.values.len()).sum();
        assert_eq!(n_params, m.num_params());

        let (back, cfg_back) = from_safetensors::<B>(&bytes, &Default::default()).unwrap();
        assert_eq!(cfg_back, cfg);
        let (a, b) = (flatten(&m), flatten(&back));
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()) && a.len() == b.len());
        assert_eq!(tensors(&back), tensors(&m));
        assert_eq!(logits(&back, &segments()), logits(&m, &segments()));

        // A damaged file is refused with the reason.
        let mut cut = bytes.clone();
        cut.truncate(bytes.len() - 4);
        let e = from_safetensors::<B>(&cut, &Default::default())
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("past the end"), "{e:#}");
    }
}

/// The numpy reference gives cadenza's logits over three segments with memory, post- and
/// pre-norm. The bound 1e-4 is f32 rounding over a few dozen sums of products of values below
/// a few units (the largest logits here are about 10).
#[test]
fn numpy_reference_reproduces_the_logits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = Command::new(root.join("scripts/bench/venv.sh"))
        .args(["numpy", "safetensors"])
        .output();
    let python = match venv {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap().trim().to_string(),
        Ok(o) => {
            return skip(
                "numpy reference",
                &format!("no venv with numpy and safetensors: {}", text(&o)),
            );
        }
        Err(e) => {
            return skip(
                "numpy reference",
                &format!("cannot run scripts/bench/venv.sh: {e}"),
            );
        }
    };
    let dir = tempfile::tempdir().unwrap();
    for pre_norm in [false, true] {
        let (m, cfg) = model(pre_norm);
        let file = dir.path().join("m.safetensors");
        std::fs::write(&file, to_safetensors(&m, &cfg, "{}").unwrap()).unwrap();
        let case = dir.path().join("case.json");
        let segs = segments();
        let json = serde_json::json!({ "segments": segs, "logits": logits(&m, &segs) });
        std::fs::write(&case, json.to_string()).unwrap();
        let o = Command::new(&python)
            .arg(root.join("scripts/reference/transformer_xl.py"))
            .arg(&file)
            .arg("--check")
            .arg(&case)
            .output()
            .unwrap();
        eprintln!("pre_norm {pre_norm}: {}", text(&o).trim());
        assert!(o.status.success(), "pre_norm {pre_norm}: {}", text(&o));
        assert!(text(&o).contains("max |logit difference|"), "{}", text(&o));
    }
}

/// `pipeline export` on a checkpoint folder writes what the library writes.
#[test]
fn pipeline_export_writes_the_checkpoint_model() {
    let dir = tempfile::tempdir().unwrap();
    let (m, cfg) = model(false);
    let ckpt = dir.path().join("checkpoints/step-00000005");
    std::fs::create_dir_all(&ckpt).unwrap();
    checkpoint::write_model(&ckpt, &m, &cfg).unwrap();
    std::fs::write(ckpt.join(checkpoint::STATE_FILE), "{}").unwrap();
    let out = dir.path().join("model.safetensors");
    let o = cli(
        Path::new("unused.toml"),
        &[
            "export",
            "--checkpoint",
            dir.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (back, _) =
        from_safetensors::<B>(&std::fs::read(&out).unwrap(), &Default::default()).unwrap();
    assert_eq!(tensors(&back), tensors(&m));
}
