//! How to reach and drive a model: the provider, the model's name, its servers, the
//! API key and the sampling, timeout, retry and rate settings. These belong to the
//! provider stage, which reads them; `generate` and `validate` only fill them in, so
//! the provider modules need nothing from theirs.
//!
//! The defaults live here as constants, so that the settings and the help texts that
//! state them cannot disagree.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::provider::{Patience, RateCaps, RetryPolicy};

/// The provider used when none is given and no option names a model server: the
/// embedded engine where it is built in.
pub const DEFAULT_PROVIDER: ProviderKind = if cfg!(feature = "embedded") {
    ProviderKind::Embedded
} else {
    ProviderKind::Local
};
/// The provider used when none is given but an option names a server (an Ollama
/// option, a base URL, or a model that is a server's name rather than a file), as
/// the original tool did.
pub const SERVER_DEFAULT_PROVIDER: ProviderKind = ProviderKind::Local;
/// The sampling temperature used when none is given.
pub const DEFAULT_TEMPERATURE: f64 = 0.7;
/// The temperatures accepted (the widest range the four APIs take).
pub const TEMPERATURE_RANGE: RangeInclusive<f64> = 0.0..=2.0;
/// The most tokens an answer may have, when not given.
pub const DEFAULT_MAX_TOKENS: u32 = 2000;
/// The most time one request may take, in seconds, when not given.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 300;
/// The largest first retry backoff accepted, in milliseconds: beyond a minute every
/// wait would be the backoff cap anyway.
pub const MAX_RETRY_BASE_MS: u64 = 60_000;

/// The model APIs tdg speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI Chat Completions, and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio).
    OpenAi,
    /// Anthropic's Messages API.
    Claude,
    /// Google's Gemini `generateContent`.
    Gemini,
    /// Ollama's native `/api/chat`.
    Local,
    /// A GGUF model run in-process by llama.cpp (the `embedded` feature).
    Embedded,
}

impl ProviderKind {
    /// Every provider, in the order the help lists them.
    pub const ALL: [ProviderKind; 5] = [
        ProviderKind::OpenAi,
        ProviderKind::Claude,
        ProviderKind::Gemini,
        ProviderKind::Local,
        ProviderKind::Embedded,
    ];

