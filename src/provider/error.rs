//! Why the model gave no answer, and what each reason means for the run: asked
//! again ([`ModelError::is_transient`]), the chunk fails, or the run stops
//! ([`ModelError::stops_run`]).

use std::time::Duration;

/// Why the model gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    /// A fault that may pass: retried, and if it persists the chunk fails.
    #[error("{url}: {reason}")]
    Transient {
        url: String,
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },

    /// The server cannot be reached.
    #[error(
        "cannot reach the model server at {url}: {reason}. Check that the server is running and that --base-url (or OLLAMA_BASE_URL) points at it"
    )]
    Unreachable { url: String, reason: String },

    /// The server refused the request in a way that asking again will not fix.
    #[error("{url} answered HTTP {status}: {message}. {hint}")]
    Permanent {
        url: String,
        status: u16,
        message: String,
        hint: String,
    },

    /// The server answered 200, but not in its API's shape.
    #[error("{url} answered in an unexpected shape: {reason}")]
    BadAnswer { url: String, reason: String },

    /// The embedded engine cannot run (a missing or unreadable model, a failed
    /// decode): every chunk would fail the same way.
    #[error("embedded model {model}: {reason}")]
    Engine { model: String, reason: String },

    /// The embedded engine's model file could not be fetched this time (the Hub
    /// unreachable or failing, a download cut off or corrupted): every chunk would
    /// fail the same way now, but running again may succeed.
    #[error("embedded model {model}: {reason}")]
    ModelFileUnavailable { model: String, reason: String },

    /// The embedded engine cannot take this one request (a prompt too long): the
    /// chunk fails.
    #[error("embedded model {model}: {reason}")]
    Rejected { model: String, reason: String },

    /// The server refused this chunk (its prompt is too long): the chunk fails.
    #[error("{url} refused this chunk (HTTP {status}): {message}")]
    ChunkRefused {
        url: String,
        status: u16,
        message: String,
    },

    /// The account's quota or credit is used up: no chunk can succeed.
    #[error(
        "{url} answered HTTP {status}: {message}. The account's quota or credit is used up: add credit or raise the quota, then continue with --resume"
    )]
    QuotaExhausted {
        url: String,
        status: u16,
        message: String,
    },

    /// The server answered only 429 for longer than the bound.
    #[error(
        "{url} kept answering 429 (rate limited) for {waited_secs} s without one success; its last message: {message}. Continue later with --resume, or raise --rate-limit-timeout"
    )]
    RateLimitedTooLong {
        url: String,
        waited_secs: u64,
        message: String,
    },

    /// Requests time out and none has ever succeeded.
    #[error(
        "{url} does not answer: {count} requests timed out and none has succeeded ({reason}). Check that the server is up and serving, or raise --first-byte-timeout / --request-timeout"
    )]
    NeverAnswers {
        url: String,
        count: u32,
        reason: String,
    },

    /// The model does not think on request (handled by asking without it).
    #[error("{url} refused to return the model's reasoning (HTTP {status}): {message}")]
    ThinkingRefused {
        url: String,
        status: u16,
        message: String,
    },

    /// The server refuses `response_format: json_schema` (handled by falling back).
    #[error("{url} refused the JSON schema of --structured (HTTP {status}): {message}")]
    SchemaRefused {
        url: String,
        status: u16,
        message: String,
    },
}

impl ModelError {
    /// Whether asking again may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ModelError::Transient { .. } | ModelError::Unreachable { .. }
        )
    }

    /// Whether running the task again may help: a server that could not be reached,
    /// kept rate-limiting or never answered, or a model file that could not be
    /// fetched this time; not a refusal, a wrong model or a quota used up.
    pub fn retry(&self) -> crate::failure::Retry {
        crate::failure::Retry::helps_if(matches!(
            self,
            ModelError::Transient { .. }
                | ModelError::Unreachable { .. }
                | ModelError::RateLimitedTooLong { .. }
                | ModelError::NeverAnswers { .. }
                | ModelError::ModelFileUnavailable { .. }
        ))
    }

    /// Whether the whole run must stop (every other chunk would fail the same way).
    pub fn stops_run(&self) -> bool {
        matches!(
            self,
            ModelError::Permanent { .. }
                | ModelError::Unreachable { .. }
                | ModelError::QuotaExhausted { .. }
                | ModelError::RateLimitedTooLong { .. }
                | ModelError::NeverAnswers { .. }
                | ModelError::Engine { .. }
                | ModelError::ModelFileUnavailable { .. }
        )
    }
}
