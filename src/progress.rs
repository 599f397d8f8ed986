//! Progress bars (indicatif, on stderr) for the long loops of the stages.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps drawn with an indicatif `template`.
pub fn bar(len: u64, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::new(len).with_style(style)
}
