//! Helpers shared by the test folders: the CLI, notes, float comparison.

use std::path::Path;
use std::process::{Command, Output};

use cadenza::midi::Note;

/// Runs the `pipeline` binary with `args`, the config file and extra environment variables.
pub fn cli(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(args)
        .arg("--config")
        .arg(config)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Everything a command printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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
