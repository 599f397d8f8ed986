//! Helpers shared by the test folders: the CLI (with a timeout), what may be skipped, seeded
//! models, notes, files, MIDI built byte by byte, allocation tracking.

pub mod alloc;
pub mod smf;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use cadenza::midi::Note;
use cadenza::model::{TransformerXl, TransformerXlConfig};

/// The longest a child `pipeline` may run before the test fails (a hang must not stall CI).
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(300);

/// The `pipeline` binary with `args`, the config file and extra environment variables.
pub fn command(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipeline"));
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("CADENZA_FAULT")
        .env_remove("CADENZA_FAIL_AT")
        .envs(env.iter().copied());
    cmd
}

/// Runs the `pipeline` binary to the end (failing the test after [`CHILD_TIMEOUT`]).
pub fn cli(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    wait(spawn(command(config, args, env)), CHILD_TIMEOUT)
}

pub fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the child process")
}

/// Waits for `child` and collects its output; kills it and fails the test after `timeout`.
pub fn wait(mut child: Child, timeout: Duration) -> Output {
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                p.read_to_end(&mut buf).ok();
            }
            buf
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > timeout {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "child process still running after {timeout:?}: killed; its stderr so far:\n{}",
                String::from_utf8_lossy(&err.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Starts `cmd` and returns once a line of its stderr contains `marker` (its stderr keeps
/// draining in the background); fails the test after [`CHILD_TIMEOUT`] or when the child ends
/// first.
pub fn spawn_until(mut cmd: Command, marker: &str) -> Child {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the child process");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let marker = marker.to_string();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(&marker) {
                tx.send(Ok(())).ok();
            }
            seen.push(line);
        }
        tx.send(Err(seen.join("\n"))).ok();
    });
    match rx.recv_timeout(CHILD_TIMEOUT) {
        Ok(Ok(())) => child,
        Ok(Err(stderr)) => panic!("the child ended before reaching the marker:\n{stderr}"),
        Err(_) => {
            child.kill().ok();
            panic!("the child did not reach the marker within {CHILD_TIMEOUT:?}");
        }
    }
}

/// Everything a command printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

// ---- what may be skipped ---------------------------------------------------------------------

/// Whether the tests run under CI (`CI=true`, as `.ci/run` sets it).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A check that cannot run here. Under CI that fails the test; elsewhere it is recorded.
pub fn skip(check: &str, why: &str) {
    assert!(!under_ci(), "under CI this check must run: {check} ({why})");
    record_skip(check, why);
}

/// A check that needs an instruction set this CPU lacks (machines of one kind differ). Recorded
/// and listed like any skip, but not failed under CI, which runs on whichever machine it gets.
pub fn skip_lacking_cpu_feature(check: &str, why: &str) {
    record_skip(check, why);
}

/// Prints a skipped check and appends it to `$CADENZA_SKIP_LOG` (which `make test` lists at
/// the end, where a person sees it).
fn record_skip(check: &str, why: &str) {
    let line = format!("SKIPPED {check}: {why}");
    eprintln!("{line}");
    if let Ok(log) = std::env::var("CADENZA_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(log)
        {
            writeln!(f, "{line}").ok();
        }
    }
}

/// The General MIDI SoundFont the default config names, or a recorded skip of `check`.
pub fn soundfont(check: &str) -> Option<PathBuf> {
    let sf2 = cadenza::audio::AudioConfig::default().soundfont;
    if sf2.is_file() {
        return Some(sf2);
    }
    skip(
        check,
        &format!(
            "no SoundFont at {} (apt-get install fluid-soundfont-gm)",
            sf2.display()
        ),
    );
    None
}

/// Headless Chromium, or a recorded skip of `check`.
pub fn chromium(check: &str) -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .map(|name| PathBuf::from("/usr/bin").join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        skip(check, "no Chromium (apt-get install chromium)");
    }
    found
}

/// The real Pop1K7 corpus: `../shared` beside the checkout, or `data/raw/pop1k7` when it is not
/// the demo corpus. Under CI it is required wherever `../shared` holds it; elsewhere a missing
/// corpus is a recorded skip of `check`.
pub fn corpus(check: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/data/pop1k7/midi_analyzed");
    let linked = root.join("data/raw/pop1k7");
    if shared.is_dir() {
        return Some(shared);
    }
    if linked.is_dir() && !cadenza::demo::is_demo_corpus(&linked) {
        return Some(linked);
    }
    // Without ../shared there is no corpus to require, under CI too: the skip is listed.
    record_skip(
        check,
        "no Pop1K7 corpus (../shared/data/pop1k7/midi_analyzed or data/raw/pop1k7)",
    );
    None
}

/// `n` `.mid` files spread evenly over the sorted corpus, when it is here (else none, and the
/// skip of `check` is recorded).
pub fn corpus_files(check: &str, n: usize) -> Vec<PathBuf> {
    let Some(dir) = corpus(check) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = cadenza::hash::tree_files(&dir)
        .unwrap()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mid"))
        .collect();
    files.sort();
    let step = (files.len() / n).max(1);
    files.into_iter().step_by(step).take(n).collect()
}

// ---- seeded models ---------------------------------------------------------------------------

/// Burn's CPU backend draws from one process-wide generator: tests that seed it and draw (a
/// model's first use draws its weights) hold this, so parallel tests do not interleave draws.
pub static SEEDED: Mutex<()> = Mutex::new(());

/// Reads every parameter, so that lazy weights are drawn now.
struct Draw;

impl<B: Backend> ModuleVisitor<B> for Draw {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        param.val();
    }
}

/// A model of `cfg` with weights drawn from `seed`: the same in every run.
pub fn model<B: Backend>(cfg: &TransformerXlConfig, seed: u64) -> TransformerXl<B> {
    let _seeded = SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    let device = Default::default();
    B::seed(&device, seed);
    let model = cfg.init::<B>(&device);
    model.visit(&mut Draw);
    model
}

/// Collects every weight of a model, in module order.
struct Flatten(Vec<f32>);

impl<B: Backend> ModuleVisitor<B> for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let data = param.val().into_data().convert::<f32>();
        self.0.extend(data.to_vec::<f32>().unwrap());
    }
}

/// The largest |a_i − b_i| of two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Every weight of a model, in module order.
pub fn flatten<B: Backend>(model: &TransformerXl<B>) -> Vec<f32> {
    let mut f = Flatten(Vec::new());
    model.visit(&mut f);
    f.0
}

// ---- small builders --------------------------------------------------------------------------

pub fn note(start: u32, end: u32, pitch: u8, velocity: u8) -> Note {
    Note {
        start,
        end,
        pitch,
        velocity,
    }
}

/// Writes `bytes` to `path`, creating its folder.
pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}
