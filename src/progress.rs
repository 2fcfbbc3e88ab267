//! Showing where a run stands: chunks done out of the total, pairs, failures, rate,
//! ETA, and tokens in and out.
//!
//! On a terminal this is a live bar (indicatif); elsewhere (a log file, CI) a plain
//! line at intervals. The run updates a [`Progress`]; a display task reads it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// Not at all (the library default, and `-q`).
    #[default]
    Off,
    /// A live bar on stderr.
    Bar,
    /// A log line every so often.
    Lines(Duration),
}

/// The counters a run updates.
#[derive(Debug, Default)]
pub struct Progress {
    /// Chunks in the ready chunk files (grows while they are counted).
    pub total: AtomicU64,
    /// Chunks finished by an earlier run.
    pub done_before: AtomicU64,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub skipped: AtomicU64,
    pub pairs: AtomicU64,
    pub tokens_in: AtomicU64,
    pub tokens_out: AtomicU64,
}

/// A point-in-time reading of [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    total: u64,
    done: u64,
    done_now: u64,
    failed: u64,
    pairs: u64,
    tokens_in: u64,
    tokens_out: u64,
    rate: f64,
    eta: Option<Duration>,
}

impl Progress {
    fn read(&self, started: Instant) -> Reading {
        let done_now =
            self.completed.load(Relaxed) + self.failed.load(Relaxed) + self.skipped.load(Relaxed);
        let done = done_now + self.done_before.load(Relaxed);
        let total = self.total.load(Relaxed).max(done);
        let seconds = started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            done_now as f64 / seconds
        } else {
            0.0
        };
        let eta = (rate > 0.0).then(|| Duration::from_secs_f64((total - done) as f64 / rate));
        Reading {
            total,
            done,
            done_now,
            failed: self.failed.load(Relaxed),
            pairs: self.pairs.load(Relaxed),
            tokens_in: self.tokens_in.load(Relaxed),
            tokens_out: self.tokens_out.load(Relaxed),
            rate,
            eta,
        }
    }
}

/// Counts the chunks of every ready chunk file, in the background, into `total`.
pub fn count_total(progress: Arc<Progress>, files: Vec<std::path::PathBuf>) {
    #[derive(serde::Deserialize)]
    struct Counted {
        status: Option<String>,
        #[serde(default)]
        chunks: Vec<serde::de::IgnoredAny>,
    }
    std::thread::spawn(move || {
        for path in files {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if let Ok(file) = serde_json::from_slice::<Counted>(&bytes)
                && file.status.as_deref().is_none_or(|s| s == "completed")
            {
                progress.total.fetch_add(file.chunks.len() as u64, Relaxed);
            }
        }
    });
}

/// Shows `progress` in `mode` until `stop` is cancelled.
pub async fn display(progress: Arc<Progress>, mode: ProgressMode, stop: CancellationToken) {
    let started = Instant::now();
    match mode {
        ProgressMode::Off => {}
        ProgressMode::Bar => {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{wide_bar}] {pos}/{len} chunks · {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            loop {
                let reading = progress.read(started);
                bar.set_length(reading.total);
                bar.set_position(reading.done);
                bar.set_message(summary(&reading));
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
            bar.finish_and_clear();
        }
        ProgressMode::Lines(every) => loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(every) => {}
            }
            let reading = progress.read(started);
            let percent = percent(reading.done, reading.total);
            tracing::info!(
                "progress: {}/{} chunks ({percent:.0}%), {}",
                reading.done,
                reading.total,
                summary(&reading)
            );
        },
    }
}

fn summary(reading: &Reading) -> String {
    format!(
        "{} pairs, {} failed, {:.1} chunks/s, ETA {}, tokens {} in / {} out",
        reading.pairs,
        reading.failed,
        reading.rate,
        reading
            .eta
            .filter(|_| reading.done_now > 0)
            .map_or_else(|| "-".to_string(), format_duration),
        reading.tokens_in,
        reading.tokens_out
    )
}

/// `1h02m`, `3m05s`, `42s`.
fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// `part` as a percentage of `whole`; 0 when there is no whole.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        part as f64 * 100.0 / whole as f64
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_count_earlier_runs_but_rate_only_this_one() {
        let progress = Progress::default();
        progress.total.store(100, Relaxed);
        progress.done_before.store(40, Relaxed);
        progress.completed.store(9, Relaxed);
        progress.failed.store(1, Relaxed);
        let reading = progress.read(Instant::now() - Duration::from_secs(10));
        assert_eq!(reading.done, 50);
        assert_eq!(reading.done_now, 10);
        assert!((reading.rate - 1.0).abs() < 0.05, "{}", reading.rate);
        let eta = reading.eta.unwrap().as_secs_f64();
        assert!((eta - 50.0).abs() < 3.0, "{eta}");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(Duration::from_secs(42)), "42s");
        assert_eq!(format_duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(format_duration(Duration::from_secs(3720)), "1h02m");
    }
}
