//! What the page shows, read from a run's outputs: the train manifest, the summary table, the
//! generated pieces with their metrics, and the real songs of the run's split.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::tables::{f64s, files_with_ext, hive_children, piece_key, read_frame, strs};
use crate::features::Feature;
use crate::metrics::plot::read_summary;
use crate::metrics::store::read_pieces;
use crate::metrics::{ScoredPiece, SummaryRow};
use crate::model::TransformerXlConfig;
use crate::model::checkpoint::{CHECKPOINTS_DIR, Checkpoint};
use crate::samples::SAMPLES_FILE;
use crate::shards::{self, Split};

pub use crate::metrics::pieces::{CONTINUATION_TASK, REAL_SAMPLER, REFERENCE_TASK};

/// A piece's scores from metrics/pieces, in the scope it is shown in (a continuation's
/// generated bars, the first W bars of everything else).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub h1: Option<f64>,
    pub h4: Option<f64>,
    pub gs: Option<f64>,
    pub n_notes: Option<f64>,
    /// Why evaluate could not score it.
    pub error: Option<String>,
}

/// One card: a generated piece or a reference song.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub task: String,
    pub sampler: String,
    /// File stem for generated pieces (`000`), song id for reference songs.
    pub id: String,
    /// The MIDI file on disk.
    pub midi: PathBuf,
    /// The audio file (FLAC or WAV) beside it, when one exists.
    pub wav: Option<PathBuf>,
    pub scores: Option<Scores>,
    /// Bar where generated music starts after the prompt (continuation).
    pub start_bar: Option<u32>,
    pub seconds: Option<f64>,
    pub seed: Option<String>,
    pub prompt_source: Option<String>,
    pub n_bars: Option<u32>,
}

/// The train stage's manifest, as far as it exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainInfo {
    /// `counts` of the manifest, flattened to text, in key order.
    pub counts: Vec<(String, String)>,
    pub wall_seconds: Option<f64>,
    /// The newest completed checkpoint's name under train/checkpoints/.
    pub checkpoint: Option<String>,
    /// That checkpoint's model_config.json, flattened: the shape actually trained.
    pub model: Option<Vec<(String, String)>>,
    pub demo_data: bool,
}

/// Everything the page needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    pub run_name: String,
    /// The split the run is judged on (its reference songs and prompts).
    pub split: Split,
    pub train: Option<TrainInfo>,
    /// The model section of the config, flattened (shown when no checkpoint says more).
    pub model: Vec<(String, String)>,
    pub summary: Vec<SummaryRow>,
    /// Every scored row of metrics/pieces (for the distribution plots).
    pub scored: Vec<ScoredPiece>,
    pub pieces: Vec<Piece>,
    /// The first songs of the split (at most the requested number), with their raw files.
    pub reference: Vec<Piece>,
    pub reference_total: usize,
    /// Problems worth telling the reader (missing tables, unreadable files).
    pub notes: Vec<String>,
}

/// The train stage's finished run, from its manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainRun {
    /// The manifest's counts (steps, losses, ...).
    pub counts: serde_json::Value,
    pub wall_seconds: f64,
    pub demo_data: bool,
}

/// Where a run's outputs are, and what the page needs from its config.
pub struct Sources<'a> {
    pub run_name: &'a str,
    pub split: Split,
    pub train_dir: &'a Path,
    pub generated_dir: &'a Path,
    pub metrics_dir: &'a Path,
    pub tokens_dir: &'a Path,
    /// The raw corpus (the reference songs' MIDI files).
    pub raw_dir: &'a Path,
    /// The shape the config asks for (preset plus overrides), shown when no checkpoint says more.
    pub model: &'a TransformerXlConfig,
    pub audio: &'a crate::audio::AudioConfig,
    /// The train stage's run: none when it has not finished, or why its manifest is unreadable.
    pub train: std::result::Result<Option<TrainRun>, String>,
}

