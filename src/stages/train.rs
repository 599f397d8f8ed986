//! The train stage: token shards -> Transformer-XL checkpoints, TensorBoard scalars.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::model::TransformerXlConfig;
use crate::pipeline::stage::{Stage, StageCtx, StageOutput};
use crate::shards::Split;
use crate::train::{TrainSpec, checkpoint, train_on_configured_backend};

pub struct TrainStage;

/// The model shape this config trains (the full REMI vocabulary, fixed by spec).
pub fn model_config(cfg: &Config) -> TransformerXlConfig {
    cfg.model.resolve(crate::remi::Vocab::SIZE)
}

#[derive(serde::Serialize)]
struct HashedSections<'a> {
    model: &'a crate::model::ModelConfig,
    train: &'a crate::train::TrainConfig,
    seed: u64,
}

impl Stage for TrainStage {
    fn name(&self) -> &'static str {
        "train"
    }

    fn config_hash(&self, cfg: &Config) -> String {
        Config::section_hash(&HashedSections {
            model: &cfg.model,
            train: &cfg.train,
            seed: cfg.run.seed,
        })
    }

    fn output_dir(&self, cfg: &Config) -> PathBuf {
        cfg.run_dir().join("train")
    }

    fn inputs(&self, cfg: &Config) -> Result<BTreeMap<String, String>> {
        let mut m = BTreeMap::new();
        m.insert(
            "tokenize".to_string(),
            crate::pipeline::upstream_fingerprint(cfg, "tokenize")?,
        );
        Ok(m)
    }

    fn run(&self, ctx: &StageCtx, out: &Path) -> Result<StageOutput> {
        let cfg = ctx.cfg;
        let songs = crate::shards::read_shards(&cfg.tokens_dir()).with_context(|| {
            format!(
                "cannot read token shards in {} (run `pipeline run tokenize`)",
                cfg.tokens_dir().display()
            )
        })?;
        let pick = |split: Split| {
            songs
                .iter()
                .filter(|s| s.split == split)
                .map(|s| s.tokens.clone())
                .collect::<Vec<_>>()
        };
        let (train_songs, valid_songs) = (pick(Split::Train), pick(Split::Valid));
        anyhow::ensure!(
            !train_songs.is_empty(),
            "no train-split songs in {}",
            cfg.tokens_dir().display()
        );

        let model = model_config(cfg);
        if let Some(bad) = songs
            .iter()
            .flat_map(|s| &s.tokens)
            .find(|&&t| t as usize >= model.vocab_size)
        {
            anyhow::bail!(
                "token id {bad} in {} is outside the REMI vocabulary ({} ids): re-run `pipeline run tokenize --force`",
                cfg.tokens_dir().display(),
                model.vocab_size
            );
        }
        let inputs = self.inputs(cfg)?;
        let key_text = format!(
            "{}|{}|{}",
            self.config_hash(cfg),
            serde_json::to_string(&inputs)?,
            serde_json::to_string(&model)?
        );
        let spec = TrainSpec {
            model,
            train: cfg.train.clone(),
            seed: cfg.run.seed,
            resume_key: crate::hash::sha256_hex(key_text.as_bytes()),
            train_songs: &train_songs,
            valid_songs: &valid_songs,
            transposer: crate::remi::transpose,
            out_dir: out.to_path_buf(),
            // The runner hands us the output folder itself: checkpoints there survive a crash.
            resume_dirs: vec![],
            force: ctx.force,
            session_steps: None,
            progress: true,
        };
        let r = train_on_configured_backend(&spec)?;
        let fingerprint = checkpoint::fingerprint(&r.checkpoint)?;

        let mut counts = BTreeMap::new();
        counts.insert("steps".into(), r.step.into());
        counts.insert("tokens_seen".into(), r.tokens_seen.into());
        counts.insert("train_songs".into(), train_songs.len().into());
        counts.insert("valid_songs".into(), valid_songs.len().into());
        let num = |x: Option<f64>| x.map_or(serde_json::Value::Null, |v| serde_json::json!(v));
        counts.insert("train_loss".into(), num(r.train_loss));
        counts.insert("valid_loss".into(), num(r.valid_loss));
        counts.insert(
            "unigram_entropy".into(),
            serde_json::json!(r.unigram_entropy),
        );
        counts.insert("tokens_per_sec".into(), serde_json::json!(r.tokens_per_sec));
        let resumed = match r.resumed_from {
            Some(s) if s == r.step => " (already trained: checkpoint reused)".to_string(),
            Some(s) => format!(", resumed from step {s}"),
            None => String::new(),
        };
        let valid = r.valid_loss.map_or("n/a".to_string(), |v| {
            format!("{v:.3} nats (ppl {:.2})", v.exp())
        });
        let summary = format!(
            "{} steps{resumed}, {} tokens, {:.0} tok/s; valid loss {valid} vs unigram entropy {:.3} nats; checkpoint {}",
            r.step,
            r.tokens_seen,
            r.tokens_per_sec,
            r.unigram_entropy,
            r.checkpoint.display()
        );
        Ok(StageOutput {
            counts,
            fingerprint,
            summary,
        })
    }
}
