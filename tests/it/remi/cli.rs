//! `pipeline tokenize FILE` and `pipeline decode` through the binary: a MIDI file's tokens in
//! every format decode back to a file with the same tokens; bad input names the file and the
//! token.

use std::path::Path;

use cadenza::demo::demo_song;

use crate::support::{cli, text};

#[test]
fn tokenize_then_decode_gives_back_the_same_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p);
    let song = demo_song(5);
    std::fs::write(path("a.mid"), cadenza::midi::write_bytes(&song)).unwrap();
    // The tokens of the file as written (tempo survives MIDI only to the microsecond).
    let read = cadenza::midi::read_file(&path("a.mid")).unwrap();
    let expected = cadenza::remi::encode(&read).unwrap().tokens;
    let config = Path::new("unused.toml");
    let s = |p: &Path| p.to_str().unwrap().to_string();

    for format in ["names", "ids", "json"] {
        let tokens = path(&format!("a.{format}"));
        let o = cli(
            config,
            &[
                "tokenize",
                &s(&path("a.mid")),
                "--format",
                format,
                "--out",
                &s(&tokens),
            ],
            &[],
        );
        assert!(o.status.success(), "{}", text(&o));
        let written = std::fs::read_to_string(&tokens).unwrap();
        assert_eq!(
            cadenza::remi::parse_tokens(&written).unwrap(),
            expected,
            "{format}"
        );

        let back = path(&format!("back-{format}.mid"));
        let o = cli(config, &["decode", &s(&tokens), "--out", &s(&back)], &[]);
        assert!(o.status.success(), "{}", text(&o));
        let again = cadenza::midi::read_file(&back).unwrap();
        assert_eq!(
            cadenza::remi::encode(&again).unwrap().tokens,
            expected,
            "{format}"
        );
    }
    // Printed names: Bos, then one bar a line.
    let o = cli(config, &["tokenize", &s(&path("a.mid"))], &[]);
    let printed = String::from_utf8(o.stdout).unwrap();
    let bars = expected
        .iter()
        .filter(|&&t| t == cadenza::remi::BAR)
        .count();
    assert_eq!(printed.lines().count(), bars + 1, "{printed}");
    assert_eq!(printed.lines().next(), Some("Bos"));
    assert!(
        printed.lines().skip(1).all(|l| l.starts_with("Bar")),
        "{printed}"
    );

    std::fs::write(path("bad.txt"), "Bos Bar Position_0 Pitch_200 Eos").unwrap();
    let o = cli(
        config,
        &["decode", &s(&path("bad.txt")), "--out", &s(&path("x.mid"))],
        &[],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("bad.txt") && text(&o).contains("Pitch_200"),
        "{}",
        text(&o)
    );
    std::fs::write(path("cut.txt"), "Bos Bar Position_0 Pitch_60").unwrap();
    let o = cli(
        config,
        &["decode", &s(&path("cut.txt")), "--out", &s(&path("x.mid"))],
        &[],
    );
    assert!(
        !o.status.success() && text(&o).contains("cut.txt"),
        "{}",
        text(&o)
    );
    assert!(!path("x.mid").exists());

    std::fs::write(path("junk.mid"), b"MThd junk").unwrap();
    let o = cli(config, &["tokenize", &s(&path("junk.mid"))], &[]);
    assert!(
        !o.status.success() && text(&o).contains("junk.mid"),
        "{}",
        text(&o)
    );
}
