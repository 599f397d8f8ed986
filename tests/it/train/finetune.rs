//! `train.init_from`: a run that starts from another run's trained weights (fine-tuning on
//! another corpus) with a fresh optimizer and schedule, through the CLI.

use std::path::{Path, PathBuf};

use cadenza::pipeline::manifest::Manifest;

use crate::support::{cli, text};

/// A run on its own corpus and token folder: `train` holds extra `[train]` lines, `model`
/// extra `[model]` lines.
fn write_config(dir: &Path, name: &str, corpus: &str, train: &str, model: &str) -> PathBuf {
    let cfg = dir.join(format!("{name}.toml"));
    let text = format!(
        "[run]\nname = \"{name}\"\nseed = 5\nraw_dir = \"{raw}\"\ntokens_dir = \"{tok}\"\n\
         artifacts_dir = \"{art}\"\n\
         [model]\npreset = \"tiny\"\n{model}\
         [train]\nbatch_size = 4\nwarmup_steps = 2\neval_every = 10\ncheckpoint_every = 10\n\
         valid_tokens = 512\nlr = 0.003\n{train}\
         [train.monitor]\npieces = 0\n",
        raw = dir.join(corpus).display(),
        tok = dir.join(format!("tokens-{corpus}")).display(),
        art = dir.join("artifacts").display(),
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

fn train(cfg: &Path) -> String {
    for stage in ["tokenize", "train"] {
        let o = cli(cfg, &["run", stage], &[]);
        assert!(o.status.success(), "{}", text(&o));
        if stage == "train" {
            return text(&o);
        }
    }
    unreachable!()
}

fn valid_loss(dir: &Path, run: &str) -> f64 {
    let m = Manifest::read(&dir.join("artifacts").join(run).join("train"))
        .unwrap()
        .unwrap();
    m.counts["valid_loss"].as_f64().unwrap()
}

#[test]
fn a_fine_tune_starts_from_the_trained_weights_with_a_fresh_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (corpus, seed) in [("first", "1"), ("second", "2")] {
        let out = d.join(corpus);
        let o = cli(
            Path::new("unused.toml"),
            &[
                "demo-data",
                "--out",
                out.to_str().unwrap(),
                "--songs",
                "40",
                "--seed",
                seed,
            ],
            &[],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let base = write_config(d, "base", "first", "max_steps = 60\n", "");
    train(&base);
    let base_train = d.join("artifacts/base/train");
    let from = format!("init_from = \"{}\"\n", base_train.display());

    // The same 10 steps on the second corpus, from scratch and from the base model.
    let scratch = write_config(d, "scratch", "second", "max_steps = 10\n", "");
    train(&scratch);
    let tuned = write_config(d, "tuned", "second", &format!("max_steps = 10\n{from}"), "");
    let log = train(&tuned);
    assert!(log.contains("starting from the weights of"), "{log}");
    assert!(
        log.contains("10 of 10 steps"),
        "a fresh schedule of its own: {log}"
    );
    let (scratch_loss, tuned_loss) = (valid_loss(d, "scratch"), valid_loss(d, "tuned"));
    eprintln!(
        "valid loss after 10 steps: from scratch {scratch_loss:.3}, fine-tuned {tuned_loss:.3}"
    );
    assert!(
        tuned_loss < scratch_loss - 0.5,
        "the fine-tune starts from what the base learned: valid loss {tuned_loss} against {scratch_loss} from scratch"
    );

    // The base model is an input: retrained (another length), the fine-tune is stale.
    let o = cli(&tuned, &["status"], &[]);
    assert!(
        text(&o)
            .lines()
            .any(|l| l.starts_with("train") && l.contains("fresh")),
        "{}",
        text(&o)
    );
    write_config(d, "base", "first", "max_steps = 70\n", "");
    train(&base);
    let o = cli(&tuned, &["status"], &[]);
    let line = text(&o)
        .lines()
        .find(|l| l.starts_with("train"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("stale") && line.contains("init_from"),
        "{}",
        text(&o)
    );

    // A model of another shape is refused, naming the key.
    let wide = write_config(
        d,
        "wide",
        "second",
        &format!("max_steps = 10\n{from}"),
        "d_model = 48\nn_head = 3\n",
    );
    let o = cli(&wide, &["run", "tokenize"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(&wide, &["run", "train"], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("train.init_from") && text(&o).contains("another shape"),
        "{}",
        text(&o)
    );
}
