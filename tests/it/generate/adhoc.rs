//! Ad-hoc generation from a checkpoint folder with prompts from a MIDI folder: loading, prompts,
//! store layout, samples.parquet contents.

use cadenza::config::Config;
use cadenza::generate::{
    AdhocArgs, GenerateJob, GenerateSummary, SamplerOverrides, Task, generate,
};
use cadenza::layout::RunLayout;
use cadenza::midi::{Note, Song, Tempo};
use cadenza::model::checkpoint::{STATE_FILE, write_model};
use cadenza::model::{CpuBackend, TransformerXlConfig};
use cadenza::remi::Vocab;
use cadenza::samples::{SAMPLES_FILE, partition_dir, read_samples};

fn song(bars: u32, base: u8) -> Song {
    let mut notes = Vec::new();
    for bar in 0..bars {
        for beat in 0..4u32 {
            let start = bar * 1920 + beat * 480;
            notes.push(Note {
                start,
                end: start + 360,
                pitch: base + (beat * 2) as u8,
                velocity: 80,
            });
        }
    }
    Song {
        notes,
        tempos: vec![Tempo {
            tick: 0,
            bpm: 110.0,
        }],
        ..Song::default()
    }
}

/// A tiny model's checkpoint folder under `root/train`, as the train stage writes it (weights,
/// model config, state).
fn checkpoint(root: &std::path::Path, seed: u64) {
    let ckpt = root.join("train/checkpoints/step-00000001");
    std::fs::create_dir_all(&ckpt).unwrap();
    let mcfg = TransformerXlConfig::tiny(Vocab::SIZE);
    write_model(
        &ckpt,
        &crate::support::model::<CpuBackend>(&mcfg, seed),
        &mcfg,
    )
    .unwrap();
    std::fs::write(ckpt.join(STATE_FILE), "{}").unwrap();
}

