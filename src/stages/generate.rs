//! The generate stage: checkpoint (+ test-split prompts) -> generated/task=…/sampler=…/.

use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::audio::AudioConfig;
use crate::config::Config;
use crate::generate::store::{FINGERPRINT_FILE, partition_dir};
use crate::generate::{GenerateConfig, checkpoint_path, generate_with};
use crate::pipeline::stage::{Counts, Stage, StageCtx, StageOutput};

pub struct Generate;

#[derive(Serialize)]
struct HashKey<'a> {
    generate: &'a GenerateConfig,
    audio: &'a AudioConfig,
    seed: u64,
}

impl Stage for Generate {
    fn name(&self) -> &'static str {
        "generate"
    }

    fn config_hash(&self, cfg: &Config) -> String {
        let key = HashKey {
            generate: &cfg.generate,
            audio: &cfg.audio,
            seed: cfg.run.seed,
        };
        crate::hash::sha256_hex(serde_json::to_string(&key).unwrap_or_default().as_bytes())
    }

    fn output_dir(&self, cfg: &Config) -> PathBuf {
        cfg.run_dir().join("generated")
    }

    fn inputs(&self, cfg: &Config) -> Result<BTreeMap<String, String>> {
        let mut m = BTreeMap::new();
        m.insert(
            "train".into(),
            crate::pipeline::upstream_fingerprint(cfg, "train")?,
        );
        m.insert(
            "tokenize".into(),
            crate::pipeline::upstream_fingerprint(cfg, "tokenize")?,
        );
        Ok(m)
    }

    fn run(&self, ctx: &StageCtx, out: &Path) -> Result<StageOutput> {
        let cfg = ctx.cfg;
        let started = std::time::Instant::now();
        let s = generate_with(cfg, &cfg.generate, &checkpoint_path(cfg), out, ctx.force)?;

        // What downstream sees: the fingerprints of the configured partitions, in order.
        let mut fps = String::new();
        for task in &cfg.generate.tasks {
            for sampler in &cfg.generate.samplers {
                let p = partition_dir(out, task.as_str(), &sampler.name).join(FINGERPRINT_FILE);
                fps.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
        let mut counts = Counts::new();
        counts.insert("partitions_written".into(), s.partitions_written.into());
        counts.insert("partitions_skipped".into(), s.partitions_skipped.into());
        counts.insert(
            "partitions_removed".into(),
            s.partitions_removed.len().into(),
        );
        counts.insert("pieces".into(), s.pieces.into());
        counts.insert("tokens".into(), s.tokens.into());
        counts.insert("wavs".into(), s.wavs.into());
        let secs = started.elapsed().as_secs_f64();
        let summary = format!(
            "{} partitions written ({} pieces, {} tokens, {} WAV, {:.0} tokens/s), {} fresh, {} removed",
            s.partitions_written,
            s.pieces,
            s.tokens,
            s.wavs,
            s.tokens as f64 / secs.max(1e-9),
            s.partitions_skipped,
            s.partitions_removed.len()
        );
        Ok(StageOutput {
            counts,
            fingerprint: crate::hash::sha256_hex(fps.as_bytes()),
            summary,
        })
    }
}
