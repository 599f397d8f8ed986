//! The whole pipeline on the built-in demo corpus with a tiny config, through the real CLI:
//! every output exists and reads back, manifests chain, a rerun is fresh, changing one sampler
//! reruns only its partition and evaluate, and a run killed part-way (injected failure) then
//! rerun gives the same final tables.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{cli, text};
use cadenza::pipeline::manifest::Manifest;
use cadenza::samples::SAMPLES_FILE;

struct Run {
    dir: tempfile::TempDir,
}

fn sampler_block(name: &str, temperature: f64) -> String {
    format!("[[generate.sampler]]\nname = \"{name}\"\ntemperature = {temperature}\ntop_k = 8\n")
}

impl Run {
    fn new() -> Run {
        let run = Run {
            dir: tempfile::tempdir().unwrap(),
        };
        let o = run.cli(&[
            "demo-data",
            "--out",
            run.path("raw").to_str().unwrap(),
            "--songs",
            "60",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        run.config(0.9);
        run
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn config(&self, second_temperature: f64) {
        self.config_with(second_temperature, "");
    }
    /// The config with the `[train]` keys of `train` (`key = value` lines) set or replaced.
    fn config_with(&self, second_temperature: f64, train: &str) {
        let base = "batch_size = 2\nmax_steps = 4\nwarmup_steps = 1\neval_every = 2\n\
                    checkpoint_every = 2\nvalid_tokens = 256\n";
        let set: Vec<&str> = train.lines().filter_map(|l| l.split(" =").next()).collect();
        let kept = base
            .lines()
            .filter(|l| !set.contains(&l.split(" =").next().unwrap()));
        let train: String = kept
            .chain(train.lines())
            .map(|l| format!("{l}\n"))
            .collect();
        let text = format!(
            "[run]\nname = \"e2e\"\nseed = 7\nraw_dir = \"{raw}\"\ntokens_dir = \"{tok}\"\nartifacts_dir = \"{art}\"\n\
             [model]\npreset = \"tiny\"\n\
             [train]\n{train}\
             [generate]\npieces_per_sampler = 2\nunconditional_bars = 2\nprompt_bars = 2\ncontinuation_bars = 1\nn_prompts = 2\n\
             {s1}{s2}",
            raw = self.path("raw").display(),
            tok = self.path("tokens").display(),
            art = self.path("artifacts").display(),
            s1 = sampler_block("a", 1.0),
            s2 = sampler_block("b", second_temperature),
        );
        std::fs::write(self.path("cfg.toml"), text).unwrap();
    }
    fn cli(&self, args: &[&str]) -> Output {
        self.cli_env(args, &[])
    }
    fn cli_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        cli(&self.path("cfg.toml"), args, env)
    }
    fn run_dir(&self) -> PathBuf {
        self.path("artifacts/e2e")
    }
    fn manifest(&self, stage_dir: &Path) -> Manifest {
        Manifest::read(stage_dir)
            .unwrap()
            .unwrap_or_else(|| panic!("no manifest in {}", stage_dir.display()))
    }
    fn query(&self, sql: &str) -> polars::prelude::DataFrame {
        let metrics = self.run_dir().join("metrics");
        crate::metrics::query(&metrics, &self.path("tokens/remi"), sql).unwrap()
    }
    /// The final outputs: generated MIDI and tables and the summary as bytes, the per-piece
    /// metrics as CSV (their `file` column holds this run's absolute paths).
    fn tables(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        collect(&self.run_dir().join("generated"), &mut out);
        out.retain(|(p, _)| p.ends_with(".parquet") || p.ends_with(".mid"));
        let root = self.dir.path().to_string_lossy().into_owned();
        for (p, _) in out.iter_mut() {
            *p = p.replace(&root, "");
        }
        let summary = self.run_dir().join("metrics/summary.parquet");
        out.push(("summary".into(), std::fs::read(summary).unwrap()));
        let sql =
            "SELECT task, sampler, piece, h1, h4, gs, n_bars, n_notes FROM pieces ORDER BY 1, 2, 3";
        let mut df = self.query(sql);
        let csv =
            cadenza::metrics::format_frame(&mut df, cadenza::metrics::OutputFormat::Csv).unwrap();
        out.push(("pieces".into(), csv.into_bytes()));
        out.sort();
        out
    }
}

fn collect(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push((p.to_string_lossy().into_owned(), std::fs::read(&p).unwrap()));
        }
    }
}

