//! Progress of the long loops of the stages, on stderr: an indicatif bar on a terminal, and
//! plain lines elsewhere (a batch log, `make pipeline > log`, a pipe), where indicatif draws
//! nothing. Lines a loop prints (validation losses, warnings) reach both.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Seconds between two plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(30);

/// A loop's progress: `len` units named `unit`, labelled `name` in plain lines.
pub struct Bar {
    bar: ProgressBar,
    /// Without a terminal: the state of the plain lines.
    plain: Option<Mutex<Plain>>,
    name: &'static str,
    unit: &'static str,
}

struct Plain {
    started: Instant,
    last_line: Instant,
    /// Where this run started (a resumed loop starts past 0): the rate counts from there.
    from: u64,
    position: u64,
    message: String,
}

impl Bar {
    /// A bar drawn with an indicatif `template` on a terminal, or plain lines.
    pub fn new(len: u64, template: &str, name: &'static str, unit: &'static str) -> Bar {
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let terminal = std::io::stderr().is_terminal();
        let plain = (!terminal).then(|| {
            Mutex::new(Plain {
                started: Instant::now(),
                last_line: Instant::now(),
                from: 0,
                position: 0,
                message: String::new(),
            })
        });
        Bar {
            bar: ProgressBar::new(len).with_style(style),
            plain,
            name,
            unit,
        }
    }

    /// A bar that shows nothing (tests, library calls that want no output).
    pub fn hidden(name: &'static str) -> Bar {
        Bar {
            bar: ProgressBar::hidden(),
            plain: None,
            name,
            unit: "",
        }
    }

    /// The same bar, starting at `at` (a resumed loop).
    pub fn starting_at(self, at: u64) -> Bar {
        self.bar.set_position(at);
        if let Some(p) = &self.plain {
            let mut p = lock(p);
            (p.from, p.position) = (at, at);
        }
        self
    }

    pub fn set_length(&self, len: u64) {
        self.bar.set_length(len);
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        self.plain_update(|p| p.position += n);
    }

    pub fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
        self.plain_update(|p| p.position = pos);
    }

    pub fn set_message(&self, msg: String) {
        if let Some(p) = &self.plain {
            lock(p).message.clone_from(&msg);
        }
        self.bar.set_message(msg);
    }

    /// A line above the bar, or in the log.
    pub fn println(&self, line: String) {
        match &self.plain {
            Some(_) => eprintln!("{line}"),
            None => self.bar.println(line),
        }
    }

    /// Runs `f` (which prints) with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Clears the bar; a plain log gets the last position.
    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
        if let Some(p) = &self.plain {
            let p = lock(p);
            if p.position > 0 {
                eprintln!("{}", self.line(&p));
            }
        }
    }

    fn plain_update(&self, f: impl FnOnce(&mut Plain)) {
        let Some(p) = &self.plain else { return };
        let mut p = lock(p);
        f(&mut p);
        if p.last_line.elapsed() >= LINE_EVERY {
            p.last_line = Instant::now();
            eprintln!("{}", self.line(&p));
        }
    }

    /// `train 400/2000 steps  loss 2.41  9800 tok/s  1m12s, about 4m48s left`.
    fn line(&self, p: &Plain) -> String {
        let len = self.bar.length().unwrap_or(0);
        let elapsed = p.started.elapsed().as_secs_f64();
        let done = p.position.saturating_sub(p.from);
        let left = if done > 0 && len > p.position {
            let secs = elapsed / done as f64 * (len - p.position) as f64;
            format!(", about {} left", clock(secs))
        } else {
            String::new()
        };
        let msg = if p.message.is_empty() {
            String::new()
        } else {
            format!("  {}", p.message)
        };
        format!(
            "{} {}/{len} {}{msg}  {}{left}",
            self.name,
            p.position,
            self.unit,
            clock(elapsed)
        )
    }
}

fn lock(p: &Mutex<Plain>) -> std::sync::MutexGuard<'_, Plain> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// `1h02m`, `4m48s`, `12s`.
fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}
