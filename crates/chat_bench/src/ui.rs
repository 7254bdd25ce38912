//! Progress bars for the long phases, and log lines that do not tear them.
//!
//! When standard error is not a terminal, indicatif draws nothing, and only the log lines
//! are printed.

use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

#[derive(Debug, Clone)]
pub struct Ui {
    multi: MultiProgress,
    start: Instant,
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

impl Ui {
    pub fn new() -> Self {
        Self {
            multi: MultiProgress::new(),
            start: Instant::now(),
        }
    }

    /// One log line on standard error, stamped with the time since the start.
    pub fn say(&self, message: impl AsRef<str>) {
        let stamp = self.start.elapsed().as_secs_f64();
        let message = message.as_ref();
        self.multi
            .suspend(|| eprintln!("[{stamp:>6.1}s] {message}"));
    }

    /// A bar counting `len` items (rows, sockets, requests).
    pub fn counter(&self, len: u64, message: impl Into<String>) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:<44} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {elapsed})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.into());
        bar
    }

    /// A bar over a fixed duration: its position is in milliseconds.
    pub fn timer(&self, total: Duration, message: impl Into<String>) -> ProgressBar {
        let len = u64::try_from(total.as_millis()).unwrap_or(u64::MAX).max(1);
        let bar = self.multi.add(ProgressBar::new(len));
        if let Ok(style) = ProgressStyle::with_template("{msg:<44} [{bar:30}] {percent:>3}%") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.into());
        bar
    }

    /// Removes a finished bar.
    pub fn done(&self, bar: &ProgressBar) {
        bar.finish_and_clear();
        self.multi.remove(bar);
    }
}