#[test]
fn whole_pipeline_on_demo_data() {
    let run = Run::new();
    let o = run.cli(&["run", "all"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("DEMO DATA"),
        "demo data is announced: {}",
        text(&o)
    );
    assert!(text(&o).contains("stage times:"), "{}", text(&o));
    // stderr is a pipe here, as in a batch log: training's validation lines and the loops' last
    // progress lines are printed as plain lines.
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("valid loss"), "{log}");
    for line in ["train 4/4 steps", "tokenize ", "evaluate "] {
        assert!(
            log.lines().any(|l| l.starts_with(line)),
            "no `{line}` line: {log}"
        );
    }

    // Every output exists and reads back.
    let tokens = run.path("tokens/remi");
    let songs = cadenza::shards::read_shards(&tokens).unwrap();
    assert!(songs.len() >= 55, "{} songs", songs.len());
    let train = run.run_dir().join("train");
    let generated = run.run_dir().join("generated");
    let metrics = run.run_dir().join("metrics");
    for task in ["unconditional", "continuation"] {
        for sampler in ["a", "b"] {
            let part = generated.join(format!("task={task}/sampler={sampler}"));
            let rows = cadenza::samples::read_samples(&part.join(SAMPLES_FILE)).unwrap();
            assert_eq!(rows.len(), 2, "{}", part.display());
            for i in 0..2 {
                let song = cadenza::midi::read_file(&part.join(format!("{i:03}.mid"))).unwrap();
                assert!(!song.notes.is_empty());
            }
        }
    }
    // The real continuations of the same prompts, beside the model's.
    let real = generated.join("task=continuation/sampler=real");
    let real_rows = cadenza::samples::read_samples(&real.join(SAMPLES_FILE)).unwrap();
    let model_rows = cadenza::samples::read_samples(
        &generated
            .join("task=continuation/sampler=a")
            .join(SAMPLES_FILE),
    )
    .unwrap();
    let key = |r: &cadenza::samples::SampleRow| (r.prompt_source.clone(), r.start_bar);
    assert_eq!(
        real_rows.iter().map(key).collect::<Vec<_>>(),
        model_rows.iter().map(key).collect::<Vec<_>>()
    );
    let df =
        run.query("SELECT task, sampler, count(*) AS n FROM pieces GROUP BY 1, 2 ORDER BY 1, 2");
    assert_eq!(
        df.height(),
        8,
        "4 generated groups, the real continuations, the unigram baseline, the reference and \
         the real training songs: {df}"
    );
    // Every scored metric of every row has its intervals (oa needs two distinct values on
    // both sides, rare with 2 pieces a row: it is checked in metrics::stats).
    let df = run.query(
        "SELECT task, sampler, metric FROM summary WHERE n > 0 AND (mean_lo IS NULL OR mean_hi IS NULL OR (sampler <> 'real' AND delta_lo IS NULL))",
    );
    assert_eq!(df.height(), 0, "{df}");

    // Manifests chain: each stage's inputs are its upstream's fingerprints.
    let (m_tok, m_train, m_gen, m_eval) = (
        run.manifest(&tokens),
        run.manifest(&train),
        run.manifest(&generated),
        run.manifest(&metrics),
    );
    assert!(m_tok.demo_data);
    assert_eq!(m_train.inputs["tokenize"], m_tok.fingerprint);
    assert_eq!(m_gen.inputs["train"], m_train.fingerprint);
    assert_eq!(m_gen.inputs["tokenize"], m_tok.fingerprint);
    assert_eq!(m_eval.inputs["generate"], m_gen.fingerprint);
    assert_eq!(m_eval.inputs["tokenize"], m_tok.fingerprint);

    // The decoder-window measurement reads the trained checkpoint and the valid songs.
    let o = run.cli(&["bench", "window", "--songs", "4", "--tokens", "64"]);
    assert!(o.status.success(), "{}", text(&o));
    let report = text(&o);
    let losses: Vec<f64> = report
        .lines()
        .filter(|l| l.contains("training evaluation") || l.contains("cached decoder"))
        .filter_map(|l| l.split(": ").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(losses.len(), 3, "{report}");
    assert!(losses.iter().all(|l| l.is_finite() && *l > 0.0), "{report}");
    assert!(report.contains("mem_len+1 = 17 keys") && report.contains("mem_len+tgt_len = 32 keys"));

    // A rerun does nothing.
    let o = run.cli(&["run", "all"]);
    assert!(
        text(&o).contains("nothing to do: everything is fresh"),
        "{}",
        text(&o)
    );

    // Changing one sampler reruns generate (its two partitions only; the other sampler, the
    // baseline and the real continuations stay) and evaluate.
    let untouched = std::fs::read(generated.join("task=unconditional/sampler=a/000.mid")).unwrap();
    let untouched_time = std::fs::metadata(
        generated
            .join("task=unconditional/sampler=a")
            .join(SAMPLES_FILE),
    )
    .unwrap()
    .modified()
    .unwrap();
    run.config(1.3);
    let o = run.cli(&["run", "all"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("tokenize  fresh") && out.contains("train     fresh"),
        "{out}"
    );
    assert!(
        out.contains("2 partitions written") && out.contains("4 fresh"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("evaluate") && !l.contains("fresh")),
        "{out}"
    );
    assert_eq!(
        std::fs::read(generated.join("task=unconditional/sampler=a/000.mid")).unwrap(),
        untouched
    );
    let time = std::fs::metadata(
        generated
            .join("task=unconditional/sampler=a")
            .join(SAMPLES_FILE),
    )
    .unwrap()
    .modified()
    .unwrap();
    assert_eq!(
        time, untouched_time,
        "the unchanged partition was not rewritten"
    );
}

#[test]
fn killed_runs_then_rerun_give_the_same_tables() {
    let straight = Run::new();
    let o = straight.cli(&["run", "all"]);
    assert!(o.status.success(), "{}", text(&o));
    let expected = straight.tables();

    let broken = Run::new();
    for point in [
        "train:after-checkpoint",
        "generate:after-partition",
        "evaluate:before-commit",
    ] {
        let o = broken.cli_env(&["run", "all"], &[("CADENZA_FAIL_AT", point)]);
        assert!(
            !o.status.success(),
            "failure at {point} was injected: {}",
            text(&o)
        );
        assert!(text(&o).contains("injected failure"), "{}", text(&o));
    }
    let o = broken.cli(&["run", "all"]);
    assert!(o.status.success(), "{}", text(&o));
    let got = broken.tables();
    assert_eq!(got.len(), expected.len());
    for ((gp, gb), (wp, wb)) in got.iter().zip(&expected) {
        assert_eq!(gp, wp);
        assert!(
            gb == wb,
            "{gp} differs between the interrupted and the straight run"
        );
    }
}

/// Keys that only say when to log, validate and checkpoint leave the finished run fresh; raising
/// the time cap makes it stale, and the rerun resumes its last checkpoint instead of starting
/// over (the model stays the same bytes).
#[test]
fn bookkeeping_keys_resume_instead_of_starting_over() {
    let run = Run::new();
    for stage in ["tokenize", "train"] {
        let o = run.cli(&["run", stage]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let model = |run: &Run| {
        let ckpt = run
            .run_dir()
            .join("train/checkpoints/step-00000004/model.bin");
        std::fs::read(&ckpt).unwrap_or_else(|e| panic!("{}: {e}", ckpt.display()))
    };
    let before = model(&run);
    let train_line = |o: &Output| {
        text(o)
            .lines()
            .find(|l| l.trim_start().starts_with("train"))
            .unwrap_or_default()
            .to_string()
    };
    run.config_with(
        0.9,
        "log_every = 3\neval_every = 3\ncheckpoint_every = 1\nkeep_checkpoints = 5\n",
    );
    let o = run.cli(&["status"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(train_line(&o).contains("fresh"), "{}", text(&o));

    run.config_with(0.9, "max_minutes = 30\n");
    let o = run.cli(&["status"]);
    assert!(train_line(&o).contains("stale"), "{}", text(&o));
    let o = run.cli(&["run", "train"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("already trained: checkpoint reused"),
        "{}",
        text(&o)
    );
    assert_eq!(
        model(&run),
        before,
        "a resume at the last step trains nothing"
    );

    run.config_with(0.9, "max_minutes = 30\nlr = 0.002\n");
    let o = run.cli(&["run", "train"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        !t.contains("resumed") && !t.contains("reused"),
        "a changed lr starts over: {t}"
    );
}