#[test]
fn adhoc_continuation_from_checkpoint_and_prompt_dir() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    checkpoint(root, 2);

    let prompts = root.join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("a.mid"),
        cadenza::midi::write_bytes(&song(12, 60)),
    )
    .unwrap();
    std::fs::write(
        prompts.join("b.mid"),
        cadenza::midi::write_bytes(&song(9, 48)),
    )
    .unwrap();
    // Shorter than generate.prompt_bars (8): used whole, continued after its last bar.
    std::fs::write(
        prompts.join("c.mid"),
        cadenza::midi::write_bytes(&song(3, 55)),
    )
    .unwrap();

    let text = format!(
        "[run]\nname = \"t\"\nseed = 3\nartifacts_dir = \"{}\"\n[generate]\ncontinuation_bars = 2\nmax_tokens = 400\nprompt_dir = \"{}\"\n",
        root.join("artifacts").display(),
        prompts.display()
    );
    let cfg = Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let out = root.join("out");
    // What `pipeline generate --checkpoint <train dir> --task T --sampler S --n N` does.
    let adhoc_with =
        |task, sampler: &str, o: &SamplerOverrides, n| -> anyhow::Result<GenerateSummary> {
            let g = cfg.generate.adhoc(&AdhocArgs {
                overrides: o.clone(),
                ..AdhocArgs::new(task, sampler, n)
            })?;
            let layout = RunLayout::new(&cfg);
            let job = GenerateJob {
                generate: &g,
                audio: &cfg.audio,
                seed: cfg.run.seed,
                split: cfg.run.split(),
                tokens_dir: layout.tokens_dir(),
                checkpoint: &root.join("train"),
            };
            generate(&job, &out, false)
        };
    let adhoc = |task, sampler: &str, n| adhoc_with(task, sampler, &Default::default(), n);
    let s = adhoc(Task::Continuation, "t1.0_k40_pitchp0.95_prior", 3).unwrap();
    // The continuations and, beside them, the real continuations of the same prompts.
    assert_eq!((s.partitions_written, s.pieces), (2, 6));
    let rows = read_samples(
        &partition_dir(&out, "continuation", "t1.0_k40_pitchp0.95_prior").join(SAMPLES_FILE),
    )
    .unwrap();
    assert_eq!(rows.len(), 3);
    let srcs: Vec<_> = rows
        .iter()
        .map(|r| r.prompt_source.clone().unwrap())
        .collect();
    assert!(
        srcs[0].ends_with("a.mid") && srcs[1].ends_with("b.mid") && srcs[2].ends_with("c.mid"),
        "{srcs:?}"
    );
    let bars: Vec<_> = rows.iter().map(|r| (r.start_bar, r.n_bars)).collect();
    assert_eq!(bars, [(8, 10), (8, 10), (3, 5)]);
    // The real continuation of each prompt: the same song, prompt first, then its own bars.
    let real =
        read_samples(&partition_dir(&out, "continuation", "real").join(SAMPLES_FILE)).unwrap();
    assert_eq!(real.len(), 3);
    for (r, g) in real.iter().zip(&rows) {
        assert_eq!(
            (&r.prompt_source, r.start_bar),
            (&g.prompt_source, g.start_bar)
        );
        // The prompt: every token before the generated part's first Bar.
        let bar_starts: Vec<usize> = (0..g.tokens.len())
            .filter(|&i| g.tokens[i] == cadenza::remi::BAR)
            .collect();
        let prompt_len = bar_starts
            .get(g.start_bar as usize)
            .copied()
            .unwrap_or(g.tokens.len());
        assert_eq!(r.tokens[..prompt_len], g.tokens[..prompt_len]);
        assert!(
            r.tokens.len() > prompt_len,
            "the real song goes on after its prompt"
        );
    }
    // Unknown sampler: a clear error naming the configured ones.
    let err = adhoc(Task::Unconditional, "nope", 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope") && err.contains("t1.0_k40_pitchp0.95_prior"),
        "{err}"
    );

    // `--beam 2 --family pitch.temperature=0.8 --name beam2`: a beam search over the changed
    // settings, in its own partition, with the same bars.
    let beam = SamplerOverrides {
        name: Some("beam2".into()),
        beam: Some(2),
        family: vec!["pitch.temperature=0.8".into()],
        ..Default::default()
    };
    let s = adhoc_with(Task::Continuation, "t1.0_k40_pitchp0.95_prior", &beam, 3).unwrap();
    assert_eq!(
        (s.partitions_written, s.pieces),
        (1, 3),
        "the real partition is fresh"
    );
    let rows =
        read_samples(&partition_dir(&out, "continuation", "beam2").join(SAMPLES_FILE)).unwrap();
    let bars: Vec<_> = rows.iter().map(|r| (r.start_bar, r.n_bars)).collect();
    assert_eq!(bars, [(8, 10), (8, 10), (3, 5)]);
    // Bad options are refused naming the flag, before any work.
    for (o, flag) in [
        (
            SamplerOverrides {
                top_p: Some(2.0),
                ..Default::default()
            },
            "--top-p",
        ),
        (
            SamplerOverrides {
                family: vec!["drums.temperature=1".into()],
                ..Default::default()
            },
            "--family drums.temperature=1",
        ),
        (
            SamplerOverrides {
                stochastic: true,
                ..Default::default()
            },
            "--stochastic",
        ),
        (
            SamplerOverrides {
                beam: Some(100),
                ..Default::default()
            },
            "--beam",
        ),
    ] {
        let err = format!(
            "{:#}",
            adhoc_with(Task::Continuation, "t1.0_k40_pitchp0.95_prior", &o, 1).unwrap_err()
        );
        assert!(err.contains(flag), "{err}");
    }
    // A deterministic beam from Bos would repeat one piece: refused.
    let err = format!(
        "{:#}",
        adhoc_with(Task::Unconditional, "t1.0_k40_pitchp0.95_prior", &beam, 2).unwrap_err()
    );
    assert!(err.contains("beam"), "{err}");
}

