//! A tiny finished run, made by hand: raw songs and token shards (with a test split), generated
//! pieces (one with a WAV, others without), metrics tables, a train manifest and the upstream
//! manifests, laid out as the stages write them.

use polars::prelude::*;
use std::path::{Path, PathBuf};

use crate::support::write;
use cadenza::midi::{self, Note, Song, Tempo};
use cadenza::pipeline::manifest::Manifest;
use cadenza::report::ReportStats;
use cadenza::shards::{self, SongRecord, Split};

pub struct Run {
    pub dir: tempfile::TempDir,
}

/// The generated pieces: (task, sampler, stem, has WAV).
pub const PIECES: [(&str, &str, &str, bool); 4] = [
    ("continuation", "greedy", "000", true),
    ("continuation", "greedy", "001", false),
    ("continuation", "t1.0 k8", "000", false),
    ("unconditional", "t1.0 k8", "000", false),
];
/// Prompt bars of the continuation pieces (samples.parquet `start_bar`).
pub const START_BAR: u32 = 2;
/// The real test-split songs, with their raw paths.
pub const REFERENCE: [(&str, &str); 2] = [
    ("src_001/7", "src_001/7.mid"),
    ("src_002/3", "src_002/3.mid"),
];

/// A few notes over `bars` bars; `seed` varies pitches so the pieces differ.
pub fn song(bars: u32, seed: u8) -> Song {
    let notes = (0..bars * 4)
        .map(|i| Note {
            start: i * 480,
            end: i * 480 + 400,
            pitch: 55 + seed + ((i * 5) % 17) as u8,
            velocity: 60 + (i % 5) as u8 * 10,
        })
        .collect();
    Song {
        notes,
        tempos: vec![Tempo {
            tick: 0,
            bpm: 120.0,
        }],
        chords: vec![],
        global_bpm: None,
        meters: vec![],
    }
}

fn parquet(path: &Path, mut df: DataFrame) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

fn manifest(dir: &Path, stage: &str, fingerprint: &str, counts: serde_json::Value) {
    std::fs::create_dir_all(dir).unwrap();
    let m = Manifest {
        stage: stage.into(),
        config_hash: "x".into(),
        inputs: Default::default(),
        crate_version: env!("CARGO_PKG_VERSION").into(),
        fingerprint: fingerprint.into(),
        counts: serde_json::from_value(counts).unwrap(),
        wall_seconds: 1.5,
        demo_data: false,
        outputs: Default::default(),
    };
    m.write(dir).unwrap();
}

impl Run {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn run_dir(&self) -> PathBuf {
        self.root().join("artifacts/tiny")
    }
    pub fn report_dir(&self) -> PathBuf {
        self.run_dir().join("report")
    }
    pub fn config_path(&self) -> PathBuf {
        self.root().join("cfg.toml")
    }
    pub fn config(&self) -> cadenza::config::Config {
        cadenza::config::Config::load(&self.config_path()).unwrap()
    }
    /// The report stage's page, written straight into report/ (outside the runner).
    pub fn write_report(&self, max_reference: usize) -> anyhow::Result<ReportStats> {
        let ctx = cadenza::stages::Ctx::new(self.config());
        cadenza::stages::report::write_page(&ctx, &self.report_dir(), max_reference)
    }
    /// Points `[audio] soundfont` at `sf2` (the fixture has none by default: no audio).
    pub fn use_soundfont(&self, sf2: &Path) {
        let text = std::fs::read_to_string(self.config_path()).unwrap();
        let missing = format!("{}/no-soundfont.sf2", self.root().display());
        std::fs::write(
            self.config_path(),
            text.replace(&missing, &sf2.display().to_string()),
        )
        .unwrap();
    }
    pub fn partition(&self, task: &str, sampler: &str) -> PathBuf {
        self.run_dir()
            .join(format!("generated/task={task}/sampler={sampler}"))
    }

