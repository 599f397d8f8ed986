//! Tokenize benchmark: read + encode the whole raw corpus (rayon, all cores) against MidiTok's
//! REMI with symusic (one process), in the same run.

use anyhow::Result;
use rayon::prelude::*;
use std::time::Instant;

use crate::config::Config;
use crate::{midi, remi};

pub fn bench(cfg: &Config) -> Result<String> {
    let root = &cfg.run.raw_dir;
    let files = crate::stages::tokenize::list_sources(root)?;
    // Read the bytes first, so the timed part is parsing + encoding, as in the peer after warm-up.
    let bytes: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(&f.path))
        .collect::<Result<_, _>>()?;
    let encode_all = || -> usize {
        bytes
            .par_iter()
            .filter(|b| {
                midi::read_bytes(b)
                    .ok()
                    .and_then(|s| remi::encode(&s).ok())
                    .is_some()
            })
            .count()
    };
    encode_all(); // warm-up
    let mut best = f64::INFINITY;
    let mut ok = 0;
    for _ in 0..5 {
        let t0 = Instant::now();
        ok = encode_all();
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let threads = rayon::current_num_threads();
    let ours = files.len() as f64 / best;
    let mut report = format!(
        "tokenize: {} files ({ok} ok) in {best:.3} s on {threads} threads = {ours:.0} files/s ({:.0} files/s per core)",
        files.len(),
        ours / threads as f64
    );
    let root_s = root.to_string_lossy();
    match super::python_peer(&["miditok", "symusic"], "miditok_remi.py", &[&root_s]) {
        Ok(v) => {
            let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
            let peer = files.len() as f64 / secs;
            report += &format!(
                "\n  MidiTok REMI + symusic: {secs:.2} s = {peer:.0} files/s (1 core); per-core ratio {:.0}x, wall ratio {:.0}x",
                ours / threads as f64 / peer,
                secs / best
            );
        }
        Err(e) => report += &format!("\n  MidiTok peer not measured: {e:#}"),
    }
    Ok(report)
}
