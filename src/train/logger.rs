//! TensorBoard scalars (tensorboard-rs), one event file per training session.

use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tensorboard_rs::summary_writer::SummaryWriter;

/// Tags written by the trainer.
pub mod tags {
    pub const TRAIN_LOSS: &str = "train/loss";
    pub const LR: &str = "train/lr";
    pub const GRAD_NORM: &str = "train/grad_norm";
    pub const TOKENS_PER_SEC: &str = "train/tokens_per_sec";
    /// f16-mixed only: the loss scale, and the steps skipped so far (overflows).
    pub const LOSS_SCALE: &str = "train/loss_scale";
    pub const SKIPPED_STEPS: &str = "train/skipped_steps";
    pub const VALID_LOSS: &str = "valid/loss";
    pub const VALID_PPL: &str = "valid/perplexity";
    /// `samples/<metric>` and `samples/<metric>_delta` for each monitored metric.
    pub const SAMPLES: &str = "samples";
}

pub struct Logger {
    writer: SummaryWriter,
}

impl Logger {
    pub fn new(dir: &Path) -> Result<Logger> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // tensorboard-rs names files events.out.tfevents.<unix seconds>.<host>.<pid>.0 and
        // truncates an existing one: a second session in the same second and process (a resume in
        // tests) would erase the first, so wait for the next second.
        while same_second_file_exists(dir)? {
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(Logger {
            writer: SummaryWriter::new(dir),
        })
    }

    pub fn scalar(&mut self, tag: &str, value: f64, step: usize) {
        self.writer.add_scalar(tag, value as f32, step);
    }

    pub fn flush(&mut self) {
        self.writer.flush();
    }
}

fn same_second_file_exists(dir: &Path) -> Result<bool> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let prefix = format!("events.out.tfevents.{now:010}.");
    let suffix = format!(".{}.0", std::process::id());
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(&suffix) {
            return Ok(true);
        }
    }
    Ok(false)
}
