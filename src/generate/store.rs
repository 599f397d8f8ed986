//! The artifact store: `<root>/task=<task>/sampler=<name>/{NNN.mid, NNN.flac (or .wav),
//! samples.parquet, fingerprint.txt}`. Each partition is built in a temporary folder beside it and renamed into
//! place, so an interrupted run leaves the previous partition intact; a partition whose
//! fingerprint is unchanged is skipped, one whose audio alone changed (a SoundFont installed
//! later, other audio settings) is rendered again from its stored pieces without sampling, and
//! partitions no longer configured are removed.

use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;

use super::partition::{
    GeneratedPiece, PartitionPlan, audio_fingerprint, generate_pieces, partition_fingerprint,
    real_fingerprint, real_pieces,
};
use super::prompts::Prompt;
use super::{GenerateConfig, SamplerConfig, Task};
use crate::audio::{AudioConfig, Renderer};
use crate::fsio::{AtomicDir, fault};
use crate::model::NextToken;
use crate::samples::{
    FINGERPRINT_FILE, REAL_SAMPLER, SAMPLES_FILE, SampleRow, partition_dir, piece_stem,
    read_samples, write_samples,
};

/// What a partition's files depend on: its pieces (tokens, MIDI) and their audio. Written to
/// fingerprint.txt as two lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub pieces: String,
    pub audio: String,
}

impl Fingerprint {
    fn text(&self) -> String {
        format!("{}\n{}\n", self.pieces, self.audio)
    }
}

/// How a partition on disk stands against the fingerprint it should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionState {
    Fresh,
    /// The pieces are as they should be, their audio is not.
    AudioStale,
    Stale,
}

/// Whether the partition exists, is complete, has every file as it was written, and was made
/// with this fingerprint (or these pieces, with other audio).
pub fn partition_state(root: &Path, task: &str, sampler: &str, fp: &Fingerprint) -> PartitionState {
    let dir = partition_dir(root, task, sampler);
    let written = std::fs::read_to_string(dir.join(FINGERPRINT_FILE)).unwrap_or_default();
    let mut lines = written.lines();
    let (pieces, audio) = (lines.next(), lines.next());
    let intact =
        dir.join(SAMPLES_FILE).is_file() && matches!(crate::hash::damaged_file(&dir), Ok(None));
    if !intact || pieces != Some(fp.pieces.as_str()) {
        PartitionState::Stale
    } else if audio != Some(fp.audio.as_str()) {
        PartitionState::AudioStale
    } else {
        PartitionState::Fresh
    }
}

/// The pieces of a written partition, from its samples.parquet (tokens decoded again).
pub fn stored_pieces(root: &Path, task: &str, sampler: &str) -> Result<Vec<GeneratedPiece>> {
    let path = partition_dir(root, task, sampler).join(SAMPLES_FILE);
    read_samples(&path)?
        .into_iter()
        .map(|row| {
            let song = crate::remi::decode(&row.tokens).map_err(|e| {
                anyhow::anyhow!(
                    "{}: piece {} does not decode: {e}",
                    path.display(),
                    row.piece
                )
            })?;
            Ok(GeneratedPiece { row, song })
        })
        .collect()
}

/// Write one partition atomically; renders the audio in parallel when a renderer is given.
/// Returns the rows as written (with `has_audio`).
pub fn write_partition(
    root: &Path,
    task: &str,
    sampler: &str,
    fingerprint: &Fingerprint,
    pieces: &[GeneratedPiece],
    renderer: Option<&Renderer>,
) -> Result<Vec<SampleRow>> {
    let dir = AtomicDir::new(&partition_dir(root, task, sampler))?;
    let tmp = dir.path();

    let rows: Vec<SampleRow> = pieces
        .par_iter()
        .map(|p| -> Result<SampleRow> {
            let stem = piece_stem(p.row.piece);
            let mid = tmp.join(format!("{stem}.mid"));
            std::fs::write(&mid, crate::midi::write_bytes(&p.song))
                .with_context(|| format!("cannot write {}", mid.display()))?;
            let mut row = p.row.clone();
            row.has_audio = false;
            if let Some(r) = renderer {
                let audio = r
                    .render(&p.song)
                    .with_context(|| format!("rendering {task}/{sampler}/{stem}"))?;
                r.write(&tmp.join(&stem), &audio)?;
                row.has_audio = true;
            }
            Ok(row)
        })
        .collect::<Result<_>>()?;
    write_samples(&tmp.join(SAMPLES_FILE), &rows)?;
    crate::hash::write_checksums(tmp, &[FINGERPRINT_FILE])?;
    // The fingerprint last: a partition without it is never taken as fresh.
    std::fs::write(tmp.join(FINGERPRINT_FILE), fingerprint.text())?;
    dir.commit()?;
    fault::point("generate:after-partition")?;
    Ok(rows)
}

