//! The checkpoint format: one folder per training step.
//!
//! ```text
//! <train dir>/checkpoints/step-00001200/
//!     model.bin         model record (f32, Burn's BinFileRecorder)      } written here
//!     model_config.json TransformerXlConfig                              }
//!     optim.bin         AdamW state                                      } written by train
//!     memory.bin        the XL memory of every stream                    } (what a resume
//!     checksums.json    the SHA-256 of each file above
//!     state.json        step, data position, RNG, ...; written last      }  needs)
//! ```
//! A folder counts as a checkpoint once `state.json` is there; [`Checkpoint::verify`] finds a
//! damaged one. Generation and the report need only the model files, through [`Checkpoint`].

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::record::{BinFileRecorder, FullPrecisionSettings};
use burn::tensor::backend::Backend;
use std::path::{Path, PathBuf};

use super::{TransformerXl, TransformerXlConfig};

pub type CheckpointRecorder = BinFileRecorder<FullPrecisionSettings>;

/// The checkpoints folder inside a train output folder.
pub const CHECKPOINTS_DIR: &str = "checkpoints";
/// The file that completes a checkpoint folder (the trainer's progress, written last).
pub const STATE_FILE: &str = "state.json";
const MODEL_FILE: &str = "model"; // the recorder adds ".bin"
const MODEL_CONFIG_FILE: &str = "model_config.json";
const PREFIX: &str = "step-";

/// A completed checkpoint folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Checkpoint {
    pub step: usize,
    pub dir: PathBuf,
}

impl Checkpoint {
    /// The folder name of the checkpoint at `step`.
    pub fn dir_name(step: usize) -> String {
        format!("{PREFIX}{step:08}")
    }

    /// Completed checkpoints in a `checkpoints` folder, oldest first (none if it is missing).
    pub fn list(checkpoints: &Path) -> Result<Vec<Checkpoint>> {
        let mut out = Vec::new();
        if !checkpoints.is_dir() {
            return Ok(out);
        }
        for entry in std::fs::read_dir(checkpoints)
            .with_context(|| format!("cannot list {}", checkpoints.display()))?
        {
            let dir = entry?.path();
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if let Some(step) = name
                .strip_prefix(PREFIX)
                .and_then(|s| s.parse::<usize>().ok())
                && dir.join(STATE_FILE).is_file()
            {
                out.push(Checkpoint { step, dir });
            }
        }
        out.sort();
        Ok(out)
    }

    /// `path` itself if it is a checkpoint, else the newest one under `path/checkpoints` or
    /// `path` (a train output folder or a checkpoints folder).
    pub fn resolve(path: &Path) -> Result<Checkpoint> {
        if path.join(STATE_FILE).is_file() {
            let step = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(PREFIX))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return Ok(Checkpoint {
                step,
                dir: path.to_path_buf(),
            });
        }
        for dir in [path.join(CHECKPOINTS_DIR), path.to_path_buf()] {
            if let Some(c) = Self::list(&dir)?.pop() {
                return Ok(c);
            }
        }
        bail!(
            "no checkpoint in {} (run `pipeline run train` first)",
            path.display()
        )
    }

    /// The folder's name (`step-00001200`).
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Checks every file against `checksums.json` (checkpoints written before it existed pass);
    /// the error names the damaged file and what to do.
    pub fn verify(&self) -> Result<()> {
        if let Some(p) = crate::hash::damaged_file(&self.dir)? {
            bail!(
                "checkpoint {} is damaged: {} is missing or does not match its checksum; \
                 run `pipeline run train` (it resumes from the newest valid checkpoint) or \
                 point generate.checkpoint at another one",
                self.dir.display(),
                p.display()
            );
        }
        Ok(())
    }

    /// The shape that was trained.
    pub fn model_config(&self) -> Result<TransformerXlConfig> {
        let p = self.dir.join(MODEL_CONFIG_FILE);
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("bad model config {}", p.display()))
    }

    /// The trained model, for inference (checked against its checksums first).
    pub fn load_model<B: Backend>(&self, device: &B::Device) -> Result<TransformerXl<B>> {
        self.verify()?;
        self.load_weights(self.model_config()?.init::<B>(device), device)
    }

    /// The checkpoint's weights loaded into `model` (of the same shape).
    pub fn load_weights<B: Backend>(
        &self,
        model: TransformerXl<B>,
        device: &B::Device,
    ) -> Result<TransformerXl<B>> {
        model
            .load_file(
                self.dir.join(MODEL_FILE),
                &CheckpointRecorder::new(),
                device,
            )
            .with_context(|| format!("cannot load model weights from {}", self.dir.display()))
    }

    /// A content hash of the weights, the model config and the trainer's state, for stage
    /// fingerprints.
    pub fn fingerprint(&self) -> Result<String> {
        let mut h = Vec::new();
        for f in ["model.bin", STATE_FILE, MODEL_CONFIG_FILE] {
            let p = self.dir.join(f);
            let bytes =
                std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            h.extend(crate::hash::sha256_hex(&bytes).into_bytes());
        }
        Ok(crate::hash::sha256_hex(&h))
    }
}

/// Writes `checksums.json` into a checkpoint folder being built (before its `state.json`).
pub fn write_checksums(dir: &Path) -> Result<()> {
    crate::hash::write_checksums(dir, &[STATE_FILE])
}

/// Writes the model files (weights and config) into a checkpoint folder being built.
pub fn write_model<B: Backend>(
    dir: &Path,
    model: &TransformerXl<B>,
    config: &TransformerXlConfig,
) -> Result<()> {
    model
        .clone()
        .save_file(dir.join(MODEL_FILE), &CheckpointRecorder::new())
        .context("cannot save model record")?;
    std::fs::write(
        dir.join(MODEL_CONFIG_FILE),
        serde_json::to_string_pretty(config)?,
    )
    .with_context(|| format!("cannot write {}", dir.join(MODEL_CONFIG_FILE).display()))
}
