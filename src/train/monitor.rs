//! Musical metrics during training: at every validation, a few short unconditional pieces
//! decoded with the cached decoder (the same seeds every time, so the curves show the model
//! changing, not the dice), scored with H1, H4, GS and the drift metrics, and compared with the
//! validation songs' first bars. Only the evaluation-mode copy of the model is read: training
//! is unchanged.

use anyhow::{Context, Result, anyhow};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::check::check;
use crate::features::{Feature, features};
use crate::midi::Note;
use crate::model::{KvDecoder, TransformerXl, TransformerXlConfig, Window};
use crate::remi::{Grammar, STEPS_PER_BAR, Vocab, onset_step};
use crate::rng::Rng;
use crate::sampling::{DecodeOptions, Request, SamplerConfig, decode_batch, remi_specials};

/// The metrics logged as `samples/<name>` and `samples/<name>_delta`: the summary's distance
/// metrics, and those that show a model drifting out of key, range, density or repetition.
pub const MONITORED: [Feature; 8] = [
    Feature::H1,
    Feature::H4,
    Feature::Gs,
    Feature::NotesPerBar,
    Feature::PitchRange,
    Feature::NPitchClasses,
    Feature::RepeatedBarShare,
    Feature::DensityDrift,
];

/// `[train.monitor]`: what is decoded at every validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// Unconditional pieces per validation; 0 = off.
    pub pieces: usize,
    /// Bars of each piece (the validation songs are cut to as many); density_drift needs 16.
    pub bars: u32,
    pub temperature: f64,
    /// 0 = off.
    pub top_k: usize,
    /// 1.0 = off.
    pub top_p: f64,
    /// Token budget per piece; past it the sampler may only close bars.
    pub max_tokens: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            pieces: 8,
            bars: 16,
            temperature: 1.0,
            top_k: 40,
            top_p: 1.0,
            max_tokens: 1024,
        }
    }
}

impl MonitorConfig {
    /// The monitor's sampler.
    fn sampler(&self) -> SamplerConfig {
        SamplerConfig::new("monitor", self.temperature, self.top_k, self.top_p)
    }

    pub fn validate(&self) -> Result<()> {
        check(
            self.pieces <= 256,
            "train.monitor.pieces",
            "must be <= 256 (0 = off)",
        )?;
        check(
            (1..=64).contains(&self.bars),
            "train.monitor.bars",
            "must be in 1..=64",
        )?;
        self.sampler()
            .validate_settings(&|k| format!("train.monitor.{k}"))?;
        check(
            self.max_tokens > 0,
            "train.monitor.max_tokens",
            "must be > 0",
        )
    }
}

/// One evaluation's values: per monitored metric, the samples' mean and |mean − validation
/// mean| (None when no piece defines it).
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorScores {
    pub means: [Option<f64>; MONITORED.len()],
    pub deltas: [Option<f64>; MONITORED.len()],
}

/// The sampler, the piece seeds and the validation means, fixed for the whole run.
pub struct Monitor {
    cfg: MonitorConfig,
    seeds: Vec<u64>,
    reference: [Option<f64>; MONITORED.len()],
    /// The model's training segment length (the decoder's prompts go in such segments).
    tgt_len: usize,
}

impl Monitor {
    /// None when the monitor is off, or when the model is not over REMI tokens (tests that
    /// train on made-up vocabularies).
    pub fn new(
        cfg: &MonitorConfig,
        seed: u64,
        model: &TransformerXlConfig,
        valid_songs: &[Vec<u16>],
    ) -> Option<Monitor> {
        if cfg.pieces == 0 || model.vocab_size != Vocab::SIZE {
            return None;
        }
        let seeds = (0..cfg.pieces)
            .map(|i| Rng::derive(seed, &["train", "monitor", &i.to_string()]))
            .collect();
        let valid: Vec<Vec<Note>> = valid_songs
            .iter()
            .filter_map(|t| crate::remi::decode(t).ok())
            .map(|song| first_bars(song.notes, cfg.bars))
            .collect();
        Some(Monitor {
            cfg: cfg.clone(),
            seeds,
            reference: means(&valid),
            tgt_len: model.tgt_len,
        })
    }

    /// Decodes the pieces with `model` (an evaluation-mode copy) and scores them.
    pub fn sample<B: Backend>(&self, model: &TransformerXl<B>) -> Result<MonitorScores> {
        let c = &self.cfg;
        let sp = remi_specials();
        let opts = DecodeOptions {
            sampler: c.sampler(),
            specials: sp,
            max_tokens: c.max_tokens,
        };
        let reqs: Vec<Request> = self
            .seeds
            .iter()
            .map(|&seed| Request {
                prompt: vec![sp.bos],
                target_bars: c.bars,
                seed,
            })
            .collect();
        let decoder = KvDecoder::new(model, self.tgt_len, Window::default())?;
        let decoded = decode_batch(&decoder, Grammar::new, &reqs, &opts)
            .context("monitor: decoding the sample pieces")?;
        let pieces = decoded
            .iter()
            .map(|d| {
                crate::remi::decode(&d.tokens)
                    .map(|s| s.notes)
                    .map_err(|e| anyhow!("monitor: a sample piece does not decode: {e}"))
            })
            .collect::<Result<Vec<_>>>()?;
        let means = means(&pieces);
        let deltas = std::array::from_fn(|i| Some((means[i]? - self.reference[i]?).abs()));
        Ok(MonitorScores { means, deltas })
    }
}

/// The notes whose onset falls in the first `bars` bars.
fn first_bars(mut notes: Vec<Note>, bars: u32) -> Vec<Note> {
    notes.retain(|n| onset_step(n.start) / STEPS_PER_BAR < bars);
    notes
}

/// Per monitored metric, the mean over the pieces that define it.
fn means(pieces: &[Vec<Note>]) -> [Option<f64>; MONITORED.len()] {
    let scored: Vec<_> = pieces.iter().map(|n| features(n)).collect();
    std::array::from_fn(|i| {
        let v: Vec<f64> = scored
            .iter()
            .map(|f| f[MONITORED[i]])
            .filter(|x| !x.is_nan())
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    })
}