    /// Reads a provider name, with the aliases `anthropic` and `ollama`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(ProviderKind::OpenAi),
            "claude" | "anthropic" => Some(ProviderKind::Claude),
            "gemini" | "google" => Some(ProviderKind::Gemini),
            "local" | "ollama" => Some(ProviderKind::Local),
            "embedded" => Some(ProviderKind::Embedded),
            _ => None,
        }
    }

    /// The name the original tool wrote in `qa_generation_info.provider`.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Claude => "claude",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Local => "local",
            ProviderKind::Embedded => "embedded",
        }
    }

    /// The model used when none is given.
    pub fn default_model(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "gpt-4o-mini",
            ProviderKind::Claude => "claude-sonnet-4-5",
            ProviderKind::Gemini => "gemini-2.5-flash",
            ProviderKind::Local => "qwen3:14b",
            ProviderKind::Embedded => crate::provider::embedded::DEFAULT_MODEL,
        }
    }

    /// The API's address when no base URL is given.
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "https://api.openai.com",
            ProviderKind::Claude => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
            ProviderKind::Local => "http://localhost:11434",
            // In-process: no server.
            ProviderKind::Embedded => "",
        }
    }

    /// The environment variables an API key is read from, in order.
    pub fn key_variables(self) -> &'static [&'static str] {
        match self {
            ProviderKind::OpenAi => &["OPENAI_API_KEY"],
            ProviderKind::Claude => &["ANTHROPIC_API_KEY"],
            ProviderKind::Gemini => &["GOOGLE_API_KEY", "GEMINI_API_KEY"],
            ProviderKind::Local | ProviderKind::Embedded => &[],
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An API key. It never appears in `Debug` output, logs or files.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced, for messages built from
    /// what a server said.
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() < 4 {
            text.to_string()
        } else {
            text.replace(&self.0, "[REDACTED]")
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

/// Ollama's sampling options (`--ollama-*`, `OLLAMA_*`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OllamaOptions {
    pub top_k: Option<u32>,
    pub top_p: Option<f64>,
    pub repeat_penalty: Option<f64>,
    pub num_predict: Option<i32>,
    pub stop: Vec<String>,
}

/// How to reach and drive the model.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    pub provider: ProviderKind,
    pub model: String,
    /// The API's base URLs (without `/v1/...`): one server, or a fleet.
    pub base_urls: Vec<String>,
    pub api_key: Option<ApiKey>,
    pub temperature: f64,
    pub max_tokens: u32,
    pub ollama: OllamaOptions,
    /// Ask for JSON-schema-constrained output where the provider supports it.
    pub structured: bool,
    /// Decode each answer as one of the chunk's sentences (`--quote-answers`; the
    /// embedded engine under its grammar).
    pub quote_answers: bool,
    /// Ask a reasoning model for its trace (`--task reasoning`): Ollama's `think`,
    /// Anthropic's extended thinking, Gemini's thought summaries. OpenAI-compatible
    /// servers return `reasoning_content` unasked.
    pub reasoning: bool,
    /// How many tokens a model may think for (`--thinking-budget`): Anthropic's
    /// `budget_tokens` (default [`DEFAULT_THINKING_BUDGET`]), Gemini's
    /// `thinkingBudget` (the model's own when not given).
    pub thinking_budget: Option<u32>,
    /// The most time one request may take.
    pub request_timeout: Duration,
    /// How transient failures (429, 5xx, timeouts, resets) are retried.
    pub retry: RetryPolicy,
    /// `--requests-per-minute` and `--tokens-per-minute`.
    pub rate_caps: RateCaps,
    /// When to give up on a server: rate limits, connect and first-byte timeouts.
    pub patience: Patience,
    /// The shape of answer asked for: the schema sent with `--structured` and the
    /// embedded engine's grammar.
    pub answer: crate::provider::AnswerSchema,
    /// `--threads` and `--gpu-layers`, for the embedded engine.
    pub embedded: crate::provider::embedded::EmbeddedOptions,
}

/// Anthropic's extended-thinking budget when `--thinking-budget` is not given: its
/// smallest allowed, 1,024 tokens.
pub const DEFAULT_THINKING_BUDGET: u32 = 1024;

impl ModelSettings {
    /// `provider`'s default model at its official address, with the default sampling,
    /// timeout, retries and no rate caps.
    pub fn new(provider: ProviderKind) -> Self {
        ModelSettings {
            provider,
            model: provider.default_model().to_string(),
            base_urls: vec![provider.default_base_url().to_string()],
            api_key: None,
            temperature: DEFAULT_TEMPERATURE,
            max_tokens: DEFAULT_MAX_TOKENS,
            ollama: OllamaOptions::default(),
            structured: false,
            quote_answers: false,
            reasoning: false,
            thinking_budget: None,
            request_timeout: Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_SECS),
            retry: RetryPolicy::default(),
            rate_caps: RateCaps::default(),
            patience: Patience::default(),
            answer: Default::default(),
            embedded: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_aliases() {
        assert_eq!(ProviderKind::parse("Anthropic"), Some(ProviderKind::Claude));
        assert_eq!(ProviderKind::parse("ollama"), Some(ProviderKind::Local));
        assert_eq!(
            ProviderKind::parse("embedded"),
            Some(ProviderKind::Embedded)
        );
        assert_eq!(ProviderKind::parse("gpt"), None);
    }

    #[test]
    fn every_provider_parses_from_its_name() {
        for provider in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(provider.name()), Some(provider));
        }
    }

    #[test]
    fn keys_stay_secret() {
        let key = ApiKey::new("sk-very-secret");
        assert_eq!(format!("{key:?}"), "ApiKey([REDACTED])");
        assert_eq!(key.redact("bad key sk-very-secret!"), "bad key [REDACTED]!");
    }
}
