//! Checkpoints: one folder per step, written under a temporary name and renamed into place.
//!
//! ```text
//! <train dir>/checkpoints/step-00001200/
//!     model.bin         model record (f32, Burn's BinFileRecorder)
//!     optim.bin         AdamW state
//!     memory.bin        the XL memory of every stream (so a resume continues exactly)
//!     model_config.json TransformerXlConfig
//!     state.json        step, data-loader position and RNG, resume key, elapsed time
//! ```

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::data::LoaderState;
use crate::model::{Memory, TransformerXl, TransformerXlConfig};

pub type CheckpointRecorder = BinFileRecorder<FullPrecisionSettings>;

const PREFIX: &str = "step-";

/// Everything besides tensors that a resume needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainState {
    /// Updates done so far.
    pub step: usize,
    pub loader: LoaderState,
    /// Hash of the model/train config, seed and inputs: only a matching checkpoint is resumed.
    pub resume_key: String,
    /// Training wall time so far, over all sessions.
    pub elapsed_secs: f64,
    pub tokens_seen: u64,
    /// The run reached max_steps or max_minutes.
    pub finished: bool,
    pub last_train_loss: Option<f64>,
    pub last_valid_loss: Option<f64>,
}

/// The checkpoints folder under a train output folder.
pub fn checkpoints_dir(train_dir: &Path) -> PathBuf {
    train_dir.join("checkpoints")
}

/// Completed checkpoint folders under `checkpoints`, oldest first.
pub fn list(checkpoints: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let mut out = Vec::new();
    if !checkpoints.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(checkpoints)
        .with_context(|| format!("cannot list {}", checkpoints.display()))?
    {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(step) = name
            .strip_prefix(PREFIX)
            .and_then(|s| s.parse::<usize>().ok())
            && path.join("state.json").is_file()
        {
            out.push((step, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The newest checkpoint folder: `path` itself if it is one, else the newest under
/// `path/checkpoints` or `path`.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if path.join("state.json").is_file() {
        return Ok(path.to_path_buf());
    }
    for dir in [checkpoints_dir(path), path.to_path_buf()] {
        if let Some((_, p)) = list(&dir)?.pop() {
            return Ok(p);
        }
    }
    bail!(
        "no checkpoint in {} (run `pipeline run train` first)",
        path.display()
    )
}

pub fn read_state(ckpt: &Path) -> Result<TrainState> {
    let p = ckpt.join("state.json");
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("bad checkpoint state {}", p.display()))
}

pub fn read_model_config(ckpt: &Path) -> Result<TransformerXlConfig> {
    let p = ckpt.join("model_config.json");
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("bad model config {}", p.display()))
}

/// Loads a trained model for inference from a checkpoint folder, a `checkpoints` folder or a
/// train output folder (the newest checkpoint is used).
pub fn load_model<B: Backend>(
    path: &Path,
    device: &B::Device,
) -> Result<(TransformerXl<B>, TransformerXlConfig)> {
    let ckpt = resolve(path)?;
    let cfg = read_model_config(&ckpt)?;
    let model = cfg
        .init::<B>(device)
        .load_file(ckpt.join("model"), &CheckpointRecorder::new(), device)
        .with_context(|| format!("cannot load model weights from {}", ckpt.display()))?;
    Ok((model, cfg))
}

/// What goes into a checkpoint.
pub struct Snapshot<'a, B: Backend, R: burn::record::Record<B>> {
    pub model: &'a TransformerXl<B>,
    pub model_config: &'a TransformerXlConfig,
    pub optim: R,
    pub memory: Option<&'a Memory<B>>,
    pub state: &'a TrainState,
}