/// Reads a run's outputs; what is missing becomes a note on the page, not an error.
pub fn collect(src: &Sources, max_reference: usize) -> Result<RunData> {
    let mut notes = Vec::new();
    let train = match &src.train {
        Ok(Some(run)) => Some(train_info(run, src.train_dir, &mut notes)),
        Ok(None) => {
            notes.push("no finished train output (train/manifest.json)".to_string());
            None
        }
        Err(e) => {
            notes.push(e.clone());
            None
        }
    };
    let summary = read_summary(src.metrics_dir).unwrap_or_else(|e| {
        notes.push(format!("no summary table: {e:#}"));
        Vec::new()
    });
    let scored = read_pieces(src.metrics_dir).unwrap_or_else(|e| {
        notes.push(format!("no per-piece metrics: {e:#}"));
        Vec::new()
    });
    let scores = scores_by_piece(&scored);
    let pieces = generated_pieces(src.generated_dir, &scores)?;
    let (reference, reference_total) = match shards::read_shards(src.tokens_dir) {
        Ok(songs) => reference_pieces(songs, src.split, src.raw_dir, &scores, max_reference),
        Err(e) => {
            notes.push(format!("no reference songs: {e:#}"));
            (Vec::new(), 0)
        }
    };
    Ok(RunData {
        run_name: src.run_name.to_string(),
        split: src.split,
        train,
        model: flatten(&serde_json::to_value(src.model).unwrap_or_default()),
        summary,
        scored,
        pieces,
        reference,
        reference_total,
        notes,
    })
}

/// The first `max` songs of `split` by id, with their scores, and how many there are.
fn reference_pieces(
    songs: Vec<shards::SongRecord>,
    split: Split,
    raw_dir: &Path,
    scores: &BTreeMap<ScoreKey, Scores>,
    max: usize,
) -> (Vec<Piece>, usize) {
    let mut real: Vec<_> = songs.into_iter().filter(|s| s.split == split).collect();
    real.sort_by(|a, b| a.song_id.cmp(&b.song_id));
    let total = real.len();
    let refs = real
        .into_iter()
        .take(max)
        .map(|s| Piece {
            task: REFERENCE_TASK.into(),
            sampler: REAL_SAMPLER.into(),
            scores: scores
                .get(&(
                    REFERENCE_TASK.to_string(),
                    REAL_SAMPLER.to_string(),
                    piece_key(&s.song_id),
                ))
                .cloned(),
            midi: raw_dir.join(&s.source),
            id: s.song_id,
            wav: None,
            start_bar: None,
            seconds: None,
            seed: None,
            prompt_source: None,
            n_bars: Some(s.n_bars),
        })
        .collect();
    (refs, total)
}

/// The train stage's facts; a damaged newest checkpoint becomes a note naming the file.
fn train_info(run: &TrainRun, dir: &Path, notes: &mut Vec<String>) -> TrainInfo {
    let counts = flatten(&run.counts);
    // The newest completed checkpoint (an unreadable folder just shows none).
    let newest = Checkpoint::list(&dir.join(CHECKPOINTS_DIR))
        .ok()
        .and_then(|mut v| v.pop());
    if let Some(Err(e)) = newest.as_ref().map(Checkpoint::verify) {
        notes.push(format!("{e:#}"));
    }
    let model = newest
        .as_ref()
        .and_then(|c| c.model_config().ok())
        .map(|m| flatten(&serde_json::to_value(m).unwrap_or_default()));
    TrainInfo {
        counts,
        wall_seconds: Some(run.wall_seconds),
        checkpoint: newest.map(|c| c.name()),
        model,
        demo_data: run.demo_data,
    }
}

/// A JSON object as `a.b = value` lines, in key order; scalars print bare.
pub fn flatten(v: &serde_json::Value) -> Vec<(String, String)> {
    fn go(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    go(&key, v, out);
                }
            }
            serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            serde_json::Value::Null => out.push((prefix.to_string(), "–".to_string())),
            // Losses and rates to 4 decimals; integers as they are.
            serde_json::Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                let text = if x.fract() == 0.0 {
                    format!("{x:.1}")
                } else {
                    format!("{x:.4}").trim_end_matches('0').to_string()
                };
                out.push((prefix.to_string(), text))
            }
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    go("", v, &mut out);
    out
}

