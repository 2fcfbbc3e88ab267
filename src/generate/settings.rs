//! Everything that shapes a generation run, as the library API takes it. The command
//! line, the environment and `tdg.toml` are resolved into these by [`crate::config`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::plugin::PluginSource;
use crate::provider::{RateCaps, RetryPolicy};

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
    /// The most time one request may take.
    pub request_timeout: Duration,
    /// How transient failures (429, 5xx, timeouts, resets) are retried.
    pub retry: RetryPolicy,
    /// `--requests-per-minute` and `--tokens-per-minute`.
    pub rate_caps: RateCaps,
    /// The pairs each answer must hold, when known: bounds the array of the schema
    /// sent with `--structured` and of the embedded engine's grammar.
    pub pairs_asked: Option<u32>,
    /// `--threads` and `--gpu-layers`, for the embedded engine.
    pub embedded: crate::provider::embedded::EmbeddedOptions,
}

/// How prompts are built and answers parsed.
#[derive(Debug, Clone)]
pub struct PromptSettings {
    pub questions_per_chunk: u32,
    pub system_message: Option<String>,
    pub extra_instructions: Option<String>,
    /// A user template replacing the default prompt: (file name, source).
    pub template: Option<(String, String)>,
    pub vars: Vec<(String, String)>,
    pub prompt_plugin: PluginSource,
    pub parser: PluginSource,
    /// How often a chunk whose answer held no pair is asked again.
    pub parse_retries: u32,
}

/// Prices and a spending cap (`--price-in`, `--price-out`, `--max-cost`), in US
/// dollars per million tokens and in US dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CostSettings {
    pub price_in: Option<f64>,
    pub price_out: Option<f64>,
    pub max_cost: Option<f64>,
}

impl CostSettings {
    /// The cost of `tokens_in` and `tokens_out`, if any price is known.
    pub fn cost(&self, tokens_in: u64, tokens_out: u64) -> Option<f64> {
        if self.price_in.is_none() && self.price_out.is_none() {
            return None;
        }
        Some(
            tokens_in as f64 / 1e6 * self.price_in.unwrap_or(0.0)
                + tokens_out as f64 / 1e6 * self.price_out.unwrap_or(0.0),
        )
    }
}

/// A whole generation run.
#[derive(Debug, Clone)]
pub struct GenerateSettings {
    pub chunks_dir: PathBuf,
    pub qa_dir: PathBuf,
    pub model: ModelSettings,
    pub prompt: PromptSettings,
    /// Continue a run in `qa_dir`.
    pub resume: bool,
    /// Replace a run in `qa_dir`.
    pub overwrite: bool,
    /// On resume, leave failed chunks failed instead of retrying them.
    pub skip_failed: bool,
    /// How many chunks are in flight at once.
    pub concurrency: usize,
    /// `--limit`: ask only for the first this many chunks that need work, across
    /// documents in name order.
    pub limit: Option<usize>,
    /// Prices and a spending cap.
    pub cost: CostSettings,
    /// Training files to write as documents finish (`--format`).
    pub training: Option<TrainingSettings>,
    /// Which pairs the Q&A files keep.
    pub quality: crate::quality::QualityFilter,
}

/// `--format`, `--format-opt`, `--output-type` and `--training-dir` of `generate`.
#[derive(Debug, Clone)]
pub struct TrainingSettings {
    pub format: PluginSource,
    pub options: Vec<(String, String)>,
    pub output_type: crate::convert::OutputType,
    pub dir: PathBuf,
}

impl GenerateSettings {
    /// Settings with the original tool's defaults, for the library builder.
    pub fn new(
        chunks_dir: impl Into<PathBuf>,
        qa_dir: impl Into<PathBuf>,
        provider: ProviderKind,
    ) -> Self {
        GenerateSettings {
            chunks_dir: chunks_dir.into(),
            qa_dir: qa_dir.into(),
            model: ModelSettings {
                provider,
                model: provider.default_model().to_string(),
                base_urls: vec![provider.default_base_url().to_string()],
                api_key: None,
                temperature: 0.7,
                max_tokens: 2000,
                ollama: OllamaOptions::default(),
                structured: false,
                request_timeout: Duration::from_secs(300),
                retry: RetryPolicy::default(),
                rate_caps: RateCaps::default(),
                pairs_asked: None,
                embedded: Default::default(),
            },
            prompt: PromptSettings {
                questions_per_chunk: 3,
                system_message: None,
                extra_instructions: None,
                template: None,
                vars: Vec::new(),
                prompt_plugin: PluginSource::Builtin("default-prompt"),
                parser: PluginSource::Builtin("default-prompt"),
                parse_retries: 1,
            },
            resume: false,
            overwrite: false,
            skip_failed: false,
            concurrency: 16,
            limit: None,
            cost: CostSettings::default(),
            training: None,
            quality: crate::quality::QualityFilter::default(),
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
    fn keys_stay_secret() {
        let key = ApiKey::new("sk-very-secret");
        assert_eq!(format!("{key:?}"), "ApiKey([REDACTED])");
        assert_eq!(key.redact("bad key sk-very-secret!"), "bad key [REDACTED]!");
    }
}