/// Writes `step-NNNNNNNN` atomically (temp folder + rename) and prunes to the newest `keep`.
pub fn save<B: Backend, R: burn::record::Record<B>>(
    checkpoints: &Path,
    snap: Snapshot<B, R>,
    keep: usize,
) -> Result<PathBuf> {
    std::fs::create_dir_all(checkpoints)
        .with_context(|| format!("cannot create {}", checkpoints.display()))?;
    let name = format!("{PREFIX}{:08}", snap.state.step);
    let tmp = checkpoints.join(format!(".{name}.tmp"));
    let dst = checkpoints.join(&name);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    let rec = CheckpointRecorder::new();
    snap.model
        .clone()
        .save_file(tmp.join("model"), &rec)
        .context("cannot save model record")?;
    Recorder::<B>::record(&rec, snap.optim, tmp.join("optim"))
        .context("cannot save optimizer state")?;
    write_memory(&tmp.join("memory.bin"), snap.memory)?;
    std::fs::write(
        tmp.join("model_config.json"),
        serde_json::to_string_pretty(snap.model_config)?,
    )?;
    std::fs::write(tmp.join("state.json"), serde_json::to_string(snap.state)?)?;
    if dst.exists() {
        std::fs::remove_dir_all(&dst)?;
    }
    std::fs::rename(&tmp, &dst)
        .with_context(|| format!("cannot rename {} into place", tmp.display()))?;
    let all = list(checkpoints)?;
    for (_, old) in all.iter().take(all.len().saturating_sub(keep)) {
        std::fs::remove_dir_all(old).with_context(|| format!("cannot prune {}", old.display()))?;
    }
    Ok(dst)
}

/// Loads the optimizer record of a checkpoint.
pub fn load_optim<B: Backend, R: burn::record::Record<B>>(
    ckpt: &Path,
    device: &B::Device,
) -> Result<R> {
    Recorder::<B>::load(&CheckpointRecorder::new(), ckpt.join("optim"), device)
        .with_context(|| format!("cannot load optimizer state from {}", ckpt.display()))
}

/// Loads the model weights of a checkpoint into `model`.
pub fn load_weights<B: Backend>(
    model: TransformerXl<B>,
    ckpt: &Path,
    device: &B::Device,
) -> Result<TransformerXl<B>> {
    model
        .load_file(ckpt.join("model"), &CheckpointRecorder::new(), device)
        .with_context(|| format!("cannot load model weights from {}", ckpt.display()))
}

// memory.bin: u32 layer count, then per layer three u64 dims and the f32 values, little-endian.
fn write_memory<B: Backend>(path: &Path, memory: Option<&Memory<B>>) -> Result<()> {
    let layers = memory.map_or(&[][..], |m| &m.layers[..]);
    let mut bytes = (layers.len() as u32).to_le_bytes().to_vec();
    for t in layers {
        for d in t.dims() {
            bytes.extend((d as u64).to_le_bytes());
        }
        let values = t
            .to_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        for v in values {
            bytes.extend(v.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn read_memory<B: Backend>(ckpt: &Path, device: &B::Device) -> Result<Option<Memory<B>>> {
    let path = ckpt.join("memory.bin");
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let bad = || anyhow::anyhow!("truncated memory file {}", path.display());
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let s = bytes.get(at..at + n).ok_or_else(bad)?;
        at += n;
        Ok(s)
    };
    let n = u32::from_le_bytes(take(4)?.try_into()?) as usize;
    let mut layers = Vec::with_capacity(n);
    for _ in 0..n {
        let mut dims = [0usize; 3];
        for d in &mut dims {
            *d = u64::from_le_bytes(take(8)?.try_into()?) as usize;
        }
        let count = dims.iter().product::<usize>();
        let raw = take(count * 4)?;
        let values: Vec<f32> = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        layers.push(Tensor::<B, 3>::from_data(
            TensorData::new(values, dims),
            device,
        ));
    }
    Ok((n > 0).then_some(Memory { layers }))
}

/// A content hash of a checkpoint (weights and state), for the stage fingerprint.
pub fn fingerprint(ckpt: &Path) -> Result<String> {
    let mut h = Vec::new();
    for f in ["model.bin", "state.json", "model_config.json"] {
        let p = ckpt.join(f);
        let bytes = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
        h.extend(crate::hash::sha256_hex(&bytes).into_bytes());
    }
    Ok(crate::hash::sha256_hex(&h))
}
