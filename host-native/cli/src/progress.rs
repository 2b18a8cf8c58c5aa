//! Progress bars (indicatif) for work that takes over a second: shown on
//! a terminal only (never in pipes or logs), and only for work of at
//! least [`SHOWN_FROM`] items.

use indicatif::{ProgressBar, ProgressStyle};

/// Smaller work finishes within a second here: no bar.
const SHOWN_FROM: u64 = 5_000;

/// A bar for `len` steps of `what` (hidden when `len` is small or stderr
/// is not a terminal).
pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    if len < SHOWN_FROM {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_message(what.to_string());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
