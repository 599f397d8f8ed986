//! `train.memory_across_songs = false`: attention stops at each song's Bos, and a resumed run
//! still matches a straight one (the song positions are part of the checkpoint).

use cadenza::model::CpuTrainBackend;
use cadenza::train::trainer::train;

use super::trainer::{params, songs, spec};

#[test]
fn training_within_songs_resumes_exactly_and_differs_from_across_songs() {
    let _g = crate::support::SEEDED
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (tr, va) = (songs(6, 1), songs(2, 2));
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| tmp.path().join(name);
    let run = |name: &str, across: bool, session: Option<usize>| {
        let mut s = spec(&tr, &va, &dir(name), 10);
        s.train.memory_across_songs = across;
        s.session_steps = session;
        train::<CpuTrainBackend>(&s, &Default::default()).unwrap()
    };
    let straight = run("straight", false, None);
    let first = run("resumed", false, Some(5));
    assert_eq!(first.step, 5);
    let second = run("resumed", false, None);
    assert_eq!((second.step, second.resumed_from), (10, Some(5)));
    assert_eq!(straight.valid_loss, second.valid_loss);
    assert_eq!(params(&dir("straight")), params(&dir("resumed")));

    // The same run with the memory across songs: the songs (22 to 51 tokens, segments of 8)
    // start inside segments, so what the model attends to differs.
    let across = run("across", true, None);
    assert_ne!(across.valid_loss, straight.valid_loss);
    assert_ne!(params(&dir("across")), params(&dir("straight")));
}
