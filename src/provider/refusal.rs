//! Reading a server's refusal: which HTTP errors are worth asking again, which fail
//! one chunk, and which stop the run.
//!
//! The answer depends on whose property the error is. A rate limit or a server fault
//! passes (retried). A prompt too long for the model's context is the chunk's
//! property: that chunk fails, the others go on. A refused key, an unknown model, a
//! request every chunk would send, or an exhausted quota or credit are the run's
//! property: asking again for every chunk would only fail again, so the run stops
//! with the server's own message.

use std::time::Duration;

use serde_json::Value;

use super::ModelError;
use crate::provider::settings::ModelSettings;

/// What an error body says: its message, and its machine-readable code or type.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ServerSays {
    pub message: String,
    /// `error.code`, `error.type` and `error.status` (Gemini), lower case.
    pub codes: Vec<String>,
}

impl ServerSays {
    /// Reads `error.message`, `error`, `message`, or else the text of `body`.
    pub fn read(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let json = serde_json::from_str::<Value>(&text).ok();
        let from_json = json.as_ref().and_then(|json| {
            json.pointer("/error/message")
                .or_else(|| json.get("error"))
                .or_else(|| json.get("message"))
                .and_then(|v| v.as_str().map(str::to_string))
        });
        let codes = json
            .as_ref()
            .and_then(|json| json.get("error"))
            .map(|error| {
                ["code", "type", "status"]
                    .iter()
                    .filter_map(|key| error.get(*key).and_then(Value::as_str))
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let message = from_json.unwrap_or_else(|| text.trim().to_string());
        let mut short: String = message.chars().take(500).collect();
        if short.is_empty() {
            short = "(no message)".into();
        }
        ServerSays {
            message: short,
            codes,
        }
    }

    fn has_code(&self, codes: &[&str]) -> bool {
        self.codes.iter().any(|code| codes.contains(&code.as_str()))
    }

    fn says(&self, phrases: &[&str]) -> bool {
        let message = self.message.to_ascii_lowercase();
        phrases.iter().any(|phrase| message.contains(phrase))
    }

    /// The account has no quota or credit left: OpenAI's `insufficient_quota`,
    /// Anthropic's "credit balance is too low", Gemini's quota and billing errors.
    pub fn quota_exhausted(&self) -> bool {
        self.has_code(&[
            "insufficient_quota",
            "billing_not_active",
            "billing_hard_limit_reached",
        ]) || self.says(&[
            "exceeded your current quota",
            "credit balance is too low",
            "billing to be enabled",
            "enable billing",
        ])
    }

    /// The chunk's prompt is too long for the model: OpenAI's
    /// `context_length_exceeded`, Anthropic's "prompt is too long", Gemini's "input
    /// token count exceeds", llama.cpp's and Ollama's "context" messages.
    pub fn prompt_too_long(&self) -> bool {
        self.has_code(&["context_length_exceeded", "string_above_max_length"])
            || self.says(&[
                "maximum context length",
                "context length",
                "context window",
                "prompt is too long",
                "prompt too long",
                "input token count",
                "exceeds the maximum number of tokens",
                "too many input tokens",
                "input is too long",
            ])
    }

    /// The model does not think on request: Ollama's "does not support thinking",
    /// Anthropic's and Gemini's refusals of `thinking` / `thinkingConfig` on a model
    /// without it.
    pub fn refuses_thinking(&self) -> bool {
        self.says(&[
            "does not support thinking",
            "thinking is not supported",
            "thinking is not enabled",
            "thinking_config",
            "thinkingconfig",
            "thinking.budget",
            "extended thinking",
        ])
    }

    /// The server does not take `response_format: json_schema` (llama-cpp-python
    /// answers HTTP 500 with a validation error naming it).
    pub fn refuses_json_schema(&self) -> bool {
        self.says(&["response_format", "json_schema"])
    }
}

/// The error for an answer with HTTP `status` and `body` from `url` (already
/// redacted), with the server's message passed through `redact`.
pub(super) fn status_error(
    settings: &ModelSettings,
    url: &str,
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    redact: impl Fn(&str) -> String,
) -> ModelError {
    let says = ServerSays::read(body);
    let message = redact(&says.message);
    let url = url.to_string();
    if says.quota_exhausted() || status == 402 {
        return ModelError::QuotaExhausted {
            url,
            status,
            message,
        };
    }
    if status == 413 || (matches!(status, 400 | 422) && says.prompt_too_long()) {
        return ModelError::ChunkRefused {
            url,
            status,
            message,
        };
    }
    if settings.reasoning && matches!(status, 400 | 422) && says.refuses_thinking() {
        return ModelError::ThinkingRefused {
            url,
            status,
            message,
        };
    }
    if matches!(status, 400 | 422 | 500) && says.refuses_json_schema() {
        return ModelError::SchemaRefused {
            url,
            status,
            message,
        };
    }
    match status {
        408 | 409 | 425 | 429 | 500..=599 => ModelError::Transient {
            url,
            status: Some(status),
            reason: format!("HTTP {status}: {message}"),
            retry_after,
        },
        401 | 403 => ModelError::Permanent {
            url,
            status,
            message,
            hint: match settings.provider.key_variables() {
                [] => "Check --api-key.".to_string(),
                vars => format!("Check the API key in {} or --api-key.", vars.join(" / ")),
            },
        },
        404 => ModelError::Permanent {
            url,
            status,
            message,
            hint: format!(
                "Check that the model `{}` exists on this server (--model) and that --base-url is the API's base address.",
                settings.model
            ),
        },
        _ => ModelError::Permanent {
            url,
            status,
            message,
            hint: "The server rejected the request; check --model and the generation settings."
                .into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::settings::{ModelSettings, ProviderKind};

    fn classify(status: u16, body: &str) -> ModelError {
        let settings = ModelSettings::new(ProviderKind::OpenAi);
        status_error(
            &settings,
            "http://h/v1",
            status,
            body.as_bytes(),
            None,
            |t| t.to_string(),
        )
    }

    #[test]
    fn quota_and_billing_errors_stop_the_run_with_the_servers_message() {
        let openai = classify(
            429,
            r#"{"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "code": "insufficient_quota"}}"#,
        );
        assert!(
            matches!(&openai, ModelError::QuotaExhausted { message, .. } if message.starts_with("You exceeded"))
        );
        assert!(openai.stops_run());
        let anthropic = classify(
            400,
            r#"{"type": "error", "error": {"type": "invalid_request_error", "message": "Your credit balance is too low to access the Anthropic API."}}"#,
        );
        assert!(matches!(anthropic, ModelError::QuotaExhausted { .. }));
        let rate_limit = classify(
            429,
            r#"{"error": {"message": "Rate limit reached. Add a payment method at https://platform.openai.com/account/billing.", "type": "requests", "code": "rate_limit_exceeded"}}"#,
        );
        assert!(matches!(rate_limit, ModelError::Transient { .. }));
    }

    #[test]
    fn a_prompt_too_long_fails_the_chunk_only() {
        for (status, body) in [
            (413, r#"{"error": {"message": "request too large"}}"#),
            (
                400,
                r#"{"error": {"message": "This model's maximum context length is 128000 tokens.", "code": "context_length_exceeded"}}"#,
            ),
            (
                400,
                r#"{"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 250000 tokens > 200000 maximum"}}"#,
            ),
            (
                400,
                r#"{"error": {"code": 400, "message": "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}"#,
            ),
        ] {
            let error = classify(status, body);
            assert!(
                matches!(error, ModelError::ChunkRefused { .. }),
                "{body}: {error:?}"
            );
            assert!(!error.stops_run() && !error.is_transient());
        }
        let every_chunk = classify(
            400,
            r#"{"error": {"message": "max_tokens is too large: 100000.", "code": null}}"#,
        );
        assert!(every_chunk.stops_run(), "{every_chunk:?}");
    }
}
