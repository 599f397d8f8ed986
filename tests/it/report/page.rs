//! The listening page of a tiny hand-made run: complete (a card per generated piece, the
//! reference songs), every link resolves (also after moving the run folder), pieces without
//! audio say so, and the stage is fresh when nothing changed.

use std::path::PathBuf;
use std::process::Output;

use super::fixture::{PIECES, REFERENCE, Run, START_BAR};
use super::html::{assert_links_resolve, assert_well_formed, attr, cards};
use crate::support::{cli, text};

#[test]
fn page_is_complete_and_links_resolve() {
    let run = Run::new();
    let stats = run.write_report(12).unwrap();
    assert_eq!(stats.cards, PIECES.len());
    assert_eq!(stats.with_wav, 2);
    assert_eq!(stats.reference, REFERENCE.len());
    let html = std::fs::read_to_string(run.report_dir().join("index.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_well_formed(&html);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );

    // One card per generated piece, each with its MIDI link and roll; the WAV only where a
    // file exists, a note otherwise.
    let all = cards(&html);
    let generated: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| !c.contains("class=\"card ref\""))
        .collect();
    assert_eq!(generated.len(), PIECES.len());
    for (task, sampler, stem, wav) in PIECES {
        let card = generated
            .iter()
            .find(|c| {
                attr(c, "data-task").as_deref() == Some(task)
                    && attr(c, "data-sampler").as_deref() == Some(sampler)
                    && attr(c, "data-piece").as_deref() == Some(stem)
            })
            .unwrap_or_else(|| panic!("no card for {task}/{sampler}/{stem}"));
        assert!(card.contains(&format!("{stem}.mid\"")), "{card}");
        assert!(card.contains("class=\"roll\""));
        assert_eq!(card.contains("<audio"), wav, "{card}");
        assert_eq!(card.contains("class=\"no-wav\""), !wav, "{card}");
        if task == "continuation" {
            assert!(card.contains(&format!("continuation from bar {}", START_BAR + 1)));
        }
    }
    // A continuation plays its prompt, its own bars and the real continuation side by side:
    // the split at bar START_BAR, 120 BPM = 2 s a bar.
    let card = |task: &str, sampler: &str, stem: &str| {
        generated
            .iter()
            .find(|c| {
                attr(c, "data-task").as_deref() == Some(task)
                    && attr(c, "data-sampler").as_deref() == Some(sampler)
                    && attr(c, "data-piece").as_deref() == Some(stem)
            })
            .copied()
            .unwrap()
    };
    let t = format!("{:.3}", 2.0 * START_BAR as f64);
    let srcs: Vec<String> = card("continuation", "greedy", "000")
        .split("<audio ")
        .skip(1)
        .map(|a| attr(&format!(" {a}"), "src").unwrap())
        .collect();
    let own = "../generated/task=continuation/sampler=greedy/000.wav";
    let real = "../generated/task=continuation/sampler=real/000.wav";
    assert_eq!(
        srcs,
        [
            format!("{own}#t=0,{t}"),
            format!("{own}#t={t}"),
            format!("{real}#t={t}")
        ]
    );
    // Without its own WAV, a continuation still links the real continuation's MIDI.
    let no_wav = card("continuation", "greedy", "001");
    assert!(!no_wav.contains("<audio") && no_wav.contains("real continuation MIDI"));
    assert!(no_wav.contains("sampler=real/000.mid"));
    // The piece whose scoring failed says so.
    assert!(html.contains("Not scored: bad file"));
    // The reference songs, copied into report/.
    let refs: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| c.contains("class=\"card ref\""))
        .collect();
    assert_eq!(refs.len(), REFERENCE.len());
    for (id, _) in REFERENCE {
        assert!(
            run.report_dir()
                .join(format!("reference/{id}.mid"))
                .is_file()
        );
    }
    // The run facts from the train manifest.
    for needle in [
        "train.steps",
        ">100<",
        "train.valid_loss",
        ">2.75<",
        "step-00000100",
        "model.n_layer",
        "model.d_model",
        "train.model.n_layers",
    ] {
        assert!(html.contains(needle), "run section lacks {needle}");
    }
    assert_links_resolve(&run.report_dir());

    // The run folder moves as a whole: links still resolve from the new place.
    let moved = run.root().join("elsewhere");
    std::fs::rename(run.run_dir(), &moved).unwrap();
    assert_links_resolve(&moved.join("report"));
}