/// What downstream stages see of a store: the fingerprints of the configured partitions (the
/// baseline's aside), in order.
pub fn store_fingerprint(root: &Path, g: &GenerateConfig) -> String {
    let mut fps = String::new();
    let mut read = |task: Task, sampler: &str| {
        let p = partition_dir(root, task.as_str(), sampler).join(FINGERPRINT_FILE);
        fps.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
    };
    for (task, sampler) in g.partitions() {
        read(task, &sampler.name);
    }
    if g.tasks.contains(&Task::Continuation) {
        read(Task::Continuation, REAL_SAMPLER);
    }
    crate::hash::sha256_hex(fps.as_bytes())
}

/// Remove partitions (and leftover temporary folders) not in `keep` = {(task, sampler)};
/// returns the removed partitions as `task/sampler`.
pub fn remove_stale_partitions(
    root: &Path,
    keep: &BTreeSet<(String, String)>,
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let Ok(tasks) = std::fs::read_dir(root) else {
        return Ok(removed);
    };
    for t in tasks.flatten() {
        let tname = t.file_name().to_string_lossy().into_owned();
        let Some(task) = tname.strip_prefix("task=") else {
            continue;
        };
        if !t.path().is_dir() {
            continue;
        }
        for s in std::fs::read_dir(t.path())?.flatten() {
            let sname = s.file_name().to_string_lossy().into_owned();
            let stale = match sname.strip_prefix("sampler=") {
                Some(sampler) => !keep.contains(&(task.to_string(), sampler.to_string())),
                // Leftovers of a killed run and the commits' lock files (see fsio::atomic),
                // made anew by the next commit.
                None => sname.starts_with(".sampler="),
            };
            if stale {
                crate::fsio::atomic::remove_entry(&s.path())
                    .with_context(|| format!("cannot remove {}", s.path().display()))?;
                if !sname.starts_with('.') {
                    removed.push(format!("{task}/{sname}"));
                }
            }
        }
        if std::fs::read_dir(t.path())?.next().is_none() {
            std::fs::remove_dir(t.path())?;
        }
    }
    removed.sort();
    Ok(removed)
}

/// What a generate run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerateSummary {
    pub partitions_written: usize,
    /// Partitions whose audio alone was rendered again.
    pub partitions_rerendered: usize,
    pub partitions_skipped: usize,
    pub partitions_removed: Vec<String>,
    pub pieces: usize,
    pub tokens: usize,
    pub audio_files: usize,
}

impl GenerateSummary {
    /// The one-line summary of a run that took `secs`.
    pub fn line(&self, secs: f64) -> String {
        format!(
            "{} partitions written ({} pieces, {} tokens, {} audio files, {:.0} tokens/s), {} with audio rendered again, {} fresh, {} removed",
            self.partitions_written,
            self.pieces,
            self.tokens,
            self.audio_files,
            self.tokens as f64 / secs.max(1e-9),
            self.partitions_rerendered,
            self.partitions_skipped,
            self.partitions_removed.len()
        )
    }
}

/// What a store is made of and where it goes.
pub struct StoreSpec<'a> {
    pub generate: &'a GenerateConfig,
    pub audio: &'a AudioConfig,
    pub run_seed: u64,
    /// Continuation prompts (needed only when the tasks include continuation).
    pub prompts: &'a [Prompt],
    pub root: &'a Path,
    /// Rewrite fresh partitions too.
    pub force: bool,
}

/// A model that fills partitions, and the fingerprint of what its pieces depend on.
pub struct Fingerprinted<'a, M> {
    pub model: &'a M,
    pub fingerprint: &'a str,
}

/// The baseline partition's sampler: plain sampling from the baseline's distribution.
pub fn baseline_sampler() -> SamplerConfig {
    SamplerConfig::new("unigram", 1.0, 0, 1.0)
}

