//! How requests are made: retries, timeouts and rate limits.

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::config::help;
use crate::provider::settings::DEFAULT_REQUEST_TIMEOUT_SECS;
use crate::provider::{Patience, RetryPolicy};

/// The request options of `tdg generate` (help heading "Processing").
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
