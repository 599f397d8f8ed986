//! The artifact store: layout, samples.parquet, audio files, skip when unchanged, regenerate one changed
//! sampler alone, remove partitions no longer configured.

use cadenza::audio::AudioConfig;
use cadenza::generate::store::{Fingerprinted, GenerateSummary, StoreSpec, write_store};
use cadenza::generate::unigram::Unigram;
use cadenza::generate::{GenerateConfig, SamplerConfig, Task};
use cadenza::model::{CpuBackend, KvDecoder, NextToken, TransformerXlConfig, Window};
use cadenza::remi::Vocab;
use cadenza::samples::{FINGERPRINT_FILE, SAMPLES_FILE, partition_dir, read_samples};
use std::path::Path;

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

/// The store of `g` under `root` from `model`, whose pieces' fingerprint is `fp`; no baseline.
fn store<M: NextToken>(
    model: &M,
    fp: &str,
    g: &GenerateConfig,
    audio: &AudioConfig,
    root: &Path,
) -> GenerateSummary {
    let spec = StoreSpec {
        generate: g,
        audio,
        run_seed: 7,
        prompts: &[],
        root,
        force: false,
    };
    let model = Fingerprinted {
        model,
        fingerprint: fp,
    };
    write_store(&spec, model, None::<Fingerprinted<Unigram>>).unwrap()
}

#[test]
fn store_layout_skip_regenerate_and_remove() {
    let model = crate::support::model::<CpuBackend>(&TransformerXlConfig::tiny(Vocab::SIZE), 3);
    let cached = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut gcfg = GenerateConfig {
        tasks: vec![Task::Unconditional],
        pieces_per_sampler: 3,
        unconditional_bars: 2,
        max_tokens: 120,
        samplers: vec![
            SamplerConfig::new("a", 1.0, 20, 1.0),
            SamplerConfig::new("b", 0.8, 0, 0.9),
        ],
        ..Default::default()
    };
    let audio = AudioConfig {
        tail_seconds: 0.2,
        ..AudioConfig::default()
    };
    // Without the SoundFont the store is MIDI only (a listed skip of the WAV checks).
    let wav_on = crate::support::soundfont("WAVs in the store (generate::store)").is_some();

    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!(
        (s.partitions_written, s.partitions_skipped, s.pieces),
        (2, 0, 6)
    );
    for name in ["a", "b"] {
        let part = partition_dir(root, "unconditional", name);
        assert!(part.ends_with(format!("task=unconditional/sampler={name}")));
        let rows = read_samples(&part.join(SAMPLES_FILE)).unwrap();
        assert_eq!(rows.len(), 3);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.piece as usize, i);
            assert_eq!(r.n_bars, 2);
            assert_eq!(r.start_bar, 0);
            assert_eq!(r.prompt_source, None);
            assert_eq!(r.n_tokens as usize, r.tokens.len());
            assert!(r.seconds > 0.0);
            assert_eq!(r.has_audio, wav_on);
            assert!(part.join(format!("{i:03}.mid")).is_file());
            assert_eq!(part.join(format!("{i:03}.flac")).is_file(), wav_on);
        }
    }

    // Unchanged: a no-op.
    let fp_b = partition_dir(root, "unconditional", "b").join(FINGERPRINT_FILE);
    let before = mtime(&fp_b);
    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!((s.partitions_written, s.partitions_skipped), (0, 2));

    // One sampler changed: that partition alone.
    gcfg.samplers[0].temperature = 1.3;
    let fp_a_old =
        std::fs::read_to_string(partition_dir(root, "unconditional", "a").join(FINGERPRINT_FILE))
            .unwrap();
    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!((s.partitions_written, s.partitions_skipped), (1, 1));
    let fp_a_new =
        std::fs::read_to_string(partition_dir(root, "unconditional", "a").join(FINGERPRINT_FILE))
            .unwrap();
    assert_ne!(fp_a_old, fp_a_new);
    assert_eq!(before, mtime(&fp_b), "partition b untouched");

    // Another checkpoint: everything regenerates.
    let s = store(&cached, "ckpt-2", &gcfg, &audio, root);
    assert_eq!(s.partitions_written, 2);

    // Sampler removed from the config: its partition goes.
    gcfg.samplers.truncate(1);
    let s = store(&cached, "ckpt-2", &gcfg, &audio, root);
    assert_eq!(
        s.partitions_removed,
        vec!["unconditional/sampler=b".to_string()]
    );
    assert!(!partition_dir(root, "unconditional", "b").exists());
    assert!(
        partition_dir(root, "unconditional", "a")
            .join(SAMPLES_FILE)
            .is_file()
    );
    // No temporary folders left behind.
    let leftovers: Vec<_> = std::fs::read_dir(root.join("task=unconditional"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());
}

/// A store written without a SoundFont becomes stale when one appears: the rerun renders the
/// audio of the stored pieces and samples nothing (tokens and MIDI bytes unchanged); other
/// audio settings do the same.
#[test]
fn a_soundfont_installed_later_renders_the_audio_only() {
    let Some(font) = crate::support::soundfont("audio rendered again (generate::store)") else {
        return;
    };
    let model = crate::support::model::<CpuBackend>(&TransformerXlConfig::tiny(Vocab::SIZE), 4);
    let cached = KvDecoder::new(&model, 16, Window::Memory).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let gcfg = GenerateConfig {
        tasks: vec![Task::Unconditional],
        pieces_per_sampler: 2,
        unconditional_bars: 2,
        max_tokens: 120,
        samplers: vec![SamplerConfig::new("a", 1.0, 20, 1.0)],
        ..Default::default()
    };
    let mut audio = AudioConfig {
        soundfont: root.join("later.sf2"),
        tail_seconds: 0.2,
        ..AudioConfig::default()
    };
    let part = partition_dir(root, "unconditional", "a");
    let snapshot = || {
        let rows = read_samples(&part.join(SAMPLES_FILE)).unwrap();
        let midi: Vec<Vec<u8>> = (0..2)
            .map(|i| std::fs::read(part.join(format!("{i:03}.mid"))).unwrap())
            .collect();
        (rows, midi)
    };
    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!((s.partitions_written, s.audio_files), (1, 0));
    let (rows, midi) = snapshot();
    assert!(rows.iter().all(|r| !r.has_audio));
    // Unchanged and still without a SoundFont: fresh.
    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!(s.partitions_skipped, 1);

    // The SoundFont appears (at the configured path).
    std::os::unix::fs::symlink(&font, &audio.soundfont).unwrap();
    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!(
        (
            s.partitions_written,
            s.partitions_rerendered,
            s.tokens,
            s.audio_files
        ),
        (0, 1, 0, 2),
        "audio only"
    );
    let (rows2, midi2) = snapshot();
    assert_eq!(midi, midi2, "MIDI bytes unchanged");
    for (a, b) in rows.iter().zip(&rows2) {
        assert_eq!((&a.tokens, a.seed, a.n_bars), (&b.tokens, b.seed, b.n_bars));
        assert!(b.has_audio && part.join(format!("{:03}.flac", b.piece)).is_file());
    }
    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!(s.partitions_skipped, 1, "then fresh");
    // Another audio setting: rendered again, not sampled.
    audio.format = cadenza::audio::AudioFormat::Wav;
    let s = store(&cached, "ckpt-1", &gcfg, &audio, root);
    assert_eq!((s.partitions_written, s.partitions_rerendered), (0, 1));
    assert_eq!(snapshot().1, midi);
    assert!(part.join("000.wav").is_file() && !part.join("000.flac").exists());
}
