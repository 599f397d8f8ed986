//! A damaged or deleted output makes its stage stale, naming the file, and a rerun restores it;
//! a damaged newest checkpoint makes training resume from the one before, and generation from
//! it names the file and what to do.

use super::project::Project;
use crate::support::text;

#[test]
fn damaged_outputs_are_named_stale_and_rebuilt() {
    let p = Project::new();
    p.ok(&["run", "all"], &[]);
    let before = Project::new();
    before.ok(&["run", "all"], &[]);

    std::fs::remove_file(p.stage_dir("tokenize").join("shard-00001.parquet")).unwrap();
    let midi = p
        .stage_dir("generate")
        .join("task=unconditional/sampler=a/001.mid");
    let mut bytes = std::fs::read(&midi).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 0x01; // same size, other content
    std::fs::write(&midi, bytes).unwrap();

    let status = p.ok(&["status"], &[]);
    assert!(
        status.contains("output `shard-00001.parquet` is missing"),
        "{status}"
    );
    assert!(
        status.contains("output `task=unconditional/sampler=a/001.mid` changed"),
        "{status}"
    );
    p.ok(&["run", "all"], &[]);
    for stage in ["tokenize", "generate"] {
        assert_eq!(p.differences(&before, stage), Vec::<String>::new());
    }
    assert!(p.ok(&["run", "all"], &[]).contains("nothing to do"));

    // The listening page says when the checkpoint it shows is damaged, and which file.
    let model = p
        .stage_dir("train")
        .join("checkpoints/step-00000006/model.bin");
    let mut bytes = std::fs::read(&model).unwrap();
    bytes[100] ^= 0xFF;
    std::fs::write(&model, bytes).unwrap();
    p.ok(&["run", "report", "--force"], &[]);
    let page = std::fs::read_to_string(p.path("artifacts/p/report/index.html")).unwrap();
    assert!(
        page.contains("is damaged") && page.contains("model.bin"),
        "no note on the page"
    );
}

#[test]
fn a_damaged_newest_checkpoint_falls_back_to_the_one_before() {
    let reference = Project::new();
    reference.ok(&["run", "tokenize"], &[]);
    reference.ok(&["run", "train"], &[]);
    let p = Project::new();
    p.ok(&["run", "tokenize"], &[]);
    p.ok(&["run", "train"], &[]);
    let newest = p.stage_dir("train").join("checkpoints/step-00000006");
    let model = newest.join("model.bin");
    let mut bytes = std::fs::read(&model).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&model, &bytes).unwrap();

    // Generation from it says which file is damaged and what to do.
    let o = p.run(
        &[
            "generate",
            "--checkpoint",
            newest.to_str().unwrap(),
            "--sampler",
            "a",
            "--out",
            "adhoc",
        ],
        &[],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("model.bin") && text(&o).contains("pipeline run train"),
        "{}",
        text(&o)
    );

    let status = p.ok(&["status"], &[]);
    assert!(status.contains("model.bin` changed"), "{status}");
    let out = p.ok(&["run", "train"], &[]);
    assert!(
        out.contains("step-00000006") && out.contains("resumed from step 4"),
        "{out}"
    );
    assert_eq!(p.trained(), reference.trained(), "the same final model");
}
