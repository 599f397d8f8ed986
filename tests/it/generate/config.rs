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
        (20, 32, 8, 24)
    );
    for name in ["t0.8_k20", "t1.0_k40", "t1.2_k60"] {
        assert!(g.sampler(name).is_some(), "{name}");
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
    for bad in [
        "typical_p = 0",
        "typical_p = 1.2",
        "min_p = 1",
        "min_p = -0.1",
    ] {
        let err = format!(
            "{:#}",
            parse(&format!("[[generate.sampler]]\nname = \"x\"\n{bad}\n")).unwrap_err()
        );
        let key = bad.split(' ').next().unwrap();
        assert!(err.contains(&format!("generate.sampler[0].{key}")), "{err}");
    }
    // Off by default, and then left out of the partition fingerprint (older stores stay fresh).
    let plain = serde_json::to_string(&s[0]).unwrap();
    assert!(
        !plain.contains("typical_p") && !plain.contains("min_p"),
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
