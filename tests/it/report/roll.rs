//! Piano rolls: the notes of a hand-made piece are drawn where they belong, relative to the bar
//! lines and to each other, with the prompt/continuation boundary on its bar line.

use cadenza::midi::Note;
use cadenza::report::roll::{Roll, render};

/// Attribute `name` of an element's text (`<rect x="…" …/>`).
fn attr(el: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = el.find(&key)? + key.len();
    let j = el[i..].find('"')? + i;
    Some(el[i..j].to_string())
}

fn num(el: &str, name: &str) -> f64 {
    attr(el, name).unwrap().parse().unwrap()
}

/// The elements `<tag …>` with class `class`.
fn elements<'a>(svg: &'a str, tag: &str, class: &str) -> Vec<&'a str> {
    svg.split(&format!("<{tag} "))
        .skip(1)
        .map(|s| &s[..s.find('>').unwrap()])
        .filter(|s| attr(&format!(" {s}"), "class").as_deref() == Some(class))
        .collect()
}

/// Bar line x positions by bar number.
fn bar_lines(svg: &str) -> Vec<f64> {
    let mut v: Vec<(u32, f64)> = elements(svg, "line", "bar")
        .iter()
        .map(|l| {
            let l = format!(" {l}");
            assert_eq!(num(&l, "x1"), num(&l, "x2"), "bar lines are vertical");
            (
                attr(&l, "data-bar").unwrap().parse().unwrap(),
                num(&l, "x1"),
            )
        })
        .collect();
    v.sort_by_key(|p| p.0);
    assert!(v.iter().enumerate().all(|(i, p)| p.0 == i as u32));
    v.into_iter().map(|p| p.1).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn hand_made_notes_are_where_they_belong() {
    let bar = 1920; // 4 beats at 480 ticks
    let notes = [
        Note {
            start: 0,
            end: 480,
            pitch: 60,
            velocity: 90,
        }, // bar 1, beat 1
        Note {
            start: bar + 960,
            end: bar + 1200,
            pitch: 67,
            velocity: 70,
        }, // bar 2, beat 3
        Note {
            start: 3 * bar + 1440,
            end: 4 * bar + 480,
            pitch: 48,
            velocity: 50,
        }, // bar 4, beat 4, into bar 5
    ];
    let (svg, info) = render(&Roll {
        notes: &notes,
        boundary_bar: Some(2),
        min_bars: 0,
    });
    assert_eq!(info.notes_drawn, 3);
    assert_eq!(info.bars_drawn, 5, "the last note ends in bar 5");
    let bars = bar_lines(&svg);
    assert_eq!(bars.len(), 6);
    assert!(close(bars[0], 0.0));
    let bar_w = bars[1] - bars[0];
    assert!(
        bar_w > 0.0 && bars.windows(2).all(|w| close(w[1] - w[0], bar_w)),
        "evenly spaced"
    );

    let rects = elements(&svg, "rect", "note");
    assert_eq!(rects.len(), 3);
    let (vb_w, vb_h) = {
        let vb = attr(&svg, "viewBox").unwrap();
        let v: Vec<f64> = vb.split(' ').map(|x| x.parse().unwrap()).collect();
        (v[2], v[3])
    };
    assert!(close(vb_w, bars[5]));
    let mut y_of = std::collections::BTreeMap::new();
    let mut height = None;
    for n in &notes {
        let r = rects
            .iter()
            .map(|r| format!(" {r}"))
            .find(|r| attr(r, "data-start") == Some(n.start.to_string()))
            .expect("a rect per note");
        assert_eq!(attr(&r, "data-pitch"), Some(n.pitch.to_string()));
        assert_eq!(attr(&r, "data-end"), Some(n.end.to_string()));
        // x: its bar line plus the fraction of the bar elapsed; width: its duration in bars.
        let b = (n.start / bar) as usize;
        let frac = (n.start % bar) as f64 / bar as f64;
        assert!(close(num(&r, "x"), bars[b] + frac * bar_w), "x of {n:?}");
        let dur = (n.end - n.start) as f64 / bar as f64;
        assert!(close(num(&r, "width"), dur * bar_w), "width of {n:?}");
        let (y, h) = (num(&r, "y"), num(&r, "height"));
        assert!(y >= 0.0 && y + h <= vb_h, "inside the picture");
        assert!(height.is_none_or(|old| close(old, h)), "one row height");
        height = Some(h);
        y_of.insert(n.pitch, y);
    }
    // Higher pitch is higher up, one row per semitone.
    let h = height.unwrap();
    assert!(close(y_of[&60] - y_of[&67], 7.0 * h));
    assert!(close(y_of[&48] - y_of[&60], 12.0 * h));

    // The prompt/continuation boundary sits on bar line 2, the prompt shaded up to it.
    let boundary = elements(&svg, "line", "boundary");
    assert_eq!(boundary.len(), 1);
    let boundary = format!(" {}", boundary[0]);
    assert!(close(num(&boundary, "x1"), bars[2]));
    let prompt = format!(" {}", elements(&svg, "rect", "prompt")[0]);
    assert!(close(num(&prompt, "x"), 0.0) && close(num(&prompt, "width"), bars[2]));

    // No boundary without a prompt.
    let (svg, _) = render(&Roll {
        notes: &notes,
        boundary_bar: None,
        min_bars: 0,
    });
    assert!(elements(&svg, "line", "boundary").is_empty());
}

#[test]
fn page_rolls_hold_every_note_of_their_midi() {
    let run = super::fixture::Run::new();
    run.write_report(12).unwrap();
    let midi = run.partition("continuation", "greedy").join("000.mid");
    let song = cadenza::midi::read_file(&midi).unwrap();
    let svg = std::fs::read_to_string(run.report_dir().join("rolls/continuation/greedy/000.svg"))
        .unwrap();
    let mut drawn: Vec<(u8, u32, u32)> = elements(&svg, "rect", "note")
        .iter()
        .map(|r| {
            let r = format!(" {r}");
            let n = |k| attr(&r, k).unwrap().parse::<u32>().unwrap();
            (n("data-pitch") as u8, n("data-start"), n("data-end"))
        })
        .collect();
    let mut want: Vec<(u8, u32, u32)> = song
        .notes
        .iter()
        .map(|n| (n.pitch, n.start, n.end))
        .collect();
    drawn.sort();
    want.sort();
    assert_eq!(drawn, want);
    let boundary = format!(" {}", elements(&svg, "line", "boundary")[0]);
    assert_eq!(
        attr(&boundary, "data-bar"),
        Some(super::fixture::START_BAR.to_string())
    );
    // Unconditional pieces have no boundary.
    let svg = std::fs::read_to_string(run.report_dir().join("rolls/unconditional/t1.0_k8/000.svg"))
        .unwrap();
    assert!(elements(&svg, "line", "boundary").is_empty());
}
