//! The providers' batch APIs, for `generate --batch-api`: the chunks go to the provider's batch API (OpenAI Batch,
//! Anthropic Message Batches, Gemini batch mode) instead of one live request each: half
//! the price, the provider's own rate-limit pool, answers within 24 hours.
//!
//! The promise is the checkpoint's: no chunk lost, none paid for twice. Every batch id
//! and the chunks it holds go into the checkpoint ([`ledger`]) the moment the batch is
//! created; a run that is killed or stopped leaves its batches running, and the next
//! `--resume` reattaches to them and never submits a chunk that sits in a live batch.
//! Answers are settled exactly as live answers are ([`crate::generate::chunk_work`]:
//! parser, quality gate, checkpoint, Q&A files), so `reparse`, `stats` and `validate`
//! work unchanged. Lines that failed or expired go into a follow-up batch, or live with
//! `--batch-fallback live`.
//!
//! [`api`] dispatches to each provider's batch dialect, in words [`lines`] defines;
//! [`crate::generate::batch_flow`] runs a generation's batches, beside the live
//! pipeline.

mod anthropic;
pub mod api;
mod gemini;
pub mod ledger;
pub mod lines;
mod openai;

use std::time::Duration;

pub use api::BatchApi;
pub use ledger::{BatchRow, Ledger, LedgerError};
pub use lines::{BatchResults, BatchStatus, LineResult, Phase, RequestLine};

/// How often a batch's state is asked for, when not given.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(60);
/// How often a chunk whose line failed or expired goes into a follow-up batch before
/// it is recorded as failed, when not given.
pub const DEFAULT_LINE_RETRIES: u32 = 2;

/// Where lines that failed or expired are asked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchFallback {
    /// In a follow-up batch.
    #[default]
    Batch,
    /// Live, one request each (`--batch-fallback live`).
    Live,
}

impl std::str::FromStr for BatchFallback {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "batch" => Ok(BatchFallback::Batch),
            "live" => Ok(BatchFallback::Live),
            other => Err(format!("`batch` or `live`, not `{other}`")),
        }
    }
}

/// `--batch-api` and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSettings {
    pub fallback: BatchFallback,
    /// Submit, then exit without waiting (`--no-wait`); a later `--resume` collects.
    pub no_wait: bool,
    /// How often each batch's state is asked for.
    pub poll_interval: Duration,
    /// At most this many requests in one batch (the provider's limit when larger).
    pub max_requests: Option<usize>,
    /// How often a failed or expired line is asked again before its chunk fails.
    pub line_retries: u32,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            fallback: BatchFallback::Batch,
            no_wait: false,
            poll_interval: DEFAULT_POLL_INTERVAL,
            max_requests: None,
            line_retries: DEFAULT_LINE_RETRIES,
        }
    }
}

/// The `custom_id` that names a chunk in a batch: its document stem (letters, digits,
/// `-` and `_` only, at most 40 of them), its position, and 8 hex digits of a hash of
/// both, so that it is unique, readable, and within Anthropic's 64 characters.
pub fn custom_id(stem: &str, position: u32) -> String {
    let readable: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let digest = crate::digest::sha256_hex(format!("{stem}\0{position}").as_bytes());
    format!("{readable}-{position}-{}", &digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_id_names_the_chunk_within_anthropics_rules() {
        let id = custom_id("GPL-3", 7);
        assert!(id.starts_with("GPL-3-7-"), "{id}");
        let long = custom_id(&"a document with spaces and é".repeat(5), 123_456);
        assert!(long.len() <= 64, "{long}");
        assert!(
            long.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{long}"
        );
        // Stems that read the same once cleaned still differ.
        assert_ne!(custom_id("a b", 1), custom_id("a_b", 1));
    }
}