/// Generate every task × sampler partition of the spec with `model`, with `baseline` the
/// partition task=baseline/sampler=unigram, and with the continuation task the real
/// continuations (task=continuation/sampler=real); skip fresh partitions and remove those no
/// longer configured.
pub fn write_store<M: NextToken, U: NextToken>(
    spec: &StoreSpec,
    model: Fingerprinted<M>,
    baseline: Option<Fingerprinted<U>>,
) -> Result<GenerateSummary> {
    let g = spec.generate;
    let real = g.tasks.contains(&Task::Continuation);
    let n_parts = g.partitions().len() + baseline.is_some() as usize + real as usize;
    let mut w = Writer {
        spec,
        renderer: spec.audio.renderer()?,
        bar: crate::progress::Bar::new(
            n_parts as u64,
            "generate {bar:30} {pos}/{len} partitions {msg}",
            "generate",
            "partitions",
        ),
        keep: BTreeSet::new(),
        summary: GenerateSummary::default(),
    };
    for (task, sampler) in g.partitions() {
        w.partition(&model, task, sampler)?;
    }
    if let Some(b) = &baseline {
        w.partition(b, Task::Baseline, &baseline_sampler())?;
    }
    if real {
        let fp = w.fingerprint(real_fingerprint(spec.prompts));
        w.write(Task::Continuation, REAL_SAMPLER, &fp, false, || {
            real_pieces(spec.prompts)
        })?;
    }
    w.bar.finish_and_clear();
    w.summary.partitions_removed = remove_stale_partitions(spec.root, &w.keep)?;
    Ok(w.summary)
}

/// The state of one [`write_store`] call.
struct Writer<'a> {
    spec: &'a StoreSpec<'a>,
    renderer: Option<Renderer>,
    bar: crate::progress::Bar,
    /// The partitions configured now, as (task, sampler).
    keep: BTreeSet<(String, String)>,
    summary: GenerateSummary,
}

impl Writer<'_> {
    /// Writes one model partition unless it is fresh.
    fn partition<M: NextToken>(
        &mut self,
        model: &Fingerprinted<M>,
        task: Task,
        sampler: &SamplerConfig,
    ) -> Result<()> {
        let spec = self.spec;
        let plan = PartitionPlan {
            task,
            sampler,
            n: spec.generate.pieces_per_sampler,
            prompts: spec.prompts,
            run_seed: spec.run_seed,
        };
        let fp = self.fingerprint(partition_fingerprint(
            model.fingerprint,
            spec.generate,
            &plan,
        ));
        self.write(task, &sampler.name, &fp, true, || {
            generate_pieces(model.model, spec.generate, &plan)
        })
    }

    /// These pieces with this run's audio.
    fn fingerprint(&self, pieces: String) -> Fingerprint {
        Fingerprint {
            pieces,
            audio: audio_fingerprint(self.spec.audio, self.renderer.is_some()),
        }
    }

    /// Writes the partition `task`/`name` from `pieces()` unless one with fingerprint `fp` is
    /// there, or renders its stored pieces again when only the audio differs; adds what it did
    /// to the summary (its tokens only when they were `decoded`).
    fn write(
        &mut self,
        task: Task,
        name: &str,
        fp: &Fingerprint,
        decoded: bool,
        pieces: impl FnOnce() -> Result<Vec<GeneratedPiece>>,
    ) -> Result<()> {
        let spec = self.spec;
        self.keep
            .insert((task.as_str().to_string(), name.to_string()));
        self.bar.set_message(format!("{task}/{name}"));
        let state = match spec.force {
            true => PartitionState::Stale,
            false => partition_state(spec.root, task.as_str(), name, fp),
        };
        let pieces = match state {
            PartitionState::Fresh => {
                self.summary.partitions_skipped += 1;
                self.bar.inc(1);
                return Ok(());
            }
            PartitionState::AudioStale => stored_pieces(spec.root, task.as_str(), name)?,
            PartitionState::Stale => pieces()?,
        };
        let rows = write_partition(
            spec.root,
            task.as_str(),
            name,
            fp,
            &pieces,
            self.renderer.as_ref(),
        )
        .with_context(|| format!("writing partition {task}/{name}"))?;
        let s = &mut self.summary;
        if state == PartitionState::AudioStale {
            s.partitions_rerendered += 1;
        } else {
            s.partitions_written += 1;
            s.pieces += rows.len();
            if decoded {
                s.tokens += rows.iter().map(|r| r.n_tokens as usize).sum::<usize>();
            }
        }
        s.audio_files += rows.iter().filter(|r| r.has_audio).count();
        self.bar.inc(1);
        Ok(())
    }
}
