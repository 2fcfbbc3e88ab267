//! How requests are made: retries, timeouts and rate limits. `generate` and
//! `validate` both take these options, with the same variables and config keys.

use std::time::Duration;

use clap::Args;
use serde::{Deserialize, Serialize};

use super::GenerateArgs;
use crate::config::model::check_retry_base;
use crate::config::{ConfigError, OptionName, help};
use crate::provider::settings::{DEFAULT_REQUEST_TIMEOUT_SECS, ModelSettings};
use crate::provider::{Patience, RateCaps, RetryPolicy};

/// The request options of `tdg generate` and `tdg validate` (help heading
/// "Processing").
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestArgs {
    /// At most this many requests a minute (a provider's quota).
    #[arg(
        long,
        env = "GENERATOR_REQUESTS_PER_MINUTE",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,

    /// At most this many tokens (prompt and answer) a minute.
    #[arg(
        long,
        env = "GENERATOR_TOKENS_PER_MINUTE",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,

    /// How often a transient failure (429, 5xx, timeout, reset) is retried.
    #[arg(long, env = "GENERATOR_MAX_RETRIES", value_name = "N", help_heading = "Processing",
          help = help::with_default("How often a transient failure (429, 5xx, timeout, reset) is retried", RetryPolicy::default().max_retries))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,

    /// The first retry's backoff in milliseconds; it doubles each retry.
    #[arg(long, env = "GENERATOR_RETRY_BASE_MS", value_name = "MS", help_heading = "Processing",
          help = help::retry_base_ms())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_base_ms: Option<u64>,

    /// The most time one request may take, in seconds.
    #[arg(long, env = "GENERATOR_REQUEST_TIMEOUT", value_name = "SECONDS", help_heading = "Processing",
          help = help::with_default("The most time one request may take, in seconds", DEFAULT_REQUEST_TIMEOUT_SECS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<f64>,

    /// The most time to wait for a connection to the server, in seconds.
    #[arg(long, env = "GENERATOR_CONNECT_TIMEOUT", value_name = "SECONDS", help_heading = "Processing",
          help = help::with_default("The most time to wait for a connection to the server, in seconds", Patience::DEFAULT_CONNECT_SECS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<f64>,

    /// The most time to wait for an answer to begin (its status line), in seconds.
    #[arg(long, env = "GENERATOR_FIRST_BYTE_TIMEOUT", value_name = "SECONDS", help_heading = "Processing",
          help = help::with_default("The most time to wait for an answer to begin (its status line), in seconds", "--request-timeout"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte_timeout: Option<f64>,

    /// Stop the run after this many timed-out requests while none has succeeded.
    #[arg(long, env = "GENERATOR_MAX_TIMEOUTS", value_name = "N", help_heading = "Processing",
          help = help::with_default("Stop the run after this many timed-out requests while none has succeeded", Patience::DEFAULT_TIMEOUTS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_timeouts: Option<u32>,

    /// Stop the run when the server has answered only 429 (rate limited) for this long, in seconds.
    #[arg(long, env = "GENERATOR_RATE_LIMIT_TIMEOUT", value_name = "SECONDS", help_heading = "Processing",
          help = help::with_default("Stop the run when the server has answered only 429 (rate limited) for this long, in seconds", Patience::DEFAULT_RATE_LIMITED_SECS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_timeout: Option<f64>,
}

impl RequestArgs {
    /// `self`'s values where set, else `lower`'s (the config file's).
    pub(crate) fn over(self, lower: RequestArgs) -> RequestArgs {
        RequestArgs {
            requests_per_minute: self.requests_per_minute.or(lower.requests_per_minute),
            tokens_per_minute: self.tokens_per_minute.or(lower.tokens_per_minute),
            max_retries: self.max_retries.or(lower.max_retries),
            retry_base_ms: self.retry_base_ms.or(lower.retry_base_ms),
            request_timeout: self.request_timeout.or(lower.request_timeout),
            connect_timeout: self.connect_timeout.or(lower.connect_timeout),
            first_byte_timeout: self.first_byte_timeout.or(lower.first_byte_timeout),
            max_timeouts: self.max_timeouts.or(lower.max_timeouts),
            rate_limit_timeout: self.rate_limit_timeout.or(lower.rate_limit_timeout),
        }
    }

    /// Checks the values and sets them on `model` (`generate` and `validate` alike);
    /// a bad value names its option, or its environment variable when it came from
    /// there (`env`).
    pub(crate) fn apply_to(
        &self,
        model: &mut ModelSettings,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let option = |flag: &'static str| OptionName::of::<GenerateArgs>(flag);
        if let Some(seconds) = self.request_timeout {
            if !(seconds > 0.0 && seconds.is_finite()) {
                let rule = "a positive number of seconds".into();
                return Err(ConfigError::invalid(
                    option("request-timeout"),
                    rule,
                    seconds,
                    &env,
                ));
            }
            model.request_timeout = Duration::from_secs_f64(seconds);
        }
        if let Some(retries) = self.max_retries {
            model.retry.max_retries = retries;
        }
        let seconds = |value: Option<f64>, flag: &'static str| match value {
            Some(seconds) if !(seconds > 0.0 && seconds.is_finite()) => Err(ConfigError::invalid(
                option(flag),
                "a positive number of seconds".into(),
                seconds,
                &env,
            )),
            other => Ok(other.map(Duration::from_secs_f64)),
        };
        if let Some(connect) = seconds(self.connect_timeout, "connect-timeout")? {
            model.patience.connect_timeout = connect;
        }
        model.patience.first_byte_timeout = seconds(self.first_byte_timeout, "first-byte-timeout")?;
        if let Some(bound) = seconds(self.rate_limit_timeout, "rate-limit-timeout")? {
            model.patience.rate_limited_for = bound;
        }
        if let Some(timeouts) = self.max_timeouts {
            if timeouts == 0 {
                let name = option("max-timeouts");
                return Err(ConfigError::invalid(name, "at least 1".into(), 0.0, &env));
            }
            model.patience.timeouts = timeouts;
        }
        if let Some(base) = self.retry_base_ms {
            model.retry.base = check_retry_base(base, option("retry-base-ms"), &env)?;
        }
        model.rate_caps = RateCaps {
            requests_per_minute: self.requests_per_minute.filter(|&n| n > 0),
            tokens_per_minute: self.tokens_per_minute.filter(|&n| n > 0),
        };
        Ok(())
    }
}
