//! One function per CLI command: load the config, call down, print the result. `main.rs` only
//! parses arguments.

use anyhow::{Context, Result};
use std::path::Path;

use crate::config::Config;
use crate::generate::{AdhocArgs, GenerateJob};
use crate::metrics::OutputFormat;
use crate::pipeline::{RunOptions, ShardSpec, StageRun};
use crate::stages::{self, Ctx};

/// The config a command reads when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "configs/default.toml";

fn context(config: &Path) -> Result<Ctx> {
    Ok(Ctx::new(Config::load(config)?))
}

/// `pipeline run STAGE`: one stage or `all`, skipping fresh ones; then the stage times and
/// where to listen.
pub fn run(config: &Path, stage: &str, force: bool, shard: ShardSpec) -> Result<()> {
    let ctx = context(config)?;
    // Audio that is required but cannot be had stops the run before training, not after it.
    if ["all", "generate", "report"].contains(&stage) {
        ctx.cfg.audio.check_available()?;
    }
    let graph = stages::graph()?;
    let t0 = std::time::Instant::now();
    let opts = RunOptions {
        force,
        shard,
        demo: ctx.demo(),
    };
    let runs = crate::pipeline::run(&graph, &ctx, stage, opts)?;
    if let Some(line) = times_line(&runs, t0.elapsed().as_secs_f64()) {
        println!("{line}");
    }
    if opts.demo {
        crate::demo::banner();
    }
    // The last line of `make pipeline`: where to listen.
    let page = ctx.layout.report_dir().join(crate::report::INDEX);
    if runs.iter().any(|r| r.stage == "report") && page.is_file() {
        println!("listening report: {}", page.display());
    }
    Ok(())
}

/// "nothing to do" when every stage was fresh, the time of each when several ran.
fn times_line(runs: &[StageRun], total: f64) -> Option<String> {
    if runs.iter().all(|r| !r.ran) {
        return Some(format!("nothing to do: everything is fresh ({total:.1} s)"));
    }
    if runs.len() < 2 {
        return None;
    }
    let times: Vec<String> = runs
        .iter()
        .map(|r| {
            if r.ran {
                format!("{} {:.1} s", r.stage, r.seconds)
            } else {
                format!("{} fresh", r.stage)
            }
        })
        .collect();
    Some(format!(
        "stage times: {} (total {total:.1} s)",
        times.join(", ")
    ))
}

/// `pipeline status`: each stage fresh / stale / missing / blocked, and why.
pub fn status(config: &Path) -> Result<()> {
    let ctx = context(config)?;
    for (name, state) in crate::pipeline::status(&stages::graph()?, &ctx)? {
        println!("{name:<9} {state}");
    }
    if ctx.demo() {
        crate::demo::banner();
    }
    Ok(())
}

/// `pipeline evaluate --midi-dir DIR --label NAME`, under the evaluate stage's lock.
pub fn evaluate_dir(config: &Path, midi_dir: &Path, label: &str) -> Result<()> {
    let ctx = context(config)?;
    let metrics = ctx.layout.metrics_dir();
    let _lock = crate::fsio::Lock::acquire(&metrics)?;
    let manifest = crate::pipeline::Manifest::read(&metrics)?;
    let scoring = crate::metrics::Scoring {
        bars: crate::stages::evaluate::scope_bars(&ctx.cfg),
        summary: ctx.cfg.evaluate.summary_options(ctx.cfg.run.seed),
    };
    let outcome = crate::metrics::evaluate_dir(&metrics, midi_dir, label, &scoring)?;
    // The tables changed on purpose: the evaluate stage's record of them follows.
    if let Some(m) = manifest {
        m.with_outputs_of(&metrics)?.write(&metrics)?;
    }
    println!("evaluate  {}", outcome.line());
    Ok(())
}

/// A query that Polars refused (the CLI exits with status 2 on it).
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct BadQuery(anyhow::Error);

/// `pipeline query SQL`: the result printed, and written to `out` when given.
pub fn query(config: &Path, sql: &str, format: OutputFormat, out: Option<&Path>) -> Result<()> {
    use crate::metrics::query::{QueryTables, names_runs_tables, runs_with_metrics};
    let layout = context(config)?.layout;
    let runs = if names_runs_tables(sql) {
        runs_with_metrics(layout.artifacts_dir())?
    } else {
        Vec::new()
    };
    // The tables as one commit left them: a commit under way is waited for.
    let _tables = crate::fsio::ReadGuard::new(&layout.metrics_dir())?;
    let _songs = crate::fsio::ReadGuard::new(layout.tokens_dir())?;
    let _runs = runs
        .iter()
        .filter(|(_, m)| *m != layout.metrics_dir())
        .map(|(_, m)| crate::fsio::ReadGuard::new(m))
        .collect::<Result<Vec<_>>>()?;
    let tables = QueryTables {
        metrics: &layout.metrics_dir(),
        tokens: layout.tokens_dir(),
        runs: &runs,
    };
    let mut df = crate::metrics::query(&tables, sql).map_err(BadQuery)?;
    let text = crate::metrics::format_frame(&mut df, format)?;
    println!("{}", text.trim_end());
    if let Some(path) = out {
        crate::metrics::write_result(&mut df, path)?;
    }
    Ok(())
}

