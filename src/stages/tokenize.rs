//! tokenize: every MIDI file under the raw folder -> REMI token shards + rejects
//! (`crate::tokenize`). Shardable: `--shard i/N` does the files whose path hashes to i.

use anyhow::Result;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use super::{Ctx, config_hash};
use crate::pipeline::{Counts, Inputs, Job, Stage, StageOutput};
use crate::tokenize::{Tokenized, list_sources, sources_fingerprint, tokenize_into};

pub struct Tokenize;

impl Stage<Ctx> for Tokenize {
    fn name(&self) -> &'static str {
        "tokenize"
    }
    fn shardable(&self) -> bool {
        true
    }
    fn output_dir(&self, ctx: &Ctx) -> PathBuf {
        ctx.layout.tokens_dir().to_path_buf()
    }
    fn config_hash(&self, ctx: &Ctx) -> String {
        #[derive(serde::Serialize)]
        struct Sections<'a> {
            tokenize: &'a crate::tokenize::TokenizeConfig,
            shard_format: u32,
        }
        config_hash(&Sections {
            tokenize: &ctx.cfg.tokenize,
            shard_format: crate::shards::FORMAT,
        })
    }
    fn own_inputs(&self, ctx: &Ctx) -> Result<Inputs> {
        let sources = list_sources(ctx.layout.raw_dir())?;
        Ok(Inputs::from([(
            "raw_files".to_string(),
            sources_fingerprint(&sources),
        )]))
    }

    fn run(&self, ctx: &Ctx, job: &Job) -> Result<StageOutput> {
        let t0 = Instant::now();
        let mut sources = list_sources(ctx.layout.raw_dir())?;
        sources.retain(|s| job.shard.owns(&s.rel));
        let t = tokenize_into(job.out, &sources, ctx.cfg.tokenize.songs_per_shard)?;
        let secs = t0.elapsed().as_secs_f64();
        let summary = format!(
            "{} files, {} rejected, {} songs ({} re-barred from 1/4 or 2/4), {} tokens, {secs:.2} s, {:.0} files/s",
            t.files,
            t.rejects.len(),
            t.songs,
            t.rebarred,
            t.tokens,
            t.files as f64 / secs.max(1e-9)
        );
        Ok(StageOutput {
            counts: counts(&t),
            fingerprint: t.fingerprint.clone(),
            summary,
        })
    }
}

fn counts(t: &Tokenized) -> Counts {
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for r in &t.rejects {
        *by_reason.entry(r.reason.clone()).or_default() += 1;
    }
    Counts::from([
        ("files".into(), t.files.into()),
        ("songs".into(), t.songs.into()),
        ("rejected".into(), t.rejects.len().into()),
        ("rebarred".into(), t.rebarred.into()),
        ("rejects_by_reason".into(), serde_json::json!(by_reason)),
        ("songs_by_split".into(), serde_json::json!(t.songs_by_split)),
        ("notes".into(), t.notes.into()),
        ("tokens".into(), t.tokens.into()),
    ])
}
