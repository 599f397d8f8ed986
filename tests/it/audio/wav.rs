//! WAV rendering: RIFF header, duration implied by the tempo map, not silent.

use cadenza::audio::{Audio, AudioConfig, AudioFormat, Renderer, song_seconds, wav_bytes};
use cadenza::midi::{Note, Song, Tempo};

/// The interleaved 16-bit samples after the canonical 44-byte header.
fn wav_samples(b: &[u8]) -> Vec<i16> {
    b[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// A chord every beat for `beats` beats, with the given tempo map.
fn song(beats: u32, tempos: Vec<Tempo>) -> Song {
    let mut notes = Vec::new();
    for b in 0..beats {
        for p in [60u8, 64, 67] {
            notes.push(Note {
                start: b * 480,
                end: b * 480 + 400,
                pitch: p,
                velocity: 90,
            });
        }
    }
    Song {
        notes,
        tempos,
        ..Song::default()
    }
}

fn renderer(tail: f64) -> Option<Renderer> {
    crate::support::soundfont("WAV rendering (audio::wav)")?;
    let cfg = AudioConfig {
        tail_seconds: tail,
        ..AudioConfig::default()
    };
    Some(Renderer::load(&cfg).expect("SoundFont loads"))
}

#[test]
fn header_is_canonical_pcm16_stereo() {
    let audio = Audio {
        sample_rate: 44_100,
        left: vec![0.5, -1.0, 2.0],
        right: vec![0.0, 0.25, -0.5],
    };
    let b = wav_bytes(&audio);
    assert_eq!(b.len(), 44 + 3 * 4);
    assert_eq!(&b[0..4], b"RIFF");
    assert_eq!(u32_at(&b, 4) as usize, b.len() - 8);
    assert_eq!(&b[8..16], b"WAVEfmt ");
    assert_eq!(u32_at(&b, 16), 16);
    assert_eq!(u16_at(&b, 20), 1, "PCM");
    assert_eq!(u16_at(&b, 22), 2, "stereo");
    assert_eq!(u32_at(&b, 24), 44_100);
    assert_eq!(u32_at(&b, 28), 44_100 * 4, "byte rate");
    assert_eq!(u16_at(&b, 32), 4, "block align");
    assert_eq!(u16_at(&b, 34), 16, "bits");
    assert_eq!(&b[36..40], b"data");
    assert_eq!(u32_at(&b, 40), 12);
    // Interleaved L, R; out-of-range samples clip instead of wrapping.
    let s = |i: usize| i16::from_le_bytes([b[44 + 2 * i], b[45 + 2 * i]]);
    assert_eq!((s(0), s(1)), (16384, 0));
    assert_eq!((s(2), s(4)), (-32767, 32767));
}

#[test]
fn duration_follows_the_tempo_map() {
    // 8 beats at 60 BPM then 8 beats at 120 BPM: 8 s + 4 s (last note ends 400 ticks after its onset).
    let s = song(
        16,
        vec![
            Tempo { tick: 0, bpm: 60.0 },
            Tempo {
                tick: 8 * 480,
                bpm: 120.0,
            },
        ],
    );
    let implied = 8.0 + 7.0 * 0.5 + 400.0 / 480.0 * 0.5;
    assert!(
        (song_seconds(&s) - implied).abs() < 1e-9,
        "{} vs {implied}",
        song_seconds(&s)
    );
    // No tempo events: 120 BPM.
    let s = song(4, Vec::new());
    assert!((song_seconds(&s) - (1.5 + 400.0 / 480.0 * 0.5)).abs() < 1e-9);
}

#[test]
fn rendered_wav_has_the_tempo_duration_and_sound() {
    let Some(r) = renderer(0.5) else { return };
    let beats = 16;
    let s = song(
        beats,
        vec![Tempo {
            tick: 0,
            bpm: 100.0,
        }],
    );
    let audio = r.render(&s).expect("renders");
    let implied = beats as f64 * 60.0 / 100.0;
    assert!(
        (audio.seconds() - implied).abs() <= 1.0,
        "wav {} s, tempo implies {implied} s",
        audio.seconds()
    );
    assert!(audio.rms() > 1e-3, "silent: rms {}", audio.rms());

    let dir = tempfile::tempdir().unwrap();
    let path =
        cadenza::audio::write_audio(&dir.path().join("x"), &audio, AudioFormat::Wav).unwrap();
    assert!(path.ends_with("x.wav"));
    let b = std::fs::read(&path).unwrap();
    assert_eq!(&b[0..4], b"RIFF");
    assert_eq!(&b[8..12], b"WAVE");
    assert_eq!(u32_at(&b, 24), 44_100);
    let frames = u32_at(&b, 40) as f64 / 4.0;
    assert!((frames / 44_100.0 - implied).abs() <= 1.0);
    // The second half (music still playing) is not silent either.
    let half = audio.left.len() / 2;
    let rms2 = (audio.left[half..]
        .iter()
        .map(|x| (*x as f64).powi(2))
        .sum::<f64>()
        / half as f64)
        .sqrt();
    assert!(rms2 > 1e-4, "second half silent: {rms2}");
}

#[test]
fn missing_soundfont_is_midi_only_unless_required() {
    let mut cfg = AudioConfig {
        soundfont: "/nonexistent/x.sf2".into(),
        ..AudioConfig::default()
    };
    assert!(cfg.renderer().unwrap().is_none());
    cfg.required = true;
    let err = cfg
        .renderer()
        .err()
        .expect("required makes it an error")
        .to_string();
    assert!(
        err.contains("x.sf2") && err.contains("fluid-soundfont-gm"),
        "{err}"
    );
}

/// Every rendered piece peaks at `audio.peak_dbfs` (default −1 dBFS), soft and loud pieces
/// alike, and nothing clips in the 16-bit file.
#[test]
fn rendered_pieces_peak_at_the_configured_level_without_clipping() {
    let Some(r) = renderer(0.2) else { return };
    let target = 10f32.powf(-1.0 / 20.0);
    for velocity in [20u8, 70, 127] {
        let mut s = song(
            8,
            vec![Tempo {
                tick: 0,
                bpm: 120.0,
            }],
        );
        for n in &mut s.notes {
            n.velocity = velocity;
        }
        let audio = r.render(&s).unwrap();
        assert!(
            (audio.peak() - target).abs() < 1e-5,
            "velocity {velocity}: peak {}",
            audio.peak()
        );
        let max = wav_samples(&wav_bytes(&audio))
            .into_iter()
            .map(i16::unsigned_abs)
            .max()
            .unwrap();
        assert!(max < i16::MAX as u16, "no sample at full scale: {max}");
        assert!(
            (max as f32 / i16::MAX as f32 - target).abs() < 1e-3,
            "{max}"
        );
        assert!(audio.rms() > 0.02, "audible: rms {}", audio.rms());
    }
    let mut quiet = AudioConfig::default();
    quiet.peak_dbfs = -20.0;
    let q = Renderer::load(&quiet)
        .unwrap()
        .render(&song(4, vec![]))
        .unwrap();
    assert!((q.peak() - 0.1).abs() < 1e-5);
    quiet.peak_dbfs = 3.0;
    assert!(
        quiet
            .validate()
            .unwrap_err()
            .to_string()
            .contains("audio.peak_dbfs")
    );
}

/// Without a SoundFont and with `audio.required = true`, `pipeline run all` stops before any
/// stage, with one message saying what to install, which key to set, and how to go on without
/// sound.
#[test]
fn a_required_soundfont_that_is_missing_stops_the_run_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nname = \"t\"\nartifacts_dir = \"{0}/artifacts\"\ntokens_dir = \"{0}/tokens\"\n\
             [audio]\nsoundfont = \"{0}/none.sf2\"\nrequired = true\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let o = crate::support::cli(&config, &["run", "all"], &[]);
    let text = crate::support::text(&o);
    assert!(!o.status.success(), "{text}");
    for needle in [
        "none.sf2",
        "fluid-soundfont-gm",
        "audio.soundfont",
        "audio.required = false",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert!(
        !dir.path().join("tokens").exists() && !dir.path().join("artifacts").exists(),
        "no work started"
    );
}

/// A SoundFont that is there but no SoundFont (empty, truncated, or with a broken inside) is
/// refused as a missing one is, before any work, naming the file and what is wrong with it.
#[test]
fn a_required_soundfont_that_is_damaged_stops_the_run_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let font = dir.path().join("gm.sf2");
    let mut riff = b"RIFF\x20\x00\x00\x00sfbk".to_vec();
    riff.extend([0xAB; 32]); // the declared size, full of nothing a SoundFont holds
    let mut short = b"RIFF\x00\x10\x00\x00sfbk".to_vec();
    short.extend([0; 100]);
    let cases: [(&[u8], &str); 4] = [
        (b"", "is not a SoundFont (0 bytes)"),
        (b"just text, not RIFF", "no RIFF sfbk header"),
        (&short, "is truncated (112 of 4104 bytes)"),
        (&riff, "cannot read SoundFont"),
    ];
    for (bytes, why) in cases {
        std::fs::write(&font, bytes).unwrap();
        let cfg = AudioConfig {
            soundfont: font.clone(),
            required: true,
            ..AudioConfig::default()
        };
        let err = format!("{:#}", cfg.check_available().unwrap_err());
        assert!(err.contains("gm.sf2") && err.contains(why), "{why}: {err}");
        // Not required: MIDI only, with the same reason.
        let optional = AudioConfig {
            required: false,
            ..cfg
        };
        assert!(optional.check_available().is_ok());
        if !why.starts_with("cannot read") {
            assert!(optional.renderer().unwrap().is_none(), "{why}");
        }
    }
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nname = \"t\"\nartifacts_dir = \"{0}/artifacts\"\ntokens_dir = \"{0}/tokens\"\n\
             [audio]\nsoundfont = \"{1}\"\nrequired = true\n",
            dir.path().display(),
            font.display()
        ),
    )
    .unwrap();
    std::fs::write(&font, b"").unwrap();
    let o = crate::support::cli(&config, &["run", "all"], &[]);
    let text = crate::support::text(&o);
    assert!(
        !o.status.success() && text.contains("gm.sf2 is not a SoundFont"),
        "{text}"
    );
    assert!(!dir.path().join("tokens").exists(), "no work started");
}

