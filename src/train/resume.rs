//! What a resumed run needs besides the weights: the optimizer state, the XL memory of every
//! stream, and [`TrainState`] (step, data position and RNG, elapsed time). These go into the
//! checkpoint folder beside the model files ([`crate::model::checkpoint`]); the folder is built
//! under a temporary name and renamed into place.

use anyhow::{Context, Result};
use burn::optim::Optimizer;
use burn::record::Recorder;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::adamw::Optim;
use super::loader::{LoaderState, SongPositions, StreamLoader};
use super::loss_scale::LossScale;
use crate::fsio::AtomicDir;
use crate::model::checkpoint::{self, Checkpoint, CheckpointRecorder, STATE_FILE};
use crate::model::{Memory, TransformerXl, TransformerXlConfig};

const OPTIM_FILE: &str = "optim"; // the recorder adds ".bin"
const MEMORY_FILE: &str = "memory.bin";

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
    /// Where each stream is in its song, when the memory is emptied at song starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub song_positions: Option<SongPositions>,
    /// The loss scaler of f16 mixed precision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<LossScale>,
    /// The steps `train.budget_minutes` planned, once the warmup has measured the speed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<BudgetPlan>,
}

/// What `train.budget_minutes` planned, and from what speed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BudgetPlan {
    pub steps: usize,
    /// Training tokens per second over the warmup's measured steps.
    pub tokens_per_sec: f64,
}

pub fn read_state(ckpt: &Checkpoint) -> Result<TrainState> {
    let p = ckpt.dir.join(STATE_FILE);
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("bad checkpoint state {}", p.display()))
}

/// What goes into a checkpoint.
pub struct Snapshot<'a, B: Backend, R: burn::record::Record<B>> {
    pub model: &'a TransformerXl<B>,
    pub model_config: &'a TransformerXlConfig,
    pub optim: R,
    pub memory: Option<&'a Memory<B>>,
    pub state: &'a TrainState,
}

/// Writes `step-NNNNNNNN` atomically and prunes `checkpoints` to the newest `keep`.
pub fn save<B: Backend, R: burn::record::Record<B>>(
    checkpoints: &Path,
    snap: Snapshot<B, R>,
    keep: usize,
) -> Result<PathBuf> {
    let dst = checkpoints.join(Checkpoint::dir_name(snap.state.step));
    let dir = AtomicDir::new(&dst)?;
    checkpoint::write_model(dir.path(), snap.model, snap.model_config)?;
    Recorder::<B>::record(
        &CheckpointRecorder::new(),
        snap.optim,
        dir.path().join(OPTIM_FILE),
    )
    .context("cannot save optimizer state")?;
    write_memory(&dir.path().join(MEMORY_FILE), snap.memory)?;
    checkpoint::write_checksums(dir.path())?;
    std::fs::write(
        dir.path().join(STATE_FILE),
        serde_json::to_string(snap.state)?,
    )?;
    dir.commit()?;
    let all = Checkpoint::list(checkpoints)?;
    for old in all.iter().take(all.len().saturating_sub(keep)) {
        crate::fsio::atomic::remove(&old.dir)
            .with_context(|| format!("cannot prune {}", old.dir.display()))?;
    }
    Ok(dst)
}

/// Loads the optimizer record of a checkpoint.
pub fn load_optim<B: Backend, R: burn::record::Record<B>>(
    ckpt: &Checkpoint,
    device: &B::Device,
) -> Result<R> {
    Recorder::<B>::load(
        &CheckpointRecorder::new(),
        ckpt.dir.join(OPTIM_FILE),
        device,
    )
    .with_context(|| format!("cannot load optimizer state from {}", ckpt.dir.display()))
}

/// Copies a checkpoint folder into `checkpoints` (resuming from another output folder).
pub fn copy_into(src: &Checkpoint, checkpoints: &Path) -> Result<PathBuf> {
    let dst = checkpoints.join(src.name());
    let dir = AtomicDir::new(&dst)?;
    for entry in std::fs::read_dir(&src.dir)? {
        let entry = entry?;
        std::fs::copy(entry.path(), dir.path().join(entry.file_name()))
            .with_context(|| format!("cannot copy {}", entry.path().display()))?;
    }
    dir.commit()?;
    Ok(dst)
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

pub fn read_memory<B: Backend>(ckpt: &Checkpoint, device: &B::Device) -> Result<Option<Memory<B>>> {
    let path = ckpt.dir.join(MEMORY_FILE);
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

/// What a resumed session starts from: model, optimizer, XL memory, loader and state.
pub(super) type Resumed<'a, B> = (
    TransformerXl<B>,
    Optim<B>,
    Option<Memory<B>>,
    StreamLoader<'a>,
    TrainState,
);

/// The first of `candidates` (newest first) that loads, into copies of the fresh model,
/// optimizer and loader (a damaged checkpoint leaves them as they were); a warning for each
/// one passed over.
pub(super) fn resume_first<'a, B: AutodiffBackend>(
    candidates: Vec<(Checkpoint, TrainState)>,
    device: &B::Device,
    model: &TransformerXl<B>,
    optim: &Optim<B>,
    loader: &StreamLoader<'a>,
) -> Option<Resumed<'a, B>> {
    for (ckpt, saved) in candidates {
        let loaded = (|| -> Result<_> {
            ckpt.verify()?;
            Ok((
                ckpt.load_weights(model.clone(), device)?,
                optim.clone().load_record(load_optim(&ckpt, device)?),
                read_memory::<B>(&ckpt, device)?,
                loader.clone().resume(saved.loader.clone())?,
            ))
        })();
        match loaded {
            Ok((model, optim, mems, loader)) => return Some((model, optim, mems, loader, saved)),
            Err(e) => eprintln!(
                "warning: cannot resume from {}: {e:#}; trying the checkpoint before it",
                ckpt.dir.display()
            ),
        }
    }
    None
}
