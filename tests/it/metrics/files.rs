//! Metrics from MIDI files on disk: random pieces written as MIDI, read back and scored, agree
//! with a brute-force implementation; a corrupt file becomes an error row; the evaluate run and
//! `evaluate --midi-dir` share one metrics folder.

use crate::features::brute::{self, random_notes};
use crate::support::write;
use cadenza::config::Config;
use cadenza::features::Feature::{self, Gs, H4, NBars};
use cadenza::layout::RunLayout;
use cadenza::metrics::pieces::{Group, Scope};
use cadenza::metrics::store::read_pieces;
use cadenza::metrics::{
    EvaluateOutcome, RunInputs, ScopeBars, Scoring, SummaryOptions, evaluate_dir, evaluate_run,
};
use cadenza::midi::{Note, Song, write_bytes};
use cadenza::remi::{STEPS_PER_BAR, onset_step};
use cadenza::rng::Rng;
use cadenza::shards::{SongRecord, Split, write_shards};
use std::path::Path;

fn song(mut notes: Vec<Note>) -> Song {
    notes.sort();
    Song {
        notes,
        ..Default::default()
    }
}

fn write_midi(path: &Path, notes: Vec<Note>) {
    write(path, &write_bytes(&song(notes)));
}

/// Two test-split songs and one train song in the raw folder and the token shards; returns the
/// test songs' ids with their notes.
fn reference_corpus(cfg: &Config) -> Vec<(String, Vec<Note>)> {
    let ids = |split: Split| {
        (0..)
            .map(|i| format!("src_001/{i}"))
            .filter(move |id| Split::of(id) == split)
    };
    let mut test = Vec::new();
    let mut records = Vec::new();
    for (k, id) in ids(Split::Test)
        .take(2)
        .chain(ids(Split::Train).take(1))
        .enumerate()
    {
        // Song k: k + 2 bars, one C per bar plus an E in the last bar.
        let mut notes: Vec<Note> = (0..k as u32 + 2)
            .map(|b| Note {
                start: b * 1920,
                end: b * 1920 + 240,
                pitch: 60,
                velocity: 80,
            })
            .collect();
        notes.push(Note {
            start: (k as u32 + 1) * 1920 + 480,
            end: (k as u32 + 1) * 1920 + 720,
            pitch: 64,
            velocity: 80,
        });
        let source = format!("{id}.mid");
        write_midi(&cfg.run.raw_dir.join(&source), notes.clone());
        let split = Split::of(&id);
        if split == Split::Test {
            test.push((id.clone(), notes));
        }
        records.push(SongRecord {
            song_id: id,
            source,
            source_sha256: String::new(),
            split,
            meters: String::new(),
            n_bars: 0,
            n_notes: 0,
            n_tokens: 0,
            tokens: vec![],
        });
    }
    let tokens = RunLayout::new(cfg).tokens_dir().to_path_buf();
    std::fs::create_dir_all(&tokens).unwrap();
    write_shards(&tokens, &records, 256).unwrap();
    test
}

/// Fewer resamples than the default: these tests check tables, not intervals.
fn opts() -> SummaryOptions {
    SummaryOptions {
        seed: 1,
        resamples: 200,
    }
}

/// Pieces of 32 bars, continuations of 24.
const BARS: ScopeBars = ScopeBars {
    excerpt: 32,
    continuation: 24,
};

fn scoring() -> Scoring {
    Scoring {
        bars: BARS,
        summary: opts(),
    }
}

/// The evaluate stage's work for the run of `cfg`, into `out`.
fn evaluate(cfg: &Config, out: &Path) -> anyhow::Result<EvaluateOutcome> {
    let layout = RunLayout::new(cfg);
    let inputs = RunInputs {
        tokens_dir: layout.tokens_dir(),
        raw_dir: layout.raw_dir(),
        generated_dir: &layout.generated_dir(),
        reference_split: cfg.run.split(),
        real_train: 1,
        bars: BARS,
        summary: opts(),
    };
    evaluate_run(&inputs, out)
}

fn config(root: &Path) -> Config {
    let text = format!(
        "[run]\nname = \"t\"\nraw_dir = \"{0}/raw\"\ntokens_dir = \"{0}/tokens\"\nartifacts_dir = \"{0}/artifacts\"\n",
        root.display()
    );
    Config::parse(&text, Path::new("test.toml")).unwrap()
}