/// The FLAC file decodes (claxon, an independent decoder) to exactly the samples the WAV holds,
/// in fewer bytes.
#[test]
fn flac_round_trips_the_rendered_samples_exactly() {
    let Some(r) = renderer(0.5) else { return };
    let audio = r
        .render(&song(
            16,
            vec![Tempo {
                tick: 0,
                bpm: 110.0,
            }],
        ))
        .unwrap();
    let flac = cadenza::audio::flac_bytes(&audio).unwrap();
    let wav = wav_bytes(&audio);
    let want: Vec<i32> = wav_samples(&wav).into_iter().map(i32::from).collect();
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(&flac)).unwrap();
    let info = reader.streaminfo();
    assert_eq!(
        (info.channels, info.bits_per_sample, info.sample_rate),
        (2, 16, 44_100)
    );
    let got: Vec<i32> = reader.samples().map(|s| s.unwrap()).collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "every sample equal");
    assert!(
        flac.len() < wav.len() * 3 / 4,
        "{} vs {} bytes",
        flac.len(),
        wav.len()
    );
    // And as a file, by the configured format.
    let dir = tempfile::tempdir().unwrap();
    let path = r.write(&dir.path().join("x"), &audio).unwrap();
    assert!(path.ends_with("x.flac"), "flac is the default");
    assert_eq!(std::fs::read(&path).unwrap(), flac);
}
