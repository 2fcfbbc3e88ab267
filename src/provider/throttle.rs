//! Keeping the model server exactly as busy as it allows.
//!
//! Every request waits for a [`Throttle`] permit. The throttle:
//!
//! - caps requests in flight at an adaptive limit: additive increase (one more after
//!   a limit's worth of successes), multiplicative decrease (halved on a 429, at
//!   most once per round trip), never above `--concurrency` or below 1;
//! - pauses everyone when the server says when to come back (`Retry-After`, or a
//!   rate-limit header saying nothing is left until a reset);
//! - spaces request starts for `--requests-per-minute`, and keeps a token bucket
//!   for `--tokens-per-minute`, charged with an estimate and corrected by the usage
//!   each answer reports.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Caps set by the user.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateCaps {
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u64>,
}

#[derive(Debug)]
struct State {
    /// Requests allowed in flight now.
    limit: usize,
    in_flight: usize,
    successes_since_change: usize,
    last_decrease: Option<Instant>,
    /// No request starts before this.
    paused_until: Option<Instant>,
    /// The earliest start of the next request under the requests-per-minute cap.
    next_start: Instant,
    /// Tokens available under the tokens-per-minute cap (may go negative).
    tokens: f64,
    tokens_updated: Instant,
    /// The mean output tokens of an answer, for estimates.
    mean_output_tokens: f64,
}

/// The shared gate every request passes.
#[derive(Debug)]
pub struct Throttle {
    max: usize,
    caps: RateCaps,
    state: Mutex<State>,
    changed: Notify,
}

/// A request's place in flight; released when dropped.
pub struct Permit<'a> {
    throttle: &'a Throttle,
    /// The tokens charged for this request.
    pub estimated_tokens: f64,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.throttle.lock();
        state.in_flight -= 1;
        drop(state);
        self.throttle.changed.notify_waiters();
    }
}

impl Throttle {
    /// A throttle allowing up to `max` requests in flight.
    pub fn new(max: usize, caps: RateCaps, max_output_tokens: u32) -> Self {
        let now = Instant::now();
        Throttle {
            max: max.max(1),
            caps,
            state: Mutex::new(State {
                limit: max.max(1),
                in_flight: 0,
                successes_since_change: 0,
                last_decrease: None,
                paused_until: None,
                next_start: now,
                tokens: caps.tokens_per_minute.unwrap_or(0) as f64,
                tokens_updated: now,
                mean_output_tokens: f64::from(max_output_tokens) / 4.0,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Waits until a request with a prompt of `prompt_chars` characters may start.
    pub async fn acquire(&self, prompt_chars: usize) -> Permit<'_> {
        loop {
            let notified = self.changed.notified();
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                let estimate = prompt_chars as f64 / 4.0 + state.mean_output_tokens;
                match self.wait_needed(&mut state, now, estimate) {
                    None => {
                        state.in_flight += 1;
                        if let Some(rpm) = self.caps.requests_per_minute {
                            state.next_start = state.next_start.max(now)
                                + Duration::from_secs_f64(60.0 / f64::from(rpm.max(1)));
                        }
                        if self.caps.tokens_per_minute.is_some() {
                            state.tokens -= estimate;
                        }
                        return Permit {
                            throttle: self,
                            estimated_tokens: estimate,
                        };
                    }
                    Some(wait) => wait,
                }
            };
            match wait {
                // At the concurrency limit: wait for a request to finish.
                Duration::MAX => notified.await,
                wait => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = notified => {}
                    }
                }
            }
        }
    }

    /// How long a request must wait, or `None` if it may start now.
    fn wait_needed(&self, state: &mut State, now: Instant, estimate: f64) -> Option<Duration> {
        if let Some(until) = state.paused_until {
            if until > now {
                return Some(until - now);
            }
            state.paused_until = None;
        }
        if state.in_flight >= state.limit {
            return Some(Duration::MAX);
        }
        if self.caps.requests_per_minute.is_some() && state.next_start > now {
            return Some(state.next_start - now);
        }
        if let Some(tpm) = self.caps.tokens_per_minute {
            let per_second = tpm as f64 / 60.0;
            let refill = now.duration_since(state.tokens_updated).as_secs_f64() * per_second;
            state.tokens = (state.tokens + refill).min(tpm as f64);
            state.tokens_updated = now;
            // A request bigger than the whole bucket waits for a full bucket only.
            let needed = estimate.min(tpm as f64);
            if state.tokens < needed {
                return Some(Duration::from_secs_f64(
                    (needed - state.tokens) / per_second.max(1e-9),
                ));
            }
        }
        None
    }

