//! The page in a real browser: headless Chromium opens it from file:// with no console output
//! (the page logs nothing, so any CONSOLE line is an error, a failed load or an exception), the
//! filters in the URL hash hide the other cards, sorting reorders them, and a screenshot is
//! written to target/tmp/report_browser/screenshot.png for a person to look at; and the store's
//! FLAC files decode there to exactly the samples written.
//!
//! Without chromium the test fails under CI and is a listed skip elsewhere.

use std::path::Path;
use std::process::Command;

/// Runs headless chromium on `url` with `extra` arguments; returns (stdout, stderr).
fn browse(chrome: &Path, url: &str, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .arg("120")
        .arg(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "chromium failed on {url}:\n{stderr}");
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "console output on {url}:\n{}",
        console.join("\n")
    );
    (stdout, stderr)
}

/// (data-task, data-sampler, data-piece, hidden) of the generated cards, in DOM order.
fn cards(dom: &str) -> Vec<(String, String, String, bool)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let i = tag.find(&key)? + key.len();
        Some(tag[i..i + tag[i..].find('"')?].to_string())
    };
    dom.split("<article ")
        .skip(1)
        .map(|s| format!(" {}", &s[..s.find('>').unwrap()]))
        .filter(|t| attr(t, "class").as_deref() == Some("card"))
        .map(|t| {
            (
                attr(&t, "data-task").unwrap(),
                attr(&t, "data-sampler").unwrap(),
                attr(&t, "data-piece").unwrap(),
                t.contains(" hidden"),
            )
        })
        .collect()
}