/// `pipeline generate --prompt FILE`: a hand-made 4-bar MIDI file (shorter than the 8 prompt
/// bars asked for, so used whole, and said so) is continued for 3 bars; the output starts
/// with those 4 bars note for note and has 7 bars.
#[test]
fn the_cli_continues_a_users_midi_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    checkpoint(root, 3);
    let prompt = song(4, 60);
    let file = root.join("mine.mid");
    std::fs::write(&file, cadenza::midi::write_bytes(&prompt)).unwrap();
    let config = root.join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nname = \"t\"\nartifacts_dir = \"{}\"\n[generate]\nmax_tokens = 400\n[audio]\nsoundfont = \"/nonexistent.sf2\"\n",
            root.join("artifacts").display()
        ),
    )
    .unwrap();
    let out = root.join("out");
    let o = crate::support::cli(
        &config,
        &[
            "generate",
            "--checkpoint",
            root.join("train").to_str().unwrap(),
            "--prompt",
            file.to_str().unwrap(),
            "--prompt-bars",
            "8",
            "--bars",
            "3",
            "--n",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let text = crate::support::text(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("has 4 bars, fewer than the 8 asked for: used whole"),
        "{text}"
    );
    let part = partition_dir(&out, "continuation", "t1.0_k40_pitchp0.95_prior");
    for i in 0..2 {
        let got = cadenza::midi::read_file(&part.join(format!("{i:03}.mid"))).unwrap();
        let head: Vec<_> = got
            .notes
            .iter()
            .filter(|n| n.start < 4 * cadenza::midi::BAR_TICKS)
            .collect();
        assert_eq!(head.len(), prompt.notes.len(), "piece {i}");
        for (a, b) in head.iter().zip(&prompt.notes) {
            // REMI keeps velocity in bins of 4.
            assert_eq!(
                (a.start, a.end, a.pitch, a.velocity / 4),
                (b.start, b.end, b.pitch, b.velocity / 4)
            );
        }
        assert_eq!(
            cadenza::generate::song_bars(&got),
            7,
            "piece {i}: 4 + 3 bars"
        );
    }
    let rows = read_samples(&part.join(SAMPLES_FILE)).unwrap();
    assert!(rows.iter().all(|r| r.start_bar == 4 && r.n_bars == 7));
    // --prompt with an unconditional task is refused.
    let o = crate::support::cli(
        &config,
        &[
            "generate",
            "--checkpoint",
            "x",
            "--task",
            "unconditional",
            "--prompt",
            file.to_str().unwrap(),
            "--out",
            "y",
        ],
        &[],
    );
    assert!(!o.status.success() && crate::support::text(&o).contains("--prompt"));
}

/// `pipeline generate --seed`: the same seed gives the same pieces, another seed others.
#[test]
fn generate_seed_picks_the_pieces() {
    let p = crate::pipeline::project::Project::new();
    p.ok(&["run", "tokenize"], &[]);
    p.ok(&["run", "train"], &[]);
    let piece = |seed: &str, out: &str| {
        let args = [
            "generate",
            "--checkpoint",
            "artifacts/p/train",
            "--task",
            "unconditional",
            "--sampler",
            "a",
            "--n",
            "1",
            "--bars",
            "2",
            "--seed",
            seed,
            "--out",
            out,
        ];
        p.ok(&args, &[]);
        std::fs::read(p.path(&format!("{out}/task=unconditional/sampler=a/000.mid"))).unwrap()
    };
    let (a, again, other) = (piece("5", "o1"), piece("5", "o2"), piece("6", "o3"));
    assert_eq!(a, again);
    assert_ne!(a, other);
}

/// A checkpoint alone is enough: outside the repository (no configs/default.toml, no
/// --config) `pipeline generate` uses the built-in defaults and their sampler grid.
#[test]
fn generate_needs_only_a_checkpoint() {
    let p = crate::pipeline::project::Project::new();
    p.ok(&["run", "tokenize"], &[]);
    p.ok(&["run", "train"], &[]);
    let elsewhere = tempfile::tempdir().unwrap();
    let ckpt = p.path("artifacts/p/train");
    let out = elsewhere.path().join("mine");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .current_dir(elsewhere.path())
        .args([
            "generate",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--task",
            "unconditional",
        ])
        .args(["--n", "2", "--bars", "2", "--out", "mine"])
        .output()
        .unwrap();
    let t = crate::support::text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("built-in defaults"), "{t}");
    // The default sampler of `--sampler` is one of the built-in grid.
    let part = out.join("task=unconditional/sampler=t1.0_k40_pitchp0.95_prior");
    assert!(
        part.join("000.mid").is_file() && part.join("001.mid").is_file(),
        "{t}"
    );
}
