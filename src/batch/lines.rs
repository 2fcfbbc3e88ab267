//! What a batch is made of and what comes back, in words the three dialects share
//! ([`super::openai`], [`super::anthropic`], [`super::gemini`]): request lines, a
//! batch's state, its results, and the small readers of their JSON answers. The
//! dispatcher ([`super::api`]) and the dialects import this; it imports neither.

use serde_json::Value;

use crate::provider::{ModelClient, ModelError};

/// One request in a batch: the chunk's `custom_id` and the body a live request sends.
#[derive(Debug, Clone)]
pub struct RequestLine {
    pub custom_id: String,
    pub body: Value,
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Queued or running: answers are still to come.
    Running,
    /// Done, in whatever way (completed, expired, cancelled, failed): its results
    /// can be read, and it will not change again.
    Ended,
}

/// A batch's state as its provider reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStatus {
    pub id: String,
    pub phase: Phase,
    /// The provider's own word for it (`in_progress`, `ended`, `BATCH_STATE_RUNNING`).
    pub state: String,
    pub total: u64,
    /// Requests answered so far.
    pub succeeded: u64,
    /// Requests that failed, expired or were cancelled.
    pub failed: u64,
    /// Where the results are, in the provider's terms.
    pub(super) results: Results,
    /// Set when the provider says the results are no longer kept: why.
    pub(super) gone: Option<String>,
}

/// Where a batch's results are read from.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) enum Results {
    #[default]
    None,
    /// OpenAI: the output and error files.
    Files {
        output: Option<String>,
        errors: Option<String>,
        /// Why the whole batch failed, when it did.
        batch_error: Option<String>,
    },
    /// Anthropic: `results_url`.
    Url(String),
    /// Gemini: the answers inline in the batch.
    Inline(Vec<Value>),
}

impl BatchStatus {
    /// Why the provider no longer keeps the results, when its state already says so
    /// (an archived Anthropic batch); a results file that is gone is found only when
    /// it is read ([`BatchResults::gone`]).
    pub fn results_gone(&self) -> Option<&str> {
        self.gone.as_deref()
    }
}

/// What an ended batch's results gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchResults {
    /// The results that could be read, in any order.
    pub lines: Vec<LineResult>,
    /// Set when the provider no longer has some or all of them (a deleted or expired
    /// output file, an archived batch): why, in words for the user. The chunks without
    /// a line are to be asked again.
    pub gone: Option<String>,
}

/// One request's result.
#[derive(Debug, Clone, PartialEq)]
pub struct LineResult {
    pub custom_id: String,
    /// The answer body, in the provider's live dialect; or why there is none.
    pub answer: Result<Value, String>,
}

/// Parses a JSON API answer, or says that it is not JSON.
pub(super) fn json_of(client: &ModelClient, what: &str, body: &[u8]) -> Result<Value, ModelError> {
    serde_json::from_slice(body).map_err(|e| ModelError::BadAnswer {
        url: what.to_string(),
        reason: client.without_secrets(&format!("the answer is not JSON ({e})")),
    })
}

/// The results in a JSON Lines file at `path`, read a line at a time and each read
/// by `read`; a line that is not JSON is skipped with a warning (its chunk, having no
/// result, is asked again).
pub(super) async fn results_file(
    client: &ModelClient,
    path: &str,
    read: fn(&Value) -> Option<LineResult>,
) -> Result<Vec<LineResult>, ModelError> {
    let what = crate::redact::url(path);
    let mut results = Vec::new();
    client
        .api_lines(path, |line| {
            if line.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(value) => results.extend(read(&value)),
                Err(error) => {
                    tracing::warn!("{what}: a result line is not JSON ({error}); skipped")
                }
            }
        })
        .await?;
    Ok(results)
}

/// Whether `error` says that what was asked for is not there (HTTP 404 or 410), and
/// if so the server's words for it.
pub(super) fn not_there(error: &ModelError) -> Option<String> {
    match error {
        ModelError::Permanent {
            status: status @ (404 | 410),
            message,
            ..
        } => Some(format!("HTTP {status}: {message}")),
        _ => None,
    }
}

/// A missing field in a batch API answer.
pub(super) fn missing(what: &str, field: &str) -> ModelError {
    ModelError::BadAnswer {
        url: what.to_string(),
        reason: format!("the answer has no `{field}`"),
    }
}

/// A count that may be a number or a string of one (Google writes int64 as strings).
pub(super) fn count(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}
