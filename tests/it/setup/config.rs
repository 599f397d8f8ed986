//! The shipped configs parse and validate; a bad value in any section is refused before any
//! work, naming the file and the key.

use std::path::Path;

use cadenza::config::Config;

use crate::support::{cli, text};

fn shipped() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_config_parses_and_validates() {
    let files = shipped();
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        Config::load(&f).unwrap_or_else(|e| panic!("{}: {e:#}", f.display()));
    }
}

#[test]
fn a_bad_value_in_any_section_is_refused_before_any_work() {
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/default.toml"))
            .unwrap();
    // (the line of configs/default.toml to replace, its bad replacement, the key named)
    let cases = [
        ("name = \"default\"", "name = \"a run\"", "run.name"),
        (
            "songs_per_shard = 256",
            "songs_per_shard = 0",
            "tokenize.songs_per_shard",
        ),
        (
            "songs_per_shard = 256",
            "songs_per_shrd = 256",
            "songs_per_shrd",
        ),
        ("preset = \"small\"", "preset = \"huge\"", "model.preset"),
        ("lr = 1e-3", "lr = -1.0", "train.lr"),
        (
            "pieces_per_sampler = 40",
            "pieces_per_sampler = 0",
            "generate.pieces_per_sampler",
        ),
        (
            "name = \"t1.0_k40_pitchp0.95_prior\"",
            "name = \"t1.0_k40_pitchp0.95_prior\"\ntemperature = 0.0",
            "generate.sampler[0].temperature",
        ),
        ("required = true", "sample_rate = 10", "audio.sample_rate"),
        ("split = \"test\"", "split = \"tset\"", "run.split"),
        ("resamples = 2000", "resamples = 5", "evaluate.resamples"),
    ];
    for (good, bad, key) in cases {
        assert!(
            default.contains(good),
            "configs/default.toml has no `{good}`"
        );
        let dir = tempfile::tempdir().unwrap();
        let text_cfg = default
            .replacen(good, bad, 1)
            .replace(
                "\"data/raw/pop1k7\"",
                &format!("\"{}/raw\"", dir.path().display()),
            )
            .replace(
                "\"data/tokens\"",
                &format!("\"{}/tokens\"", dir.path().display()),
            )
            .replace(
                "\"artifacts\"",
                &format!("\"{}/artifacts\"", dir.path().display()),
            );
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text_cfg).unwrap();
        let o = cli(&path, &["run", "all"], &[]);
        assert!(!o.status.success(), "{key}: {}", text(&o));
        let msg = text(&o);
        assert!(
            msg.contains("bad.toml") && msg.contains(key),
            "{key}: {msg}"
        );
        let made: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(made.len(), 1, "{key}: nothing but the config is written");
    }
}

