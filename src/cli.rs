//! The command line of `pipeline` (clap): parses arguments and calls one function per command
//! (`crate::commands`). In the library, so its tests run with the others.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use crate::commands;
use crate::pipeline::ShardSpec;

/// Pop1K7 MIDI -> REMI token shards -> Transformer-XL -> generated MIDI + audio (FLAC) -> H1/H4/GS tables.
///
/// Stages: tokenize -> train -> generate -> evaluate -> report. Each writes a manifest.json; a
/// stage whose config sections and inputs are unchanged is fresh and skipped.
/// `pipeline --version`: the version and the training backends built in (batch scripts ask
/// for a GPU when `cuda` is among them).
#[cfg(all(feature = "cuda", feature = "wgpu"))]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\nbackends: cpu cuda wgpu");
#[cfg(all(feature = "cuda", not(feature = "wgpu")))]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\nbackends: cpu cuda");
#[cfg(all(not(feature = "cuda"), feature = "wgpu"))]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\nbackends: cpu wgpu");
#[cfg(not(any(feature = "cuda", feature = "wgpu")))]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\nbackends: cpu");

#[derive(Parser)]
#[command(name = "pipeline", version, long_version = LONG_VERSION, about, long_about)]
struct Cli {
    /// Run configuration (one section per stage).
    #[arg(long, global = true, default_value = commands::DEFAULT_CONFIG)]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one stage, or `all` in graph order; fresh stages are skipped.
    Run {
        /// The stage, or all of them in graph order.
        #[arg(value_enum)]
        stage: StageArg,
        /// Run even when fresh (train starts over instead of resuming).
        #[arg(long)]
        force: bool,
        /// Do a deterministic 1/N of the work (tokenize), as `i/N` (0-based); `auto/N` takes i
        /// from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, for array jobs.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<ShardSpec>,
    },
    /// Print each stage as fresh / stale / missing / blocked, and why.
    Status,
    /// Score any folder of MIDI (another model's output, the whole corpus) into the run's metrics
    /// tables as task=external, sampler=LABEL, beside the generated pieces.
    Evaluate {
        /// The folder of .mid files to score (any depth).
        #[arg(long)]
        midi_dir: PathBuf,
        /// The rows' sampler label (letters, digits, '-', '_', '.'); a new label adds rows, the
        /// same label replaces them.
        #[arg(long)]
        label: String,
    },
    /// Polars SQL over the tables `pieces` (hive-partitioned by task and sampler), `summary` and
    /// `songs` (the token shards without tokens). Exit status 2 on bad SQL.
    Query {
        /// The SQL, e.g. "SELECT task, sampler, distance FROM summary ORDER BY distance".
        sql: String,
        /// How the result is printed.
        #[arg(long, value_enum, default_value = "table")]
        format: crate::metrics::OutputFormat,
        /// Also write the result to this file, in the format its extension names (.parquet,
        /// .csv or .json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the summary table, write the H4-vs-GS plot (metrics/h4_gs.svg) and the listening
    /// page (report/index.html).
    Report,
    /// One-off generation from any checkpoint into any folder (outside the run's store).
    Generate {
        /// A checkpoint folder (artifacts/<run>/train/checkpoints/step-N) or a train folder.
        #[arg(long)]
        checkpoint: PathBuf,
        #[command(flatten)]
        args: crate::generate::AdhocArgs,
        /// The folder the pieces go to (as task=…/sampler=…/ partitions).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure each stage's speed beside a peer baseline, in one run; `window` scores the
    /// trained model's decoder windows on the valid split.
    Bench {
        /// The benchmark.
        #[arg(value_enum, default_value = "all")]
        which: BenchArg,
        /// Timed steps of the training benchmark (after --warmup untimed ones); fewer than about
        /// 30 give run-to-run noise of several percent on a shared machine.
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// Untimed steps before the timed ones of the training benchmark (compilation, caches).
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// `window`: valid songs scored.
        #[arg(long, default_value_t = 32)]
        songs: usize,
        /// `window`: tokens per song (songs shorter are left out).
        #[arg(long, default_value_t = 2048)]
        tokens: usize,
    },
    /// A checkpoint's model as safetensors (PyTorch-style names, the model config and the
    /// tokenizer in the metadata), for use outside this program.
    Export {
        /// A checkpoint folder (artifacts/<run>/train/checkpoints/step-N) or a train folder.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The file to write, e.g. model.safetensors.
        #[arg(long)]
        out: PathBuf,
    },
    /// One MIDI file as REMI tokens (the encoder of the tokenize stage), printed or written.
    Tokenize {
        /// The MIDI file.
        file: PathBuf,
        /// How the tokens are written: names or ids (a line per bar), or JSON.
        #[arg(long, value_enum, default_value = "names")]
        format: crate::remi::TokenFormat,
        /// Write the tokens to this file instead of printing them.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// REMI tokens back into a MIDI file: names or ids (spaces, commas or newlines between
    /// them) or JSON (an array, or an object with "tokens"), as `pipeline tokenize` writes them.
    Decode {
        /// The file of tokens; `-` reads standard input.
        #[arg(default_value = "-")]
        tokens: PathBuf,
        /// The MIDI file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// The configuration as the run sees it: every key of every section, defaults filled in.
    Config {
        /// Print the resolved configuration as TOML (otherwise only check it).
        #[arg(long)]
        print: bool,
    },
    /// Write the small built-in synthetic corpus (used when Pop1K7 cannot be had).
    DemoData {
        /// Where to write it.
        #[arg(long, default_value = "data/raw/pop1k7")]
        out: PathBuf,
        /// How many songs.
        #[arg(long, default_value_t = 60)]
        songs: usize,
        /// The seed of the songs (the same seed, the same files).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// The targets of `pipeline run` (the stages of `cadenza::stages::graph`, and `all`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StageArg {
    Tokenize,
    Train,
    Generate,
    Evaluate,
    Report,
    All,
}

impl StageArg {
    fn name(self) -> &'static str {
        match self {
            StageArg::Tokenize => "tokenize",
            StageArg::Train => "train",
            StageArg::Generate => "generate",
            StageArg::Evaluate => "evaluate",
            StageArg::Report => "report",
            StageArg::All => "all",
        }
    }
}

/// The benchmarks of `pipeline bench` (`crate::bench::BENCHMARKS`, `all`, `window`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BenchArg {
    Tokenize,
    Evaluate,
    Train,
    Generate,
    All,
    Window,
}

impl BenchArg {
    fn name(self) -> &'static str {
        match self {
            BenchArg::Tokenize => "tokenize",
            BenchArg::Evaluate => "evaluate",
            BenchArg::Train => "train",
            BenchArg::Generate => "generate",
            BenchArg::All => "all",
            BenchArg::Window => "window",
        }
    }
}

fn parse_shard(s: &str) -> Result<ShardSpec, String> {
    let (i, n) = s.split_once('/').ok_or("expected i/N, e.g. 0/4")?;
    let count: usize = n.parse().map_err(|_| format!("bad shard count `{n}`"))?;
    let index: usize = if i == "auto" {
        let var = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]
            .iter()
            .find_map(|v| std::env::var(v).ok())
            .ok_or("auto/N needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX")?;
        var.parse()
            .map_err(|_| format!("bad shard index `{var}` in the environment"))?
    } else {
        i.parse().map_err(|_| format!("bad shard index `{i}`"))?
    };
    if count == 0 || index >= count {
        return Err(format!("shard index must be in 0..{count}"));
    }
    Ok(ShardSpec { index, count })
}

/// `pipeline`'s main: run the command; on an error print it and exit 1 (2 for a bad query).
pub fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli) {
        eprintln!("error: {e:#}");
        // A query Polars refused is the user's input, not a failure of the tool.
        let bad_query = e.downcast_ref::<commands::BadQuery>().is_some();
        std::process::exit(if bad_query { 2 } else { 1 });
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    let config = &cli.config;
    match cli.command {
        Command::Run {
            stage,
            force,
            shard,
        } => commands::run(config, stage.name(), force, shard.unwrap_or(ShardSpec::ALL)),
        Command::Status => commands::status(config),
        Command::Evaluate { midi_dir, label } => commands::evaluate_dir(config, &midi_dir, &label),
        Command::Query { sql, format, out } => {
            commands::query(config, &sql, format, out.as_deref())
        }
        Command::Report => commands::report(config),
        Command::Generate {
            checkpoint,
            args,
            out,
        } => commands::generate(config, &checkpoint, &args, &out),
        Command::Bench {
            which,
            steps,
            warmup,
            songs,
            tokens,
        } => commands::bench(config, which.name(), steps, warmup, [songs, tokens]),
        Command::Export { checkpoint, out } => commands::export(&checkpoint, &out),
        Command::Tokenize { file, format, out } => {
            commands::tokenize_file(&file, format, out.as_deref())
        }
        Command::Decode { tokens, out } => commands::decode(&tokens, &out),
        Command::Config { print } => commands::config(config, print),
        Command::DemoData { out, songs, seed } => commands::demo_data(&out, songs, seed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, ValueEnum};

    /// Every flag and argument of every command says what it is for.
    #[test]
    fn every_argument_has_help() {
        let cli = Cli::command();
        let mut missing = Vec::new();
        for cmd in std::iter::once(&cli).chain(cli.get_subcommands()) {
            for arg in cmd.get_arguments() {
                let builtin = ["help", "version"].contains(&arg.get_id().as_str());
                if !builtin && arg.get_help().is_none() {
                    missing.push(format!("{} {}", cmd.get_name(), arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "no help: {missing:?}");
    }

    /// The run targets are the graph's stages and `all`; the bench targets the benchmarks.
    #[test]
    fn value_enums_match_the_library() {
        for s in StageArg::value_variants() {
            assert_eq!(s.to_possible_value().unwrap().get_name(), s.name());
        }
        for b in BenchArg::value_variants() {
            assert_eq!(b.to_possible_value().unwrap().get_name(), b.name());
        }
        let stages: Vec<&str> = StageArg::value_variants()
            .iter()
            .map(|s| s.name())
            .collect();
        let mut graph: Vec<&str> = crate::stages::graph()
            .unwrap()
            .stages()
            .iter()
            .map(|s| s.name())
            .collect();
        graph.push("all");
        assert_eq!(stages, graph);
        let benches: Vec<&str> = BenchArg::value_variants()
            .iter()
            .map(|b| b.name())
            .collect();
        let mut known: Vec<&str> = crate::bench::BENCHMARKS.to_vec();
        known.extend(["all", "window"]);
        assert_eq!(benches, known);
    }
}