type ScoreKey = (String, String, String);

/// Each piece's scores in the scope it is shown in, keyed by (task, sampler, piece key).
pub fn scores_by_piece(rows: &[ScoredPiece]) -> BTreeMap<ScoreKey, Scores> {
    rows.iter()
        .filter(|r| r.is_shown())
        .map(|r| {
            let value = |f: Feature| {
                r.metrics
                    .as_ref()
                    .ok()
                    .map(|m| m[f])
                    .filter(|x| !x.is_nan())
            };
            let key = (
                r.group.task.clone(),
                r.group.sampler.clone(),
                piece_key(&r.piece),
            );
            let scores = Scores {
                h1: value(Feature::H1),
                h4: value(Feature::H4),
                gs: value(Feature::Gs),
                n_notes: value(Feature::NNotes),
                error: r.metrics.as_ref().err().cloned(),
            };
            (key, scores)
        })
        .collect()
}

/// Facts from a partition's samples.parquet, keyed by piece key.
#[derive(Debug, Clone, Default)]
struct GenRow {
    start_bar: Option<u32>,
    seconds: Option<f64>,
    seed: Option<String>,
    prompt_source: Option<String>,
    n_bars: Option<u32>,
}

fn read_gen_rows(path: &Path) -> Result<BTreeMap<String, GenRow>> {
    if !path.is_file() {
        return Ok(BTreeMap::new());
    }
    let df = read_frame(path)?;
    let piece = strs(&df, "piece");
    let (start_bar, seconds, n_bars) = (
        f64s(&df, "start_bar"),
        f64s(&df, "seconds"),
        f64s(&df, "n_bars"),
    );
    let (seed, prompt) = (strs(&df, "seed"), strs(&df, "prompt_source"));
    let mut out = BTreeMap::new();
    for i in 0..df.height() {
        let Some(p) = &piece[i] else { continue };
        out.insert(
            piece_key(p),
            GenRow {
                start_bar: start_bar[i].map(|v| v as u32),
                seconds: seconds[i],
                seed: seed[i].clone(),
                prompt_source: prompt[i].clone(),
                n_bars: n_bars[i].map(|v| v as u32),
            },
        );
    }
    Ok(out)
}

/// Every generated MIDI file, by task, sampler and file name. An audio file counts when it is
/// there (samples.parquet's `has_audio` could be stale after files are copied around).
pub fn generated_pieces(
    generated: &Path,
    scores: &BTreeMap<ScoreKey, Scores>,
) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    for (task, tdir) in hive_children(generated, "task")? {
        for (sampler, sdir) in hive_children(&tdir, "sampler")? {
            let rows = read_gen_rows(&sdir.join(SAMPLES_FILE))
                .with_context(|| format!("bad pieces table in {}", sdir.display()))?;
            for midi in files_with_ext(&sdir, "mid")? {
                let id = midi
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let key = piece_key(&id);
                let row = rows.get(&key).cloned().unwrap_or_default();
                let wav = crate::audio::AudioFormat::ALL
                    .iter()
                    .map(|f| midi.with_extension(f.ext()))
                    .find(|w| w.is_file());
                // Without samples.parquet the prompt is unknown: nothing shaded, as evaluate
                // scores such a continuation whole.
                let start_bar = row.start_bar;
                out.push(Piece {
                    scores: scores.get(&(task.clone(), sampler.clone(), key)).cloned(),
                    task: task.clone(),
                    sampler: sampler.clone(),
                    id,
                    midi,
                    wav,
                    start_bar: start_bar.filter(|b| *b > 0),
                    seconds: row.seconds,
                    seed: row.seed,
                    prompt_source: row.prompt_source,
                    n_bars: row.n_bars,
                });
            }
        }
    }
    Ok(out)
}
