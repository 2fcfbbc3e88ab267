//! When to give up on a server: the bounds that turn "pause and ask again" into one
//! message that stops the run.
//!
//! A rate limit pauses the run, but a server that keeps answering 429 for longer than
//! [`Patience::rate_limited_for`] without one success is not coming back soon: the run
//! stops with its last message, everything recorded, and `--resume` continues later.
//! A server that never answers costs the request timeout for every chunk, so after
//! [`Patience::timeouts`] timed-out requests while none has ever succeeded, the run
//! stops naming the URL.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::ModelError;

/// The bounds, as the settings give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patience {
    /// The longest a server may answer only 429 before the run stops.
    pub rate_limited_for: Duration,
    /// How many requests may time out, while none has succeeded, before the run stops.
    pub timeouts: u32,
    /// The most time to wait for a connection.
    pub connect_timeout: Duration,
    /// The most time to wait for the answer's status line and headers (none: only
    /// the total request timeout applies).
    pub first_byte_timeout: Option<Duration>,
}

impl Patience {
    /// The default rate-limit bound: 10 minutes.
    pub const DEFAULT_RATE_LIMITED_SECS: u64 = 600;
    /// The default number of timeouts without an answer: 3.
    pub const DEFAULT_TIMEOUTS: u32 = 3;
    /// The default connection timeout: 10 seconds.
    pub const DEFAULT_CONNECT_SECS: u64 = 10;
}

impl Default for Patience {
    fn default() -> Self {
        Patience {
            rate_limited_for: Duration::from_secs(Self::DEFAULT_RATE_LIMITED_SECS),
            timeouts: Self::DEFAULT_TIMEOUTS,
            connect_timeout: Duration::from_secs(Self::DEFAULT_CONNECT_SECS),
            first_byte_timeout: None,
        }
    }
}

/// What the client has seen of the server, shared by every worker.
pub(super) struct Health {
    patience: Patience,
    /// When the current run of 429s began (none since the last success).
    rate_limited_since: Mutex<Option<Instant>>,
    succeeded: AtomicBool,
    timeouts: AtomicU32,
}

impl Health {
    pub fn new(patience: Patience) -> Self {
        Health {
            patience,
            rate_limited_since: Mutex::new(None),
            succeeded: AtomicBool::new(false),
            timeouts: AtomicU32::new(0),
        }
    }

    pub fn on_success(&self) {
        self.succeeded.store(true, Ordering::Relaxed);
        *self
            .rate_limited_since
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// A 429 from `url` saying `reason`: an error that stops the run once the server
    /// has answered only 429 for longer than the bound.
    pub fn on_rate_limited(&self, url: &str, reason: &str) -> Result<(), ModelError> {
        let mut since = self
            .rate_limited_since
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let waited = since.get_or_insert_with(Instant::now).elapsed();
        if waited >= self.patience.rate_limited_for {
            return Err(ModelError::RateLimitedTooLong {
                url: url.to_string(),
                waited_secs: waited.as_secs(),
                message: reason.to_string(),
            });
        }
        Ok(())
    }

    /// A request to `url` timed out (`reason`): the error to report, which stops the
    /// run once too many have timed out while none ever succeeded.
    pub fn on_timeout(&self, url: &str, reason: String) -> ModelError {
        let count = self.timeouts.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.succeeded.load(Ordering::Relaxed) && count >= self.patience.timeouts {
            return ModelError::NeverAnswers {
                url: url.to_string(),
                count,
                reason,
            };
        }
        ModelError::Transient {
            url: url.to_string(),
            status: None,
            reason,
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_stop_the_run_past_the_bound_and_a_success_resets_it() {
        let health = Health::new(Patience {
            rate_limited_for: Duration::from_millis(30),
            ..Patience::default()
        });
        health.on_rate_limited("u", "slow down").unwrap();
        std::thread::sleep(Duration::from_millis(40));
        let error = health.on_rate_limited("u", "slow down").unwrap_err();
        assert!(error.stops_run());
        assert!(error.to_string().contains("slow down"), "{error}");
        health.on_success();
        health.on_rate_limited("u", "slow down").unwrap();
    }

    #[test]
    fn timeouts_stop_the_run_only_while_nothing_succeeded() {
        let health = Health::new(Patience {
            timeouts: 2,
            ..Patience::default()
        });
        assert!(!health.on_timeout("http://h", "late".into()).stops_run());
        let error = health.on_timeout("http://h", "late".into());
        assert!(
            error.stops_run() && error.to_string().contains("http://h"),
            "{error}"
        );
        let answered = Health::new(Patience {
            timeouts: 1,
            ..Patience::default()
        });
        answered.on_success();
        assert!(!answered.on_timeout("http://h", "late".into()).stops_run());
    }
}
