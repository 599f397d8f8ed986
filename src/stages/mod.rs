//! The stage glue: each stage's inputs, config hash and output folder, and the call down into
//! the module that does its work. The only place (besides the CLI commands) that sees the whole
//! [`Config`].

pub mod evaluate;
pub mod generate;
pub mod report;
pub mod tokenize;
pub mod train;

use anyhow::Result;
use serde::Serialize;

use crate::config::Config;
use crate::layout::RunLayout;
use crate::model::TransformerXlConfig;
use crate::pipeline::{Graph, Stage};

/// What every stage reads: the config and where the run's outputs live.
pub struct Ctx {
    pub cfg: Config,
    pub layout: RunLayout,
}

impl Ctx {
    pub fn new(cfg: Config) -> Ctx {
        let layout = RunLayout::new(&cfg);
        Ctx { cfg, layout }
    }

    /// The model shape this config trains (the full REMI vocabulary, fixed by spec).
    pub fn model(&self) -> TransformerXlConfig {
        self.cfg.model.resolve(crate::remi::Vocab::SIZE)
    }

    /// Whether the input is the built-in demo corpus.
    pub fn demo(&self) -> bool {
        crate::demo::is_demo_corpus(self.layout.raw_dir())
    }
}

/// The stages of cadenza; the graph orders them by what each reads.
pub fn graph() -> Result<Graph<'static, Ctx>> {
    const STAGES: [&dyn Stage<Ctx>; 5] = [
        &tokenize::Tokenize,
        &train::Train,
        &generate::Generate,
        &evaluate::Evaluate,
        &report::Report,
    ];
    Graph::new(&STAGES)
}

/// The hash of the config sections a stage uses (their TOML text), so that editing any other
/// section keeps the stage fresh.
pub fn config_hash<T: Serialize>(sections: &T) -> String {
    let text = toml::to_string(sections)
        .unwrap_or_else(|e| format!("unserialisable config sections: {e}"));
    crate::hash::sha256_hex(text.as_bytes())
}

/// A folder's content hash, as a stage input (an unreadable folder is an input too: its error).
fn content(dir: &std::path::Path) -> String {
    crate::hash::tree_fingerprint(dir).unwrap_or_else(|e| format!("unreadable: {e:#}"))
}

/// The content hash of the checkpoint `path` names (a checkpoint or a train folder's newest).
fn checkpoint_content(path: &std::path::Path) -> String {
    crate::model::Checkpoint::resolve(path)
        .map_or_else(|e| format!("unreadable: {e:#}"), |c| content(&c.dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_hashes_its_own_sections() {
        let text = std::fs::read_to_string("configs/default.toml").unwrap();
        let cfg = Config::parse(&text, "default.toml".as_ref()).unwrap();
        let mut other = cfg.clone();
        other.generate.samplers[0].temperature += 0.1;
        other.evaluate.resamples += 1;
        other.tokenize.songs_per_shard += 1;
        other.model.dropout = Some(0.2);
        other.audio.tail_seconds += 1.0;
        let (a, b) = (Ctx::new(cfg), Ctx::new(other));
        let g = graph().unwrap();
        for s in g.stages() {
            assert_ne!(s.config_hash(&a), s.config_hash(&b), "{}", s.name());
        }
        let names: Vec<&str> = g.stages().iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            ["tokenize", "train", "generate", "evaluate", "report"]
        );
    }

    /// A SoundFont installed after a run makes generate stale (its own inputs change).
    #[test]
    fn generate_follows_the_soundfont() {
        use crate::pipeline::Stage;
        let dir = std::env::temp_dir().join(format!("cadenza-sf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let font = dir.join("gm.sf2");
        let text = format!(
            "[run]\nname = \"t\"\n[audio]\nsoundfont = \"{}\"\n",
            font.display()
        );
        let ctx = Ctx::new(Config::parse(&text, "t.toml".as_ref()).unwrap());
        let inputs = || generate::Generate.own_inputs(&ctx).unwrap();
        let before = inputs();
        assert_eq!(before["soundfont"], "absent");
        std::fs::write(&font, b"sf2").unwrap();
        assert_ne!(inputs(), before);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Prompts from `generate.prompt_dir` and an external `generate.checkpoint` are inputs by
    /// content: editing a file in either makes generate stale.
    #[test]
    fn generate_follows_its_prompts_and_an_external_checkpoint() {
        use crate::pipeline::Stage;
        let dir = tempfile::tempdir().unwrap();
        let (prompts, ckpt) = (dir.path().join("prompts"), dir.path().join("step-00000010"));
        std::fs::create_dir_all(&prompts).unwrap();
        std::fs::create_dir_all(&ckpt).unwrap();
        std::fs::write(prompts.join("a.mid"), b"one").unwrap();
        std::fs::write(ckpt.join("state.json"), b"{}").unwrap();
        std::fs::write(ckpt.join("model.bin"), b"weights").unwrap();
        let text = format!(
            "[run]\nname = \"t\"\n[generate]\nprompt_dir = \"{}\"\ncheckpoint = \"{}\"\n",
            prompts.display(),
            ckpt.display()
        );
        let ctx = Ctx::new(Config::parse(&text, "t.toml".as_ref()).unwrap());
        let inputs = || generate::Generate.own_inputs(&ctx).unwrap();
        let before = inputs();
        std::fs::write(prompts.join("a.mid"), b"two").unwrap();
        let edited = inputs();
        assert_ne!(edited["prompt_dir"], before["prompt_dir"]);
        assert_eq!(edited["checkpoint"], before["checkpoint"]);
        std::fs::write(ckpt.join("model.bin"), b"other weights").unwrap();
        assert_ne!(inputs()["checkpoint"], edited["checkpoint"]);
    }
}