/// The fields serde expects in the table that `toml` puts a stray key into: its message lists
/// every field of the struct, optional ones included.
fn fields(toml: &str) -> Vec<String> {
    let err = Config::parse(toml, Path::new("probe.toml")).unwrap_err();
    let msg = format!("{err:#}");
    let (_, expected) = msg
        .split_once("expected")
        .unwrap_or_else(|| panic!("no field list in: {msg}"));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// A config that sets `key` (a docs/config.md path) to `value`, or leaves it out when `value`
/// is None; sampler keys go into one sampler entry (beam and pitch-prior keys into theirs).
fn setting(key: &str, value: Option<&str>) -> String {
    let set = |k: &str| value.map_or(String::new(), |v| format!("{k} = {v}\n"));
    let head = "[run]\nname = \"x\"\n";
    if let Some(k) = key.strip_prefix("generate.sampler[].beam.") {
        let extra = value.map_or(String::new(), |v| format!(", {k} = {v}"));
        return format!(
            "{head}[generate]\ntasks = [\"continuation\"]\n[[generate.sampler]]\nname = \"a\"\ntasks = [\"continuation\"]\n\
             beam = {{ width = 2{extra} }}\n"
        );
    }
    if let Some(k) = key.strip_prefix("generate.sampler[].pitch_prior.") {
        let inner = value.map_or(String::new(), |v| format!("{k} = {v}"));
        return format!("{head}[[generate.sampler]]\nname = \"a\"\npitch_prior = {{ {inner} }}\n");
    }
    if let Some(k) = key.strip_prefix("generate.sampler[].") {
        return format!("{head}[[generate.sampler]]\nname = \"a\"\n{}", set(k));
    }
    let (table, k) = key.rsplit_once('.').unwrap();
    if table == "run" {
        format!("{head}{}", set(k))
    } else {
        format!("{head}[{table}]\n{}", set(k))
    }
}

/// docs/config.md names every key of every section, and no key that is not one; where it gives
/// a default as a value, setting the key to it gives the same config as leaving it out.
#[test]
fn docs_config_md_lists_every_key_with_its_default() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md"))
        .unwrap();
    // (key, default cell) of every table row that starts with a `key`.
    let rows: Vec<(String, String)> = doc
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((key.to_string(), cells.get(2)?.to_string()))
        })
        .collect();
    let head = "[run]\nname = \"x\"\n";
    let entry = format!("{head}[[generate.sampler]]\nname = \"a\"\n");
    // Each documented table, and the struct fields serde knows for it.
    let mut tables: Vec<(String, Vec<String>)> =
        vec![("run".into(), fields(&format!("{head}zzz = 1\n")))];
    for t in [
        "tokenize",
        "model",
        "train",
        "train.monitor",
        "generate",
        "audio",
        "evaluate",
    ] {
        tables.push((t.into(), fields(&format!("{head}[{t}]\nzzz = 1\n"))));
    }
    tables.push((
        "generate.sampler[]".into(),
        fields(&format!("{entry}zzz = 1\n")),
    ));
    let families = fields(&format!("{entry}family = {{ zzz = {{}} }}\n"));
    tables.push((
        "generate.sampler[].family.<family>".into(),
        fields(&format!("{entry}family.pitch = {{ zzz = 1 }}\n")),
    ));
    tables.push((
        "generate.sampler[].beam".into(),
        fields(&format!(
            "{entry}tasks = [\"continuation\"]\nbeam = {{ width = 2, zzz = 1 }}\n"
        )),
    ));
    tables.push((
        "generate.sampler[].pitch_prior".into(),
        fields(&format!("{entry}pitch_prior = {{ zzz = 1 }}\n")),
    ));
    for f in &families {
        assert!(
            doc.contains(&format!("`{f}`")),
            "family `{f}` is not in docs/config.md"
        );
    }
    let mut missing = Vec::new();
    for (table, names) in &tables {
        for name in names {
            let key = format!("{table}.{name}");
            let documented = rows.iter().any(|(k, _)| *k == key)
                || tables.iter().any(|(t, _)| t.starts_with(&key));
            if !documented {
                missing.push(key);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from docs/config.md: {missing:?}"
    );
    let mut checked = 0;
    for (key, default) in &rows {
        let (table, name) = key.rsplit_once('.').unwrap();
        let known = tables
            .iter()
            .any(|(t, names)| t == table && names.iter().any(|n| n == name));
        assert!(
            known,
            "docs/config.md documents `{key}`, which is no config key"
        );
        if let Some(value) = default.strip_prefix('`').and_then(|d| d.strip_suffix('`')) {
            let parse = |text: String| {
                Config::parse(&text, Path::new("probe.toml"))
                    .unwrap_or_else(|e| panic!("`{key}` = {value}: {e:#}\n{text}"))
            };
            let (set, unset) = (parse(setting(key, Some(value))), parse(setting(key, None)));
            assert!(
                set == unset,
                "`{key}`: docs/config.md says the default is {value}, the program's is not"
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} defaults checked");
}

/// `pipeline config --print` writes every shipped config in full, and that text reads back as
/// the same config.
#[test]
fn config_print_reads_back_as_the_same_config() {
    for f in shipped() {
        let o = cli(&f, &["config", "--print"], &[]);
        assert!(o.status.success(), "{}: {}", f.display(), text(&o));
        let printed = String::from_utf8(o.stdout).unwrap();
        assert!(
            printed.contains("[train.monitor]") && printed.contains("resamples"),
            "{printed}"
        );
        let again =
            Config::parse(&printed, &f).unwrap_or_else(|e| panic!("{}: {e:#}", f.display()));
        assert!(
            again == Config::load(&f).unwrap(),
            "{} printed differs:\n{printed}",
            f.display()
        );
    }
}
