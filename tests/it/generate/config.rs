//! `[generate]` / `[[generate.sampler]]` / `[audio]` parsing and validation.

use cadenza::config::Config;
use cadenza::generate::Task;
use std::path::Path;

fn parse(extra: &str) -> anyhow::Result<Config> {
    Config::parse(
        &format!("[run]\nname = \"t\"\n{extra}"),
        Path::new("test.toml"),
    )
}

#[test]
fn defaults_have_the_required_grid() {
    let cfg = parse("").unwrap();
    let g = &cfg.generate;
    assert_eq!(g.tasks, vec![Task::Unconditional, Task::Continuation]);
    assert_eq!(
        (
            g.pieces_per_sampler,
            g.unconditional_bars,
            g.prompt_bars,
            g.continuation_bars
        ),
        (40, 32, 8, 24)
    );
    // The code's default grid is configs/default.toml's, and every task keeps at least three
    // samplers.
    let file = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/default.toml"
    )))
    .unwrap();
    assert_eq!(file.generate.samplers, g.samplers);
    assert_eq!(file.generate.pieces_per_sampler, g.pieces_per_sampler);
    for task in [Task::Unconditional, Task::Continuation] {
        let n = g.partitions().iter().filter(|p| p.0 == task).count();
        assert!(n >= 3, "{task}: {n} samplers");
    }
    assert_eq!(cfg.audio.sample_rate, 44_100);
    assert!(cfg.audio.soundfont.ends_with("FluidR3_GM.sf2"));
}

#[test]
fn sampler_tables_parse_and_bad_values_name_the_key() {
    let cfg = parse(
        "[generate]\npieces_per_sampler = 3\n[[generate.sampler]]\nname = \"x\"\ntemperature = 0.9\ntop_k = 5\n\
         [[generate.sampler]]\nname = \"y\"\ntop_p = 0.8\n",
    )
    .unwrap();
    let s = &cfg.generate.samplers;
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].temperature, s[0].top_k, s[0].top_p), (0.9, 5, 1.0));
    assert_eq!((s[1].temperature, s[1].top_k, s[1].top_p), (1.0, 0, 0.8));

    let err = format!(
        "{:#}",
        parse("[[generate.sampler]]\nname = \"x\"\ntop_p = 1.5\n").unwrap_err()
    );
    assert!(err.contains("generate.sampler[0].top_p"), "{err}");
    for (bad, key) in [
        ("typical_p = 0", "typical_p"),
        ("typical_p = 1.2", "typical_p"),
        ("min_p = 1", "min_p"),
        ("min_p = -0.1", "min_p"),
        (
            "pitch_prior = { out_of_scale = -1 }",
            "pitch_prior.out_of_scale",
        ),
        (
            "pitch_prior = { beyond_range = nan }",
            "pitch_prior.beyond_range",
        ),
    ] {
        let err = format!(
            "{:#}",
            parse(&format!("[[generate.sampler]]\nname = \"x\"\n{bad}\n")).unwrap_err()
        );
        assert!(err.contains(&format!("generate.sampler[0].{key}")), "{err}");
    }
    // Off by default, and then left out of the partition fingerprint (older stores stay fresh).
    let plain = serde_json::to_string(&s[0]).unwrap();
    assert!(
        !plain.contains("typical_p") && !plain.contains("min_p") && !plain.contains("pitch_prior"),
        "{plain}"
    );
    let err = format!(
        "{:#}",
        parse("[[generate.sampler]]\nname = \"x\"\ntemperature = 0\n").unwrap_err()
    );
    assert!(err.contains("generate.sampler[0].temperature"), "{err}");
    let err = format!(
        "{:#}",
        parse("[[generate.sampler]]\nname = \"x\"\n[[generate.sampler]]\nname = \"x\"\n")
            .unwrap_err()
    );
    assert!(err.contains("generate.sampler[1].name"), "{err}");
    let err = format!("{:#}", parse("[generate]\ntopk = 3\n").unwrap_err());
    assert!(err.contains("topk"), "{err}");
    let err = format!("{:#}", parse("[audio]\nsample_rate = 10\n").unwrap_err());
    assert!(err.contains("audio.sample_rate"), "{err}");
    let err = format!(
        "{:#}",
        parse("[generate]\ntasks = [\"remix\"]\n").unwrap_err()
    );
    assert!(err.contains("remix"), "{err}");
}

#[test]
fn sampler_tasks_families_and_beams_parse_and_are_checked() {
    let cfg = parse(
        "[[generate.sampler]]\nname = \"free\"\ntasks = [\"unconditional\"]\n\
         family.pitch = { temperature = 0.8 }\n\
         [[generate.sampler]]\nname = \"cont\"\ntasks = [\"continuation\"]\ntemperature = 0.7\n\
         [[generate.sampler]]\nname = \"beam4\"\ntasks = [\"continuation\"]\nbeam = { width = 4 }\n",
    )
    .unwrap();
    let g = &cfg.generate;
    let parts: Vec<(Task, &str)> = g
        .partitions()
        .into_iter()
        .map(|(t, s)| (t, s.name.as_str()))
        .collect();
    assert_eq!(
        parts,
        [
            (Task::Unconditional, "free"),
            (Task::Continuation, "cont"),
            (Task::Continuation, "beam4")
        ]
    );
    assert_eq!(g.samplers[0].family.pitch.unwrap().temperature, Some(0.8));
    let b = g.samplers[2].beam.unwrap();
    assert_eq!((b.width, b.stochastic, b.length_penalty), (4, false, 1.0));

    for (bad, key) in [
        ("beam = { width = 4 }", "generate.sampler[0].beam"),
        ("beam = { width = 0 }", "generate.sampler[0].beam.width"),
        (
            "beam = { width = 2, stochastic = true, length_penalty = -1 }",
            "generate.sampler[0].beam.length_penalty",
        ),
        (
            "family.pitch = { top_p = 0 }",
            "generate.sampler[0].family.pitch.top_p",
        ),
        ("family.drums = { top_p = 0.5 }", "drums"),
        ("family.pitch = { top_q = 0.5 }", "top_q"),
        ("tasks = [\"baseline\"]", "generate.sampler[0].tasks"),
    ] {
        let err = format!(
            "{:#}",
            parse(&format!("[[generate.sampler]]\nname = \"x\"\n{bad}\n")).unwrap_err()
        );
        assert!(err.contains(key), "{bad}: {err}");
    }
    // A task no sampler runs for.
    let err = format!(
        "{:#}",
        parse("[[generate.sampler]]\nname = \"x\"\ntasks = [\"continuation\"]\n").unwrap_err()
    );
    assert!(err.contains("unconditional"), "{err}");
}

/// `tasks` picks partitions but leaves the pieces' fingerprint alone.
#[test]
fn a_samplers_tasks_are_not_in_its_fingerprint() {
    use cadenza::generate::{PartitionPlan, partition_fingerprint};
    let cfg = parse("").unwrap();
    let mut s = cfg.generate.samplers[0].clone();
    let fp = |s: &cadenza::generate::SamplerConfig| {
        let plan = PartitionPlan {
            task: Task::Unconditional,
            sampler: s,
            n: 2,
            prompts: &[],
            run_seed: 1,
        };
        partition_fingerprint("m", &cfg.generate, &plan)
    };
    let before = fp(&s);
    s.tasks = vec![Task::Unconditional];
    assert_eq!(fp(&s), before);
    s.temperature += 0.1;
    assert_ne!(fp(&s), before);
}