#[test]
fn reference_songs_get_audio_excerpts_with_a_soundfont() {
    let Some(sf2) = crate::support::soundfont("reference audio excerpts (report::page)") else {
        return;
    };
    let run = Run::new();
    run.use_soundfont(&sf2);
    let stats = run.write_report(12).unwrap();
    assert_eq!(
        stats.with_wav, 2,
        "generated pieces: only the WAVs that generate wrote"
    );
    let html = std::fs::read_to_string(run.report_dir().join("index.html")).unwrap();
    let refs: Vec<&str> = cards(&html)
        .into_iter()
        .filter(|c| c.contains("class=\"card ref\""))
        .collect();
    let want = REFERENCE.len().min(cadenza::report::REFERENCE_AUDIO);
    for (i, card) in refs.iter().enumerate() {
        assert_eq!(card.contains("<audio"), i < want, "{card}");
    }
    for (id, _) in REFERENCE.iter().take(want) {
        // FLAC, the default audio.format: some seconds of 16-bit stereo 44.1 kHz audio.
        let flac = std::fs::read(run.report_dir().join(format!("reference/{id}.flac"))).unwrap();
        let mut reader = claxon::FlacReader::new(std::io::Cursor::new(&flac)).unwrap();
        assert_eq!(reader.streaminfo().sample_rate, 44_100);
        assert!(
            reader.samples().count() > 44_100 * 2,
            "{} bytes",
            flac.len()
        );
    }
    assert_links_resolve(&run.report_dir());
}

fn pipeline(run: &Run, args: &[&str]) -> Output {
    cli(&run.config_path(), args, &[])
}

#[test]
fn report_stage_runs_then_is_fresh_then_stale_on_new_metrics() {
    let run = Run::new();
    let index: PathBuf = run.report_dir().join("index.html");
    let o = pipeline(&run, &["run", "report"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&index.display().to_string()),
        "prints the page's path: {}",
        text(&o)
    );
    assert!(index.is_file());
    assert!(run.report_dir().join("manifest.json").is_file());

    let o = pipeline(&run, &["run", "report"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("fresh, skipped"), "{}", text(&o));
    // Fresh or not, the last line says where the page is.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some(format!("listening report: {}", index.display()).as_str())
    );

    // evaluate ran again (new fingerprint): the page is stale and is rewritten.
    let metrics = run.run_dir().join("metrics");
    let mut m = cadenza::pipeline::manifest::Manifest::read(&metrics)
        .unwrap()
        .unwrap();
    m.fingerprint = "eval-2".into();
    m.write(&metrics).unwrap();
    let o = pipeline(&run, &["status"]);
    assert!(
        text(&o).contains("input `evaluate` changed"),
        "{}",
        text(&o)
    );
    let o = pipeline(&run, &["run", "report"]);
    assert!(
        o.status.success() && !text(&o).contains("fresh, skipped"),
        "{}",
        text(&o)
    );
}

#[test]
fn report_command_prints_the_summary_and_writes_the_page() {
    let run = Run::new();
    let o = pipeline(&run, &["report"]);
    assert!(o.status.success(), "{}", text(&o));
    let index = run.report_dir().join("index.html");
    assert!(index.is_file());
    assert!(
        text(&o).contains(&format!("listening report: {}", index.display())),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("continuation/greedy"),
        "the summary table: {}",
        text(&o)
    );
}

#[test]
fn report_stage_names_the_missing_upstream_stage() {
    let run = Run::new();
    std::fs::remove_file(run.run_dir().join("metrics/manifest.json")).unwrap();
    let o = pipeline(&run, &["run", "report"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("pipeline run evaluate"), "{}", text(&o));
}