    pub fn new() -> Run {
        let run = Run {
            dir: tempfile::tempdir().unwrap(),
        };
        let root = run.root().to_path_buf();
        std::fs::write(
            run.config_path(),
            format!(
                "[run]\nname = \"tiny\"\nseed = 1\nraw_dir = \"{0}/raw\"\ntokens_dir = \"{0}/tokens\"\nartifacts_dir = \"{0}/artifacts\"\n[audio]\nsoundfont = \"{0}/no-soundfont.sf2\"\n",
                root.display()
            ),
        )
        .unwrap();

        // Raw songs and shards: two test songs, one train song.
        let mut songs = Vec::new();
        for (i, (id, src)) in REFERENCE
            .iter()
            .chain(&[("src_001/1", "src_001/1.mid")])
            .enumerate()
        {
            let bytes = midi::write_bytes(&song(3 + i as u32, i as u8));
            write(&root.join("raw").join(src), &bytes);
            songs.push(SongRecord {
                song_id: id.to_string(),
                source: src.to_string(),
                source_sha256: "00".repeat(32),
                split: if i < 2 { Split::Test } else { Split::Train },
                meters: String::new(),
                n_bars: 3 + i as u32,
                n_notes: 4 * (3 + i as u32),
                n_tokens: 1,
                tokens: vec![1],
            });
        }
        std::fs::create_dir_all(root.join("tokens/remi")).unwrap();
        shards::write_shards(&root.join("tokens/remi"), &songs, 256).unwrap();
        manifest(
            &root.join("tokens/remi"),
            "tokenize",
            "tok-1",
            serde_json::json!({"songs": 3}),
        );

        // Generated pieces.
        let mut by_partition: std::collections::BTreeMap<(&str, &str), Vec<(&str, bool)>> =
            Default::default();
        for (k, (task, sampler, stem, wav)) in PIECES.iter().enumerate() {
            let dir = run.partition(task, sampler);
            write(
                &dir.join(format!("{stem}.mid")),
                &midi::write_bytes(&song(4, 3 * k as u8)),
            );
            if *wav {
                write(&dir.join(format!("{stem}.wav")), b"RIFF....WAVEfmt ");
            }
            by_partition
                .entry((task, sampler))
                .or_default()
                .push((stem, *wav));
        }
        for ((task, sampler), rows) in &by_partition {
            let n = rows.len();
            let cont = *task == "continuation";
            let df = df!(
                "piece" => rows.iter().map(|r| r.0.parse::<u32>().unwrap()).collect::<Vec<_>>(),
                "seed" => (0..n as u64).map(|i| 1000 + i).collect::<Vec<_>>(),
                "n_tokens" => vec![50u32; n],
                "n_bars" => vec![4u32; n],
                "prompt_source" => vec![cont.then_some("src_001/7.mid"); n],
                "start_bar" => vec![if cont { START_BAR } else { 0 }; n],
                "seconds" => vec![8.0f64; n],
                "has_wav" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )
            .unwrap();
            parquet(
                &run.partition(task, sampler)
                    .join(cadenza::generate::store::SAMPLES_FILE),
                df,
            );
        }
        manifest(
            &run.run_dir().join("generated"),
            "generate",
            "gen-1",
            serde_json::json!({"pieces": 4}),
        );

        // Metrics: one scored row per piece (one with an error), the reference rows, a summary.
        let metrics = run.run_dir().join("metrics");
        let mut groups: Vec<(String, String, Vec<String>)> = by_partition
            .iter()
            .map(|((t, s), rows)| {
                (
                    t.to_string(),
                    s.to_string(),
                    rows.iter().map(|r| r.0.to_string()).collect(),
                )
            })
            .collect();
        groups.push((
            "reference".into(),
            "real".into(),
            REFERENCE.iter().map(|r| r.0.to_string()).collect(),
        ));
        for (g, (task, sampler, pieces)) in groups.iter().enumerate() {
            let n = pieces.len();
            let h = |base: f64| {
                (0..n)
                    .map(|i| base + 0.1 * g as f64 + 0.01 * i as f64)
                    .collect::<Vec<_>>()
            };
            let errors: Vec<Option<&str>> = (0..n)
                .map(|i| {
                    (task == "continuation" && sampler == "greedy" && i == 1).then_some("bad file")
                })
                .collect();
            let df = df!(
                "piece" => pieces.clone(),
                "file" => pieces.clone(),
                "h1" => h(1.5),
                "h4" => h(2.5),
                "gs" => h(0.8),
                "n_bars" => vec![4u32; n],
                "n_notes" => vec![16u32; n],
                "error" => errors,
            )
            .unwrap();
            parquet(
                &metrics.join(format!(
                    "pieces/task={task}/sampler={sampler}/part-0.parquet"
                )),
                df,
            );
        }
        let tasks: Vec<&str> = groups.iter().map(|g| g.0.as_str()).collect();
        let samplers: Vec<&str> = groups.iter().map(|g| g.1.as_str()).collect();
        let k = groups.len();
        let v = |base: f64| {
            (0..k)
                .map(|i| Some(base + 0.123456789 * i as f64))
                .collect::<Vec<_>>()
        };
        let is_ref: Vec<bool> = tasks.iter().map(|t| *t == "reference").collect();
        let delta = |base: f64| -> Vec<Option<f64>> {
            (0..k)
                .map(|i| (!is_ref[i]).then_some(base / (i + 1) as f64))
                .collect()
        };
        let summary = df!(
            "task" => tasks,
            "sampler" => samplers,
            "n" => groups.iter().map(|g| g.2.len() as u32).collect::<Vec<_>>(),
            "n_errors" => (0..k).map(|i| (i == 0) as u32).collect::<Vec<_>>(),
            "h1_mean" => v(1.5), "h1_std" => v(0.2),
            "h4_mean" => v(2.5), "h4_std" => v(0.3),
            "gs_mean" => v(0.8), "gs_std" => (0..k).map(|i| (i != 1).then_some(0.05)).collect::<Vec<_>>(),
            "h1_delta" => delta(0.11), "h4_delta" => delta(0.22), "gs_delta" => delta(0.033),
            "distance" => (0..k).map(|i| Some(if is_ref[i] { 0.0 } else { 1.0 / (i + 1) as f64 })).collect::<Vec<_>>(),
            "rank" => (0..k).map(|i| (!is_ref[i]).then_some((k - 1 - i) as u32)).collect::<Vec<_>>(),
        )
        .unwrap();
        parquet(&metrics.join("summary.parquet"), summary);
        manifest(
            &metrics,
            "evaluate",
            "eval-1",
            serde_json::json!({"pieces": 6}),
        );

        // Train: a manifest with a few counts and a checkpoint folder.
        let train = run.run_dir().join("train");
        let ckpt = train.join("checkpoints/step-00000100");
        write(&ckpt.join("state.json"), b"{}");
        write(
            &ckpt.join("model_config.json"),
            br#"{"n_layer": 2, "d_model": 64}"#,
        );
        manifest(
            &train,
            "train",
            "train-1",
            serde_json::json!({"steps": 100, "valid_loss": 2.75, "model": {"n_layers": 2}}),
        );
        run
    }
}
