//! When to ask again: exponential backoff with jitter, and the servers' own word
//! on when to come back (`Retry-After`, OpenAI's `x-ratelimit-reset-*`, Anthropic's
//! `anthropic-ratelimit-*-reset`).

use std::time::Duration;

use reqwest::header::HeaderMap;

/// How transient faults are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times a request is asked again after the first try.
    pub max_retries: u32,
    /// The first backoff; each retry doubles it.
    pub base: Duration,
    /// The longest backoff.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `attempt` (0-based): what the server
    /// asked for if it said, else `base · 2^attempt` with ±50% jitter, at most `cap`.
    pub fn delay(&self, attempt: u32, server_says: Option<Duration>) -> Duration {
        if let Some(wait) = server_says {
            return wait.min(self.cap);
        }
        let exponential = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        exponential.mul_f64(0.5 + fastrand::f64())
    }
}

/// The longest wait any rate-limit header asks for, if one does.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = text("retry-after") {
        if let Ok(seconds) = value.parse::<f64>() {
            return Some(Duration::from_secs_f64(seconds.max(0.0)));
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
            return Some(until(date.with_timezone(&chrono::Utc)));
        }
    }
    let openai = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
        .into_iter()
        .filter_map(|name| text(name).and_then(parse_go_duration));
    let anthropic = [
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-input-tokens-reset",
        "anthropic-ratelimit-output-tokens-reset",
    ]
    .into_iter()
    .filter_map(|name| text(name).and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok()))
    .map(|date| until(date.with_timezone(&chrono::Utc)));
    openai.chain(anthropic).max()
}

/// When a successful answer's rate-limit headers say nothing is left (a
/// `*-remaining-*` of 0), how long until the matching reset.
pub fn exhausted_for(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let empty = |name: &str| {
        text(name)
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|left| left <= 0.0)
    };
    let openai = [
        (
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ),
        ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"),
    ]
    .into_iter()
    .filter(|(remaining, _)| empty(remaining))
    .filter_map(|(_, reset)| text(reset).and_then(parse_go_duration));
    let anthropic = [
        (
            "anthropic-ratelimit-requests-remaining",
            "anthropic-ratelimit-requests-reset",
        ),
        (
            "anthropic-ratelimit-tokens-remaining",
            "anthropic-ratelimit-tokens-reset",
        ),
        (
            "anthropic-ratelimit-input-tokens-remaining",
            "anthropic-ratelimit-input-tokens-reset",
        ),
        (
            "anthropic-ratelimit-output-tokens-remaining",
            "anthropic-ratelimit-output-tokens-reset",
        ),
    ]
    .into_iter()
    .filter(|(remaining, _)| empty(remaining))
    .filter_map(|(_, reset)| text(reset).and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok()))
    .map(|date| until(date.with_timezone(&chrono::Utc)));
    openai.chain(anthropic).max()
}

fn until(date: chrono::DateTime<chrono::Utc>) -> Duration {
    (date - chrono::Utc::now())
        .to_std()
        .unwrap_or(Duration::ZERO)
}

/// Reads OpenAI's reset durations: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    let mut seen_unit = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        let seconds = match c {
            'h' => value * 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                value / 1000.0
            }
            'm' => value * 60.0,
            's' => value,
            _ => return None,
        };
        total += seconds;
        seen_unit = true;
    }
    (seen_unit && number.is_empty()).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for attempt in 0..3 {
            let nominal = 100.0 * f64::from(1u32 << attempt);
            let delay = policy.delay(attempt, None).as_secs_f64() * 1000.0;
            assert!(
                delay >= nominal * 0.5 && delay <= nominal * 1.5,
                "attempt {attempt}: {delay}"
            );
        }
        assert!(policy.delay(10, None) <= Duration::from_millis(1500));
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(5))),
            Duration::from_secs(1)
        );
        assert_eq!(
            policy.delay(0, Some(Duration::from_millis(7))),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn reads_rate_limit_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));

        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-reset-requests",
            HeaderValue::from_static("1m0.5s"),
        );
        headers.insert("x-ratelimit-reset-tokens", HeaderValue::from_static("20ms"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs_f64(60.5)));

        let mut headers = HeaderMap::new();
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339();
        headers.insert(
            "anthropic-ratelimit-requests-reset",
            HeaderValue::from_str(&later).unwrap(),
        );
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );

        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn exhausted_limits_pause_until_the_reset() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("0"),
        );
        headers.insert("x-ratelimit-reset-requests", HeaderValue::from_static("2s"));
        headers.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from_static("5000"),
        );
        headers.insert("x-ratelimit-reset-tokens", HeaderValue::from_static("30s"));
        assert_eq!(exhausted_for(&headers), Some(Duration::from_secs(2)));
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("7"),
        );
        assert_eq!(exhausted_for(&headers), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_go_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(parse_go_duration("12"), None);
    }
}
