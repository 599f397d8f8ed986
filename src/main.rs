//! `pipeline`: the command-line front of cadenza. Parses arguments and calls the library.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use cadenza::config::Config;
use cadenza::pipeline::graph::{self, Graph};
use cadenza::pipeline::runner;
use cadenza::pipeline::stage::ShardSpec;
use cadenza::stages;

/// Pop1K7 MIDI -> REMI token shards -> Transformer-XL -> generated MIDI/WAV -> H1/H4/GS tables.
///
/// Stages (pipelines/pop1k7.toml): tokenize -> train -> generate -> evaluate. Each writes a
/// manifest.json; a stage whose config section and inputs are unchanged is fresh and skipped.
#[derive(Parser)]
#[command(name = "pipeline", version, about, long_about)]
struct Cli {
    /// Run configuration (one section per stage).
    #[arg(long, global = true, default_value = "configs/default.toml")]
    config: PathBuf,
    /// The stage graph.
    #[arg(long, global = true, default_value = graph::DEFAULT_PATH)]
    pipeline: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one stage, or `all` in graph order; fresh stages are skipped.
    Run {
        /// tokenize | train | generate | evaluate | all
        stage: String,
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
        #[arg(long)]
        midi_dir: PathBuf,
        #[arg(long)]
        label: String,
    },
    /// Polars SQL over the tables `pieces` (hive-partitioned by task and sampler), `summary` and
    /// `songs` (the token shards without tokens). Exit status 2 on bad SQL.
    Query {
        sql: String,
        /// table | csv | json
        #[arg(long, default_value = "table")]
        format: cadenza::metrics::OutputFormat,
        /// Also write the result to this Parquet file.
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
        /// unconditional | continuation
        #[arg(long, default_value = "unconditional", value_parser = parse_task)]
        task: cadenza::generate::Task,
        /// A sampler name from the config's [[generate.sampler]] entries.
        #[arg(long, default_value = "t1.0_k40")]
        sampler: String,
        #[arg(long, default_value_t = 4)]
        n: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure each stage's speed beside a peer baseline, in one run (tokenize | evaluate | train | generate | all).
    Bench {
        #[arg(default_value = "all")]
        which: String,
        /// Timed steps of the training benchmark (after --warmup untimed ones); fewer than about
        /// 30 give run-to-run noise of several percent on a shared machine.
        #[arg(long, default_value_t = 30)]
        steps: usize,
        #[arg(long, default_value_t = 3)]
        warmup: usize,
    },
    /// Write the small built-in synthetic corpus (used when Pop1K7 cannot be had).
    DemoData {
        /// Where to write it.
        #[arg(long, default_value = "data/raw/pop1k7")]
        out: PathBuf,
        #[arg(long, default_value_t = 60)]
        songs: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

fn parse_task(s: &str) -> Result<cadenza::generate::Task, String> {
    cadenza::generate::Task::parse(s)
        .ok_or_else(|| format!("unknown task `{s}`: unconditional or continuation"))
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

fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            stage,
            force,
            shard,
        } => {
            let cfg = Config::load(&cli.config)?;
            let graph = Graph::load(&cli.pipeline)?;
            let t0 = std::time::Instant::now();
            let report = runner::run(
                &cfg,
                &graph,
                &stages::by_name,
                &stage,
                force,
                shard.unwrap_or(ShardSpec::ALL),
            )?;
            if report.iter().all(|(_, _, ran)| !ran) {
                println!(
                    "nothing to do: everything is fresh ({:.1} s)",
                    t0.elapsed().as_secs_f64()
                );
            } else if report.len() > 1 {
                let times: Vec<String> = report
                    .iter()
                    .map(|(s, t, ran)| {
                        if *ran {
                            format!("{s} {t:.1} s")
                        } else {
                            format!("{s} fresh")
                        }
                    })
                    .collect();
                println!(
                    "stage times: {} (total {:.1} s)",
                    times.join(", "),
                    t0.elapsed().as_secs_f64()
                );
            }
            if runner::is_demo_corpus(&cfg) {
                runner::demo_banner();
            }
            // The last line of `make pipeline`: where to listen.
            let page = cadenza::report::index_path(&cfg);
            if report.iter().any(|(s, _, _)| s == "report") && page.is_file() {
                println!("listening report: {}", page.display());
            }
            Ok(())
        }
        Command::Status => {
            let cfg = Config::load(&cli.config)?;
            let graph = Graph::load(&cli.pipeline)?;
            for (name, state) in runner::status(&cfg, &graph, &stages::by_name)? {
                println!("{name:<9} {state}");
            }
            if runner::is_demo_corpus(&cfg) {
                runner::demo_banner();
            }
            Ok(())
        }
        Command::Evaluate { midi_dir, label } => {
            let cfg = Config::load(&cli.config)?;
            let outcome = cadenza::metrics::evaluate_dir(&cfg, &midi_dir, &label)?;
            println!("evaluate  {}", outcome.line());
            Ok(())
        }
        Command::Query { sql, format, out } => {
            let cfg = Config::load(&cli.config)?;
            let mut df = match cadenza::metrics::query(&cfg, &sql) {
                Ok(df) => df,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::exit(2);
                }
            };
            let text = cadenza::metrics::format_frame(&mut df, format)?;
            println!("{}", text.trim_end());
            if let Some(path) = out {
                cadenza::metrics::write_result(&mut df, &path)?;
            }
            Ok(())
        }
        Command::Report => {
            let cfg = Config::load(&cli.config)?;
            cadenza::metrics::report(&cfg)?;
            // The listening page, through the runner so its freshness and manifest stay right;
            // without a finished train/generate it cannot be made, which is not an error here.
            let graph = Graph::load(&cli.pipeline)?;
            match runner::run(
                &cfg,
                &graph,
                &stages::by_name,
                "report",
                false,
                ShardSpec::ALL,
            ) {
                Ok(_) => println!(
                    "listening report: {}",
                    cadenza::report::index_path(&cfg).display()
                ),
                Err(e) => eprintln!("note: no listening page: {e:#}"),
            }
            Ok(())
        }
        Command::Generate {
            checkpoint,
            task,
            sampler,
            n,
            out,
        } => {
            let cfg = Config::load(&cli.config)?;
            let s = cadenza::generate::generate_adhoc(&cfg, &checkpoint, task, &sampler, n, &out)?;
            println!(
                "generate  {} pieces, {} tokens, {} WAVs -> {}",
                s.pieces,
                s.tokens,
                s.wavs,
                out.display()
            );
            Ok(())
        }
        Command::Bench {
            which,
            steps,
            warmup,
        } => {
            let cfg = Config::load(&cli.config)?;
            cadenza::bench::run(&cfg, &which, cadenza::bench::TrainSteps { warmup, steps })
        }
        Command::DemoData { out, songs, seed } => {
            if out.exists()
                && std::fs::read_dir(&out)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(false)
                && !out.join(runner::DEMO_MARKER).exists()
            {
                bail!(
                    "{} is not empty and is not a demo corpus; refusing to write into it",
                    out.display()
                );
            }
            let n = cadenza::demo::write_demo_corpus(&out, songs, seed)
                .with_context(|| format!("cannot write the demo corpus into {}", out.display()))?;
            std::fs::write(
                out.join(runner::DEMO_MARKER),
                "This folder holds cadenza's synthetic demo corpus, not Pop1K7.\n",
            )?;
            println!(
                "wrote {n} synthetic songs into {} (DEMO DATA, not Pop1K7)",
                out.display()
            );
            Ok(())
        }
    }
}