#[test]
fn page_works_in_headless_chromium() {
    let Some(chrome) = crate::support::chromium("the report page in a browser (report::browser)")
    else {
        return;
    };
    let run = super::fixture::Run::new();
    run.write_report(12).unwrap();
    let index = run.report_dir().join("index.html");
    let url = format!("file://{}", index.display());

    // Unfiltered: every card visible.
    let (dom, _) = browse(&chrome, &url, &["--dump-dom".into()]);
    let all = cards(&dom);
    assert_eq!(all.len(), super::fixture::PIECES.len());
    assert!(all.iter().all(|c| !c.3), "{all:?}");
    assert!(
        dom.contains(&format!("{0} of {0} pieces shown", all.len())),
        "the count is shown"
    );

    // A task filter hides the other task's cards.
    let (dom, _) = browse(
        &chrome,
        &format!("{url}#task=continuation"),
        &["--dump-dom".into()],
    );
    let shown = cards(&dom);
    assert_eq!(shown.len(), all.len());
    for (task, _, _, hidden) in &shown {
        assert_eq!(*hidden, task != "continuation", "{shown:?}");
    }
    assert!(dom.contains("4 of 5 pieces shown"));

    // Task and sampler together (the sampler name has a space: URL-encoded in the hash).
    let (dom, _) = browse(
        &chrome,
        &format!("{url}#task=continuation&sampler=t1.0%20k8"),
        &["--dump-dom".into()],
    );
    let visible: Vec<_> = cards(&dom).into_iter().filter(|c| !c.3).collect();
    assert_eq!(visible.len(), 1, "{visible:?}");
    assert_eq!(
        (visible[0].0.as_str(), visible[0].1.as_str()),
        ("continuation", "t1.0 k8")
    );
    // The select boxes show the state read from the hash.
    assert!(dom.contains("1 of 5 pieces shown"));

    // Sorting by H4, descending: the scored pieces by falling H4, the one whose scoring failed
    // (no H4) last.
    let (dom, _) = browse(
        &chrome,
        &format!("{url}#sort=h4&dir=desc"),
        &["--dump-dom".into()],
    );
    let h4_of = |c: &(String, String, String, bool)| -> Option<f64> {
        let tag = dom
            .split("<article ")
            .find(|t| {
                t.contains(&format!("data-task=\"{}\"", c.0))
                    && t.contains(&format!("data-sampler=\"{}\"", c.1))
                    && t.contains(&format!("data-piece=\"{}\"", c.2))
            })
            .unwrap();
        let i = tag.find("data-h4=\"").unwrap() + 9;
        tag[i..i + tag[i..].find('"').unwrap()].parse().ok()
    };
    let sorted = cards(&dom);
    let h4: Vec<Option<f64>> = sorted.iter().map(h4_of).collect();
    let scored: Vec<f64> = h4.iter().flatten().copied().collect();
    assert_eq!(scored.len() + 1, h4.len(), "one unscored piece: {h4:?}");
    assert_eq!(
        h4.last(),
        Some(&None),
        "the unscored piece comes last: {h4:?}"
    );
    assert!(
        scored.windows(2).all(|w| w[0] >= w[1]),
        "descending: {h4:?}"
    );
    let unsorted: Vec<Option<f64>> = all.iter().map(h4_of).collect();
    assert_ne!(h4, unsorted, "the order changed");

    // A screenshot for a person to look at.
    let shot_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser");
    std::fs::create_dir_all(&shot_dir).unwrap();
    let shot = shot_dir.join("screenshot.png");
    let _ = std::fs::remove_file(&shot);
    browse(
        &chrome,
        &format!("{url}#task=continuation"),
        &[format!("--screenshot={}", shot.display())],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    eprintln!("screenshot: {}", shot.display());
}

/// The store's FLAC files decode in the browser that plays the page, sample for sample: a
/// length that is no multiple of the block size (the short last block), both channels compared
/// with the 16-bit values written (Chromium's Web Audio gives value / 32768 below zero, value /
/// 32767 above).
#[test]
fn flac_files_decode_exactly_in_chromium() {
    let Some(chrome) = crate::support::chromium("FLAC playback in a browser (report::browser)")
    else {
        return;
    };
    let (rate, frames) = (44_100u32, 57_331usize);
    let mut rng = cadenza::rng::Rng::new(7);
    let mut channel = |freq: f64| -> Vec<i16> {
        (0..frames)
            .map(|i| {
                let t = i as f64 / rate as f64;
                let v = 20_000.0 * (-2.0 * t).exp() * (std::f64::consts::TAU * freq * t).sin()
                    + 500.0 * (rng.next_f64() - 0.5);
                v.round() as i16
            })
            .collect()
    };
    let (left, right) = (channel(261.6), channel(392.0));
    let to_f32 = |v: &[i16]| v.iter().map(|&x| x as f32 / i16::MAX as f32).collect();
    let audio = cadenza::audio::Audio {
        sample_rate: rate,
        left: to_f32(&left),
        right: to_f32(&right),
    };

    let dir = tempfile::tempdir().unwrap();
    let flac = cadenza::audio::flac_bytes(&audio).unwrap();
    std::fs::write(dir.path().join("piece.flac"), flac).unwrap();
    let want = serde_json::json!([left, right]);
    std::fs::write(dir.path().join("want.js"), format!("const want = {want};")).unwrap();
    let page = dir.path().join("decode.html");
    std::fs::write(&page, DECODE_PAGE).unwrap();
    let (dom, _) = browse(
        &chrome,
        &format!("file://{}", page.display()),
        &[
            "--allow-file-access-from-files".into(),
            "--virtual-time-budget=30000".into(),
            "--dump-dom".into(),
        ],
    );
    let shown = &dom[dom.find("id=\"r\"").unwrap()..];
    let shown = &shown[shown.find('>').unwrap() + 1..];
    let shown = &shown[..shown.find('<').unwrap()];
    assert_eq!(
        shown,
        format!("decoded 2 {frames} {rate}, 0 samples differ")
    );
}

/// Decodes piece.flac with Web Audio (no resampling: the context runs at the file's rate) and
/// compares every sample with want.js.
const DECODE_PAGE: &str = r#"<!doctype html><html><body><p id="r">pending</p>
<script src="want.js"></script><script>
const r = document.getElementById('r');
const x = new XMLHttpRequest();
x.open('GET', 'piece.flac');
x.responseType = 'arraybuffer';
let result = null;
x.onload = () => new OfflineAudioContext(2, 1, 44100).decodeAudioData(x.response).then(b => {
  let differ = 0, first = '';
  for (let ch = 0; ch < b.numberOfChannels; ch++) {
    const d = b.getChannelData(ch);
    for (let i = 0; i < d.length; i++) {
      const got = Math.round(d[i] * (d[i] < 0 ? 32768 : 32767));
      if (got !== want[ch][i]) {
        if (!differ) first = ` (first: channel ${ch} sample ${i}: ${got}, not ${want[ch][i]})`;
        differ++;
      }
    }
  }
  result = `decoded ${b.numberOfChannels} ${b.length} ${b.sampleRate}, ${differ} samples differ${first}`;
}, e => { result = 'refused ' + e; });
x.onerror = () => { result = 'unreadable'; };
x.send();
// Headless Chromium's virtual time skips ahead when the page is idle, and the decoder's thread
// is not waited for: each poll spends some real time so the decode can finish within the budget.
function poll() {
  if (result !== null) { r.textContent = result; return; }
  let spin = 0;
  for (let i = 0; i < 2e6; i++) spin += Math.sqrt(i);
  r.dataset.spin = spin;
  setTimeout(poll, 50);
}
poll();
</script></body></html>"#;