#[test]
fn random_pieces_from_files_agree_with_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let midi = dir.path().join("midi");
    let mut rng = Rng::new(7);
    let mut originals = Vec::new();
    for i in 0..300 {
        let notes = random_notes(&mut rng);
        // Nested folders: pieces are named by their path relative to the scanned folder.
        write_midi(
            &midi.join(format!("set{}/{i:03}.mid", i % 3)),
            notes.clone(),
        );
        originals.push((format!("set{}/{i:03}", i % 3), notes));
    }
    let metrics = dir.path().join("metrics");
    let outcome = evaluate_dir(&metrics, &midi, "random", &scoring()).unwrap();
    assert_eq!((outcome.files, outcome.errors), (300, 0));
    let rows = read_pieces(&metrics).unwrap();
    assert_eq!(rows.len(), 600, "each file whole and on its first 32 bars");
    let mut cut = 0;
    for (piece, notes) in originals {
        let first_32: Vec<Note> = notes
            .iter()
            .filter(|n| onset_step(n.start) / STEPS_PER_BAR < 32)
            .copied()
            .collect();
        cut += usize::from(first_32.len() < notes.len());
        for (scope, plain) in [(Scope::Piece, &notes), (Scope::Excerpt, &first_32)] {
            let row = rows
                .iter()
                .find(|r| r.piece == piece && r.scope == scope)
                .unwrap_or_else(|| panic!("{piece} {scope:?} missing"));
            assert_eq!(row.group, Group::new("external", "random"));
            assert_eq!(row.bars, BARS.of(scope));
            let m = row.metrics.as_ref().unwrap();
            // Every feature, through a MIDI file and the Parquet table and back.
            for (name, want) in brute::all(plain) {
                let got = m[Feature::parse(name).unwrap()];
                let same = (got.is_nan() && want.is_nan())
                    || (got - want).abs() <= 1e-9 * want.abs().max(1.0);
                assert!(same, "{piece} {scope:?} {name}: {got} vs {want}");
            }
        }
    }
    assert!(cut > 20, "only {cut} pieces are longer than 32 bars");
}

#[test]
fn a_corrupt_generated_file_is_an_error_row_and_tables_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let reference = reference_corpus(&cfg);
    let gen_dir = RunLayout::new(&cfg)
        .generated_dir()
        .join("task=unconditional/sampler=t1.0");
    write_midi(
        &gen_dir.join("000.mid"),
        vec![Note {
            start: 0,
            end: 480,
            pitch: 60,
            velocity: 90,
        }],
    );
    write_midi(
        &gen_dir.join("001.mid"),
        vec![
            Note {
                start: 0,
                end: 480,
                pitch: 60,
                velocity: 90,
            },
            Note {
                start: 1920,
                end: 2400,
                pitch: 64,
                velocity: 90,
            },
        ],
    );
    std::fs::write(gen_dir.join("002.mid"), b"MThd\0\0\0\x06garbage").unwrap();
    std::fs::write(gen_dir.join("notes.txt"), b"not midi").unwrap();

    let out = RunLayout::new(&cfg).metrics_dir();
    let outcome = evaluate(&cfg, &out).unwrap();
    assert_eq!((outcome.files, outcome.errors), (6, 1));
    assert!(
        out.join("pieces/task=reference/sampler=real/part-0.parquet")
            .is_file()
    );
    assert!(
        out.join("pieces/task=unconditional/sampler=t1.0/part-0.parquet")
            .is_file()
    );
    assert!(out.join("summary.parquet").is_file());
    let rows = read_pieces(&out).unwrap();
    let bad = rows.iter().find(|r| r.piece == "002").unwrap();
    assert!(
        bad.metrics
            .as_ref()
            .unwrap_err()
            .contains("not a valid MIDI"),
        "{:?}",
        bad.metrics
    );
    let one_bar = rows
        .iter()
        .find(|r| r.piece == "000")
        .unwrap()
        .metrics
        .as_ref()
        .unwrap();
    assert!(one_bar[Gs].is_nan());
    let two_bars = rows
        .iter()
        .find(|r| r.piece == "001")
        .unwrap()
        .metrics
        .as_ref()
        .unwrap();
    assert_eq!((two_bars[NBars], two_bars[Gs]), (2.0, 1.0));
    // The real test-split songs are the reference rows, named by song id; the train song is not.
    let mut real: Vec<_> = rows
        .iter()
        .filter(|r| r.group == Group::reference() && r.scope == Scope::Piece)
        .collect();
    real.sort_by(|a, b| a.piece.cmp(&b.piece));
    assert_eq!(real.len(), 2);
    for (row, (id, notes)) in real.iter().zip(&reference) {
        assert_eq!(&row.piece, id);
        let m = row.metrics.as_ref().unwrap();
        assert_eq!(m[Gs], brute::gs(notes));
        assert_eq!(m[H4], brute::h(notes, 4));
    }
    let names: Vec<(&str, Scope)> = outcome
        .summary
        .iter()
        .map(|s| (s.group.task.as_str(), s.scope))
        .collect();
    assert_eq!(
        names,
        [
            ("reference", Scope::Excerpt),
            ("reference", Scope::Piece),
            ("reference", Scope::Excerpt),
            ("unconditional", Scope::Excerpt)
        ]
    );
    // The training song is the real-music row, compared like a generated one.
    assert_eq!(outcome.summary[2].group, Group::real_train());
    assert_eq!(outcome.summary[2].n_pieces, 1);
    let s = &outcome.summary[3];
    assert_eq!(s.bars, Some(32));
    assert_eq!((s.n_pieces, s.n_errors), (3, 1));
    assert!(s.rank.is_some() && s.distance.is_some());
    assert_eq!(
        s.metric(Gs).unwrap().mean,
        Some(1.0),
        "GS mean leaves the NaN of the one-bar piece out"
    );
}