/// `pipeline report`: the summary and plot, then the listening page through the runner (so its
/// freshness and manifest stay right); without finished upstream stages there is no page,
/// which is not an error here.
pub fn report(config: &Path) -> Result<()> {
    let ctx = context(config)?;
    crate::metrics::plot::print_and_plot(&ctx.layout.metrics_dir())?;
    let opts = RunOptions {
        force: false,
        shard: ShardSpec::ALL,
        demo: ctx.demo(),
    };
    match crate::pipeline::run(&stages::graph()?, &ctx, "report", opts) {
        Ok(_) => println!(
            "listening report: {}",
            ctx.layout.report_dir().join(crate::report::INDEX).display()
        ),
        Err(e) => eprintln!("note: no listening page: {e:#}"),
    }
    Ok(())
}

/// `pipeline generate`: the pieces `args` asks for (one task, one configured sampler with its
/// settings changed, the user's prompts) from any checkpoint, into `out/task=…/sampler=…/`
/// (outside the run's store).
pub fn generate(config: &Path, checkpoint: &Path, args: &AdhocArgs, out: &Path) -> Result<()> {
    // Outside the repository (no configs/default.toml, no --config) the built-in defaults
    // serve: a checkpoint alone is enough to generate.
    let ctx = if config == Path::new(DEFAULT_CONFIG) && !config.exists() {
        eprintln!("note: no {}; using the built-in defaults", config.display());
        Ctx::new(Config::builtin())
    } else {
        context(config)?
    };
    let g = ctx.cfg.generate.adhoc(args)?;
    // The same lock as any writer of `out` (its commits clear what other writers left), and
    // the token shards' read lock, as a stage that reads them holds it.
    let _writing = crate::fsio::Lock::acquire(out)?;
    let _reading = crate::fsio::Lock::shared(ctx.layout.tokens_dir())?;
    let job = GenerateJob {
        generate: &g,
        audio: &ctx.cfg.audio,
        seed: args.seed.unwrap_or(ctx.cfg.run.seed),
        split: ctx.cfg.run.split(),
        tokens_dir: ctx.layout.tokens_dir(),
        checkpoint,
    };
    let s = crate::generate::generate(&job, out, false)?;
    println!(
        "generate  {} pieces, {} tokens, {} audio files -> {}",
        s.pieces,
        s.tokens,
        s.audio_files,
        out.display()
    );
    Ok(())
}

/// `pipeline bench WHICH`: each benchmark beside its peer, on the configured corpus and model.
pub fn bench(
    config: &Path,
    which: &str,
    steps: usize,
    warmup: usize,
    window: [usize; 2],
) -> Result<()> {
    let ctx = context(config)?;
    let train_dir = ctx.layout.train_dir();
    let inputs = crate::bench::BenchInputs {
        raw_dir: ctx.layout.raw_dir(),
        songs_per_shard: ctx.cfg.tokenize.songs_per_shard,
        model: ctx.model(),
        train: &ctx.cfg.train,
        window: ctx.cfg.generate.window,
        train_steps: steps,
        warmup,
        train_dir: &train_dir,
        tokens_dir: ctx.layout.tokens_dir(),
        window_songs: window[0],
        window_tokens: window[1],
    };
    crate::bench::run(which, &inputs)
}

/// `pipeline export --checkpoint DIR --out FILE`: the model as safetensors.
pub fn export(checkpoint: &Path, out: &Path) -> Result<()> {
    let n =
        crate::model::export::export_checkpoint(checkpoint, out, &crate::remi::tokenizer_json())?;
    println!("export  {n} tensors -> {}", out.display());
    Ok(())
}

/// `pipeline tokenize FILE`: one MIDI file's tokens, printed or written to `out`.
pub fn tokenize_file(
    file: &Path,
    format: crate::remi::TokenFormat,
    out: Option<&Path>,
) -> Result<()> {
    let song =
        crate::midi::read_file(file).with_context(|| format!("cannot read {}", file.display()))?;
    let enc =
        crate::remi::encode(&song).with_context(|| format!("cannot encode {}", file.display()))?;
    let text = crate::remi::format_tokens(&enc.tokens, format);
    match out {
        Some(path) => {
            crate::fsio::write_file(path, text.as_bytes())?;
            eprintln!(
                "tokenize  {}: {} tokens, {} bars, {} notes -> {}",
                file.display(),
                enc.tokens.len(),
                enc.n_bars,
                enc.n_notes,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `pipeline decode TOKENS --out FILE.mid`: tokens (a file, or `-` for standard input) as MIDI.
pub fn decode(tokens: &Path, out: &Path) -> Result<()> {
    let text = if tokens == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(tokens)
            .with_context(|| format!("cannot read {}", tokens.display()))?
    };
    let name = tokens.display();
    let ids = crate::remi::parse_tokens(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let song = crate::remi::decode(&ids).with_context(|| format!("cannot decode {name}"))?;
    crate::fsio::write_file(out, &crate::midi::write_bytes(&song))?;
    println!(
        "decode  {} tokens, {} notes -> {}",
        ids.len(),
        song.notes.len(),
        out.display()
    );
    Ok(())
}

/// `pipeline config`: the config checked (a bad one is refused, naming the key), and with
/// `print` written out in full as TOML.
pub fn config(config: &Path, print: bool) -> Result<()> {
    let cfg = Config::load(config)?;
    if print {
        print!("{}", cfg.to_toml()?);
    } else {
        println!("{}: a valid configuration", config.display());
    }
    Ok(())
}

/// `pipeline demo-data`: the built-in synthetic corpus.
pub fn demo_data(out: &Path, songs: usize, seed: u64) -> Result<()> {
    let n = crate::demo::write_demo_corpus(out, songs, seed)
        .with_context(|| format!("cannot write the demo corpus into {}", out.display()))?;
    println!(
        "wrote {n} synthetic songs into {} (DEMO DATA, not Pop1K7)",
        out.display()
    );
    Ok(())
}
