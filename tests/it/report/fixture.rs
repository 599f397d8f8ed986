//! A tiny finished run, made by hand: raw songs and token shards (with a test split), generated
//! pieces (one with a WAV, others without), metrics tables, a train manifest and the upstream
//! manifests, laid out as the stages write them.

use polars::prelude::*;
use std::path::{Path, PathBuf};

use crate::support::write;
use cadenza::features::features_of_bars;
use cadenza::metrics::ScopeBars;
use cadenza::metrics::{Group, Scope, ScoredPiece, SummaryOptions};
use cadenza::midi::{self, Note, Song, Tempo};
use cadenza::pipeline::manifest::Manifest;
use cadenza::report::ReportStats;
use cadenza::shards::{self, SongRecord, Split};

/// The lengths the fixture's pieces are compared at (as evaluate cuts them).
const BARS: ScopeBars = ScopeBars {
    excerpt: 32,
    continuation: 4,
};

pub struct Run {
    pub dir: tempfile::TempDir,
}

/// The generated pieces: (task, sampler, stem, has WAV).
pub const PIECES: [(&str, &str, &str, bool); 5] = [
    ("continuation", "greedy", "000", true),
    ("continuation", "greedy", "001", false),
    ("continuation", "t1.0 k8", "000", false),
    ("continuation", "real", "000", true),
    ("unconditional", "t1.0 k8", "000", false),
];
/// Prompt bars of the continuation pieces (samples.parquet `start_bar`).
pub const START_BAR: u32 = 2;
/// The real test-split songs, with their raw paths.
pub const REFERENCE: [(&str, &str); 2] = [
    ("src_001/7", "src_001/7.mid"),
    ("src_002/3", "src_002/3.mid"),
];

/// A few notes over `bars` bars; `seed` varies the pitches (not only by transposition), so
/// the pieces' metrics differ.
pub fn song(bars: u32, seed: u8) -> Song {
    let notes = (0..bars * 4)
        .map(|i| Note {
            start: i * 480,
            end: i * 480 + 400,
            pitch: 55 + seed + ((i * (5 + seed as u32 % 7)) % 17) as u8,
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
                "has_audio" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )
            .unwrap();
            parquet(
                &run.partition(task, sampler)
                    .join(cadenza::samples::SAMPLES_FILE),
                df,
            );
        }
        manifest(
            &run.run_dir().join("generated"),
            "generate",
            "gen-1",
            serde_json::json!({"pieces": 5}),
        );

        // Metrics: every piece scored as evaluate does (one with an error), then the tables.
        let metrics = run.run_dir().join("metrics");
        let mut rows = Vec::new();
        for (k, (task, sampler, stem, _)) in PIECES.iter().enumerate() {
            let group = Group::new(*task, *sampler);
            let song = song(4, 3 * k as u8);
            let error = (*task == "continuation" && *sampler == "greedy" && *stem == "001")
                .then(|| "bad file".to_string());
            let start = (*task == "continuation").then_some(START_BAR);
            for scope in group.scored_scopes() {
                let from = if scope == Scope::Continuation {
                    START_BAR
                } else {
                    0
                };
                let values = features_of_bars(&song.notes, from, BARS.of(scope));
                rows.push(ScoredPiece {
                    group: group.clone(),
                    piece: stem.to_string(),
                    file: format!("{stem}.mid"),
                    scope,
                    bars: BARS.of(scope),
                    start_bar: start,
                    prompt: None,
                    metrics: error.clone().map_or(Ok(values), Err),
                });
            }
        }
        for (i, (id, _)) in REFERENCE.iter().enumerate() {
            for scope in Group::reference().scored_scopes() {
                let notes = song(3 + i as u32, i as u8).notes;
                rows.push(ScoredPiece {
                    group: Group::reference(),
                    piece: id.to_string(),
                    file: id.to_string(),
                    scope,
                    bars: BARS.of(scope),
                    start_bar: None,
                    prompt: None,
                    metrics: Ok(features_of_bars(&notes, 0, BARS.of(scope))),
                });
            }
        }
        let opts = SummaryOptions {
            seed: 1,
            resamples: 200,
        };
        cadenza::metrics::store::write_tables(&metrics, &rows, &opts).unwrap();
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