#[test]
fn external_folders_live_beside_the_run_rows() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    reference_corpus(&cfg);
    let gen_dir = RunLayout::new(&cfg)
        .generated_dir()
        .join("task=continuation/sampler=greedy");
    write_midi(
        &gen_dir.join("000.mid"),
        vec![Note {
            start: 0,
            end: 480,
            pitch: 60,
            velocity: 90,
        }],
    );
    let ext = dir.path().join("ext");
    write_midi(
        &ext.join("a.MID"),
        vec![Note {
            start: 0,
            end: 480,
            pitch: 62,
            velocity: 90,
        }],
    );
    let out = RunLayout::new(&cfg).metrics_dir();

    evaluate(&cfg, &out).unwrap();
    evaluate_dir(&out, &ext, "mine", &scoring()).unwrap();
    let groups = |rows: &[cadenza::metrics::ScoredPiece]| {
        let mut g: Vec<String> = rows
            .iter()
            .filter(|r| r.group.task != "reference" && r.scope == Scope::Piece)
            .map(|r| format!("{}/{}/{}", r.group.task, r.group.sampler, r.piece))
            .collect();
        g.sort();
        g
    };
    assert_eq!(
        groups(&read_pieces(&out).unwrap()),
        ["continuation/greedy/000", "external/mine/a"]
    );
    // Scoring the folder again replaces its partition instead of adding to it.
    write_midi(
        &ext.join("b.mid"),
        vec![Note {
            start: 0,
            end: 480,
            pitch: 62,
            velocity: 90,
        }],
    );
    let outcome = evaluate_dir(&out, &ext, "mine", &scoring()).unwrap();
    assert_eq!(
        outcome.summary.len(),
        6,
        "reference and external/mine on 32 bars and whole, reference/train, continuation/greedy"
    );
    assert_eq!(
        groups(&read_pieces(&out).unwrap()),
        [
            "continuation/greedy/000",
            "external/mine/a",
            "external/mine/b"
        ]
    );
    // A stage rerun keeps the external rows.
    evaluate(&cfg, &out).unwrap();
    assert_eq!(groups(&read_pieces(&out).unwrap()).len(), 3);
    // Bad labels and empty folders are refused with a reason.
    assert!(
        format!(
            "{:#}",
            evaluate_dir(&out, &ext, "a/b", &scoring()).unwrap_err()
        )
        .contains("label")
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(
        format!(
            "{:#}",
            evaluate_dir(&out, &empty, "x", &scoring()).unwrap_err()
        )
        .contains("no .mid")
    );
}