    /// A request succeeded and used `tokens` in all: count it towards the next
    /// increase, and correct the token estimate.
    pub fn on_success(&self, permit: &Permit<'_>, tokens_used: u64, output_tokens: u64) {
        let mut state = self.lock();
        state.successes_since_change += 1;
        if state.successes_since_change >= state.limit && state.limit < self.max {
            state.limit += 1;
            state.successes_since_change = 0;
        }
        if self.caps.tokens_per_minute.is_some() && tokens_used > 0 {
            state.tokens -= tokens_used as f64 - permit.estimated_tokens;
        }
        if output_tokens > 0 {
            state.mean_output_tokens = 0.9 * state.mean_output_tokens + 0.1 * output_tokens as f64;
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// The server said 429: halve the limit (once per round trip) and pause for
    /// `retry_after`, or a short while if it did not say.
    pub fn on_rate_limited(&self, retry_after: Option<Duration>, round_trip: Duration) {
        let mut state = self.lock();
        let now = Instant::now();
        let recently = state
            .last_decrease
            .is_some_and(|at| now.duration_since(at) < round_trip.max(Duration::from_millis(50)));
        if !recently {
            state.limit = (state.limit / 2).max(1);
            state.successes_since_change = 0;
            state.last_decrease = Some(now);
            tracing::debug!("rate limited: {} requests in flight at most", state.limit);
        }
        let pause = retry_after.unwrap_or(Duration::from_millis(500));
        let until = now + pause;
        state.paused_until = Some(
            state
                .paused_until
                .map_or(until, |current| current.max(until)),
        );
    }

    /// The server said nothing is left until `wait` has passed: pause until then.
    pub fn pause_for(&self, wait: Duration) {
        let mut state = self.lock();
        let until = Instant::now() + wait;
        state.paused_until = Some(
            state
                .paused_until
                .map_or(until, |current| current.max(until)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limit_halves_on_429_and_climbs_back() {
        let throttle = Throttle::new(16, RateCaps::default(), 100);
        throttle.on_rate_limited(Some(Duration::ZERO), Duration::from_millis(1));
        assert_eq!(throttle.limit(), 8);
        // A burst of 429s from the same round trip halves only once.
        throttle.on_rate_limited(Some(Duration::ZERO), Duration::from_secs(10));
        assert_eq!(throttle.limit(), 8);
        for _ in 0..8 {
            let permit = throttle.acquire(10).await;
            throttle.on_success(&permit, 0, 0);
        }
        assert_eq!(throttle.limit(), 9);
    }

    #[tokio::test]
    async fn no_more_than_the_limit_are_in_flight() {
        let throttle = std::sync::Arc::new(Throttle::new(2, RateCaps::default(), 100));
        let first = throttle.acquire(1).await;
        let _second = throttle.acquire(1).await;
        let waiting = {
            let throttle = throttle.clone();
            tokio::spawn(async move {
                let _third = throttle.acquire(1).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(
            !waiting.is_finished(),
            "a third request started past the limit"
        );
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn requests_per_minute_space_the_starts() {
        let throttle = Throttle::new(
            8,
            RateCaps {
                requests_per_minute: Some(1200),
                tokens_per_minute: None,
            },
            100,
        );
        let started = Instant::now();
        for _ in 0..4 {
            drop(throttle.acquire(1).await);
        }
        // 1200/min is one every 50 ms: the fourth starts after 150 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(145),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_pause_holds_every_request() {
        let throttle = Throttle::new(8, RateCaps::default(), 100);
        throttle.pause_for(Duration::from_millis(80));
        let started = Instant::now();
        drop(throttle.acquire(1).await);
        assert!(
            started.elapsed() >= Duration::from_millis(75),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn the_token_bucket_waits_for_refill() {
        // 6000 tokens a minute is 100 a second; each request is estimated at 100 + 25.
        let throttle = Throttle::new(
            8,
            RateCaps {
                requests_per_minute: None,
                tokens_per_minute: Some(6000),
            },
            100,
        );
        for _ in 0..48 {
            drop(throttle.acquire(400).await);
        }
        let started = Instant::now();
        drop(throttle.acquire(400).await);
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
    }
}
