//! A small project on the demo corpus with a tiny config, run through the real CLI from its own
//! folder (relative paths, so two projects write the same bytes).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cadenza::model::{Checkpoint, CpuBackend};

use crate::support::{CHILD_TIMEOUT, command, spawn, text, wait};

pub struct Project {
    pub dir: tempfile::TempDir,
}

const CONFIG: &str = "[run]\nname = \"p\"\nseed = 7\nraw_dir = \"raw\"\ntokens_dir = \"tokens\"\nartifacts_dir = \"artifacts\"\n\
    [tokenize]\nsongs_per_shard = 16\n\
    [model]\npreset = \"tiny\"\n\
    [train]\nbatch_size = 2\nmax_steps = 6\nwarmup_steps = 1\neval_every = 2\ncheckpoint_every = 2\nvalid_tokens = 256\n\
    [generate]\npieces_per_sampler = 2\nunconditional_bars = 2\nprompt_bars = 2\ncontinuation_bars = 1\nn_prompts = 2\n\
    [[generate.sampler]]\nname = \"a\"\ntop_k = 8\n[[generate.sampler]]\nname = \"b\"\ntemperature = 0.9\ntop_k = 8\n";

impl Project {
    /// 60 demo songs and the config; nothing run yet.
    pub fn new() -> Project {
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(p.path("cfg.toml"), CONFIG).unwrap();
        p.ok(&["demo-data", "--out", "raw", "--songs", "60"], &[]);
        p
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `pipeline ARGS --config cfg.toml`, run in the project folder.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = command(Path::new("cfg.toml"), args, env);
        cmd.current_dir(self.dir.path());
        cmd
    }

    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        wait(spawn(self.command(args, env)), CHILD_TIMEOUT)
    }

    /// [`Project::run`], which must succeed; returns what it printed.
    pub fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let o = self.run(args, env);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        text(&o)
    }

    /// The output folder of a stage.
    pub fn stage_dir(&self, stage: &str) -> PathBuf {
        match stage {
            "tokenize" => self.path("tokens/remi"),
            "train" => self.path("artifacts/p/train"),
            "generate" => self.path("artifacts/p/generated"),
            "evaluate" => self.path("artifacts/p/metrics"),
            "report" => self.path("artifacts/p/report"),
            other => panic!("no stage {other}"),
        }
    }

    /// A stage's outputs as (relative path, SHA-256), sorted: what two runs must agree on. Left
    /// out: manifests (wall times), TensorBoard files and checkpoints, which
    /// [`Project::trained`] compares, and the partitions' fingerprint.txt, which hash the
    /// checkpoint's bytes (Burn writes a random id per parameter into them).
    pub fn outputs(&self, stage: &str) -> Vec<(String, String)> {
        let dir = self.stage_dir(stage);
        let mut out: Vec<(String, String)> = cadenza::hash::tree_files(&dir)
            .unwrap()
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned(),
                    p,
                )
            })
            .filter(|(rel, _)| {
                !rel.ends_with("manifest.json")
                    && !rel.ends_with("fingerprint.txt")
                    && !rel.starts_with("tensorboard")
                    && !rel.starts_with("checkpoints")
                    && !rel.split('/').any(|part| part.starts_with('.'))
            })
            .map(|(rel, p)| (rel, cadenza::hash::sha256_hex(&std::fs::read(p).unwrap())))
            .collect();
        out.sort();
        out
    }

    /// The files where this project's `stage` outputs differ from `other`'s (empty: the same).
    pub fn differences(&self, other: &Project, stage: &str) -> Vec<String> {
        let (a, b) = (self.outputs(stage), other.outputs(stage));
        let ma: std::collections::BTreeMap<_, _> = a.into_iter().collect();
        let mb: std::collections::BTreeMap<_, _> = b.into_iter().collect();
        let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| ma.get(*k) != mb.get(*k))
            .map(|k| format!("{stage}/{k}"))
            .collect()
    }

    /// The final checkpoint: its step, weights and XL memory (exact), and its data position.
    pub fn trained(&self) -> (usize, Vec<f32>, Vec<u8>, serde_json::Value) {
        let ckpt = Checkpoint::resolve(&self.stage_dir("train")).unwrap();
        let model = ckpt.load_model::<CpuBackend>(&Default::default()).unwrap();
        let weights = crate::support::flatten(&model);
        let memory = std::fs::read(ckpt.dir.join("memory.bin")).unwrap();
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(ckpt.dir.join("state.json")).unwrap())
                .unwrap();
        (ckpt.step, weights, memory, state["loader"].clone())
    }
}
