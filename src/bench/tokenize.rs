//! Tokenize benchmark: read + encode the whole raw corpus against MidiTok's REMI with symusic
//! (one process), in the same run, plus the whole tokenize stage (shards written).
//!
//! Both sides tokenize bytes already in memory, so file-system caching does not favour either.
//! Our side is timed on all rayon threads and on one thread; the peer runs on one core.

use anyhow::{Context, Result};
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

use crate::tokenize::{list_sources, tokenize_into};
use crate::{midi, remi};

/// Timed runs after one warm-up run. Wall times on a shared machine are noisy: the best run
/// says what the code can do, the median how it fared.
const RUNS: usize = 7;
const STAGE_RUNS: usize = 3;

/// Wall times of repeated runs, and the CPU time they took, in seconds.
struct Timing {
    best: f64,
    median: f64,
    /// CPU time (all threads) of all runs together / runs; None where /proc is missing.
    cpu_per_run: Option<f64>,
}

impl Timing {
    fn describe(&self) -> String {
        let cpu = self
            .cpu_per_run
            .map(|c| format!(", CPU {c:.3} s per run"))
            .unwrap_or_default();
        format!("best {:.3} s, median {:.3} s{cpu}", self.best, self.median)
    }
}

/// CPU time (user + system, all threads) of this process so far, from /proc/self/stat (Linux).
/// On a loaded machine wall times stretch but CPU time barely does, so both are reported.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux platform we run on (reading sysconf would need libc).
    Some(ticks / 100.0)
}

/// Runs `f` once to warm up, then `runs` times; returns the timing and the last result.
fn time_runs<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Timing, T)> {
    let mut last = f()?;
    let mut secs = Vec::with_capacity(runs);
    let cpu0 = process_cpu_seconds();
    for _ in 0..runs {
        let t0 = Instant::now();
        last = f()?;
        secs.push(t0.elapsed().as_secs_f64());
    }
    let cpu_per_run = cpu0
        .zip(process_cpu_seconds())
        .map(|(a, b)| (b - a) / runs as f64);
    secs.sort_by(f64::total_cmp);
    let timing = Timing {
        best: secs[0],
        median: secs[secs.len() / 2],
        cpu_per_run,
    };
    Ok((timing, last))
}

/// Reads and encodes every file on the current rayon pool; returns how many made tokens.
fn encode_all(files: &[Vec<u8>]) -> usize {
    files
        .par_iter()
        .filter(|b| {
            midi::read_bytes(b)
                .ok()
                .and_then(|s| remi::encode(&s).ok())
                .is_some()
        })
        .count()
}

/// The whole tokenize stage's work (list, read, encode, hash, write shards and rejects) into a
/// scratch folder, so the real outputs and their manifest stay untouched.
fn time_stage(root: &Path, songs_per_shard: usize) -> Result<Timing> {
    let scratch =
        std::env::temp_dir().join(format!("cadenza-bench-tokenize-{}", std::process::id()));
    let out = scratch.join("remi");
    let timing = time_runs(STAGE_RUNS, || {
        let sources = list_sources(root)?;
        tokenize_into(&out, &sources, songs_per_shard).map(|_| ())
    });
    // Clean up whatever happened; a failed run's error matters more than a cleanup error.
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(timing?.0)
}

pub fn bench(root: &Path, songs_per_shard: usize) -> Result<String> {
    let files = list_sources(root)?;
    let n = files.len() as f64;
    let bytes: Vec<Vec<u8>> = files
        .iter()
        .map(|f| {
            std::fs::read(&f.path).with_context(|| format!("cannot read {}", f.path.display()))
        })
        .collect::<Result<_>>()?;

    let threads = rayon::current_num_threads();
    let (all, ok) = time_runs(RUNS, || Ok(encode_all(&bytes)))?;
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (one, _) = one_thread.install(|| time_runs(RUNS, || Ok(encode_all(&bytes))))?;
    let stage = time_stage(root, songs_per_shard)?;

    let ours = n / all.best;
    let per_core = ours / threads as f64;
    let ours_one = n / one.best;
    let mut report = format!(
        "tokenize: {} files ({ok} tokenized), read + encode from memory, {RUNS} runs each\n  \
         {threads} threads: {} = {ours:.0} files/s = {per_core:.0} files/s per core (target < 2 s)\n  \
         1 thread:  {} = {ours_one:.0} files/s\n  \
         whole tokenize stage (list, read, encode, sha256, write shards), {threads} threads: {}",
        files.len(),
        all.describe(),
        one.describe(),
        stage.describe(),
    );
    let root_s = root.to_string_lossy();
    match super::python_peer(&["miditok", "symusic"], "miditok_remi.py", &[&root_s]) {
        Ok(v) => {
            let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
            let peer = n / secs;
            let peer_cpu = v["cpu_seconds"].as_f64();
            report += &format!(
                "\n  MidiTok REMI + symusic, 1 process, from memory, 1 run: {secs:.2} s{} ({} tokenized) = {peer:.0} files/s\n  \
                 ratios: per core {:.0}x ({threads}-thread files/s per core vs 1 process), {:.0}x (1 thread vs 1 process){}; \
                 wall {:.0}x ({threads} threads vs 1 process). Target: 30x per core",
                peer_cpu
                    .map(|c| format!(", CPU {c:.2} s"))
                    .unwrap_or_default(),
                v["ok"],
                per_core / peer,
                ours_one / peer,
                peer_cpu
                    .zip(one.cpu_per_run)
                    .map(|(p, o)| format!(", {:.0}x in CPU time (1 thread)", p / o))
                    .unwrap_or_default(),
                secs / all.best
            );
        }
        Err(e) => report += &format!("\n  MidiTok peer not measured: {e:#}"),
    }
    Ok(report)
}
