//! Showing a download as it goes: a byte bar on a terminal, a log line at intervals
//! elsewhere, nothing when quiet, following the [`ProgressMode`] tdg chose for the
//! run (see `crate::progress`).

use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::progress::ProgressMode;

/// The progress of one file's download.
pub(crate) struct DownloadProgress {
    name: String,
    total: Option<u64>,
    done: u64,
    shown: Shown,
}

enum Shown {
    Off,
    Bar(ProgressBar),
    Lines { every: Duration, last: Instant },
}

impl DownloadProgress {
    /// Progress for `name`, `total` bytes if known, of which `done` are already here.
    pub fn start(mode: ProgressMode, name: &str, total: Option<u64>, done: u64) -> Self {
        let shown = match mode {
            ProgressMode::Off => Shown::Off,
            ProgressMode::Bar => {
                let bar = ProgressBar::new(total.unwrap_or(0));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message(name.to_string());
                bar.set_position(done);
                // Rate and ETA count only what this run downloads.
                bar.reset_eta();
                Shown::Bar(bar)
            }
            ProgressMode::Lines(every) => {
                tracing::info!(
                    "downloading {name}: {} of {}",
                    HumanBytes(done),
                    total.map_or_else(|| "?".to_string(), |t| HumanBytes(t).to_string())
                );
                Shown::Lines {
                    every,
                    last: Instant::now(),
                }
            }
        };
        DownloadProgress {
            name: name.to_string(),
            total,
            done,
            shown,
        }
    }

    /// Counts `bytes` more.
    pub fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        match &mut self.shown {
            Shown::Off => {}
            Shown::Bar(bar) => bar.set_position(self.done),
            Shown::Lines { every, last } => {
                if last.elapsed() >= *every {
                    *last = Instant::now();
                    let percent = self
                        .total
                        .filter(|total| *total > 0)
                        .map_or(0.0, |total| self.done as f64 * 100.0 / total as f64);
                    tracing::info!(
                        "downloading {}: {} ({percent:.0}%)",
                        self.name,
                        HumanBytes(self.done)
                    );
                }
            }
        }
    }

    /// Starts counting again from `done` (the server sent the whole file instead of
    /// the rest).
    pub fn restart_at(&mut self, done: u64) {
        self.done = done;
        if let Shown::Bar(bar) = &self.shown {
            bar.set_position(done);
        }
    }
}

impl Drop for DownloadProgress {
    fn drop(&mut self) {
        if let Shown::Bar(bar) = &self.shown {
            bar.finish_and_clear();
        }
    }
}
