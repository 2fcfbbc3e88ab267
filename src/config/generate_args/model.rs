//! Which model answers and how it is sampled: provider, model, key, servers, the embedded engine's threads, Ollama's options.

use clap::Args;
use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};

use crate::config::help;
use crate::provider::settings::{DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, ProviderKind};

/// The model options of `tdg generate` (help headings "Model", "Embedded model" and "Local model options (Ollama)").
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelArgs {
    /// LLM provider: openai, claude (anthropic), gemini, local (ollama).
    #[arg(long, env = "GENERATOR_PROVIDER", help_heading = "Model", help = help::provider())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,

    /// Model name [default: by provider].
    #[arg(long, env = "GENERATOR_MODEL", help_heading = "Model", help = help::model())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,

    /// API key [default: from the provider's variable].
    #[arg(long, help_heading = "Model", help = help::api_key())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,

    /// The API's base URL, for any provider (an OpenAI-compatible server, a proxy). Repeat it, or separate URLs with commas, to spread requests over several servers of the same model, weighted by how fast each answers.
    #[arg(
        long,
        env = "GENERATOR_BASE_URL",
        value_name = "URL",
        value_delimiter = ',',
        help_heading = "Model"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub base_url: Vec<String>,

    /// LLM temperature.
    #[arg(long, env = "GENERATOR_TEMPERATURE", help_heading = "Model",
          help = help::temperature(DEFAULT_TEMPERATURE))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,

    /// Maximum response tokens, at least 1.
    #[arg(long, env = "GENERATOR_MAX_TOKENS", help_heading = "Model",
          help = help::with_default("Maximum response tokens, at least 1", DEFAULT_MAX_TOKENS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,

    /// Ask for JSON-schema-constrained output (OpenAI response_format, Ollama format, Gemini responseSchema).
    #[arg(long, env = "GENERATOR_STRUCTURED", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Model")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured: Option<bool>,

    /// Decode each answer as one of the chunk's own sentences (embedded engine, on by default there).
    #[arg(long, env = "GENERATOR_QUOTE_ANSWERS", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Model")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_answers: Option<bool>,

    /// CPU threads for the embedded engine.
    #[arg(long, env = "GENERATOR_THREADS", value_name = "N", help_heading = "Embedded model",
          help = help::with_default("CPU threads for the embedded engine, at most the logical cores (more are capped, with a warning); 0 is the default", "the physical cores"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,

    /// Model layers the embedded engine offloads to a GPU (builds with the cuda, metal or vulkan feature).
    #[arg(long, env = "GENERATOR_GPU_LAYERS", value_name = "N", help_heading = "Embedded model",
          help = help::with_default("Model layers the embedded engine offloads to a GPU (builds with the cuda, metal or vulkan feature; without one, a warning says every layer runs on the CPU)", 0))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_layers: Option<u32>,

    /// Tokens of context per sequence for the embedded engine (prompt and answer).
    #[arg(long, env = "GENERATOR_CONTEXT_SIZE", value_name = "TOKENS", help_heading = "Embedded model",
          help = help::with_default("Tokens of context each sequence gets in the embedded engine, prompt and answer together; at most the model's trained context", "2048 for the prompt plus --max-tokens, within the model's trained context"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_size: Option<u32>,

    /// The embedded engine's chat template: a llama.cpp template name or a Jinja file.
    #[arg(long, env = "GENERATOR_CHAT_TEMPLATE", value_name = "NAME|FILE", help_heading = "Embedded model",
          help = help::with_default("The embedded engine's chat template: one of llama.cpp's names (chatml, llama3, gemma, mistral-v7, phi3…) or a Jinja template file", "the model's own; for a model without one, the template of its architecture"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<String>,

    /// Ollama server URL.
    #[arg(long, env = "OLLAMA_BASE_URL", value_name = "URL", help_heading = "Local model options (Ollama)",
          help = help::with_default("Ollama server URL", ProviderKind::Local.default_base_url()))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama_base_url: Option<String>,

    /// Top-K sampling parameter.
    #[arg(
        long,
        env = "OLLAMA_TOP_K",
        help_heading = "Local model options (Ollama)"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama_top_k: Option<u32>,

    /// Top-P sampling parameter.
    #[arg(
        long,
        env = "OLLAMA_TOP_P",
        help_heading = "Local model options (Ollama)"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama_top_p: Option<f64>,

    /// Repeat penalty parameter.
    #[arg(
        long,
        env = "OLLAMA_REPEAT_PENALTY",
        help_heading = "Local model options (Ollama)"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama_repeat_penalty: Option<f64>,

    /// Maximum prediction tokens [default: --max-tokens].
    #[arg(
        long,
        env = "OLLAMA_NUM_PREDICT",
        help_heading = "Local model options (Ollama)"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama_num_predict: Option<i32>,

    /// Stop sequence (repeatable).
    #[arg(
        long,
        value_name = "TEXT",
        help_heading = "Local model options (Ollama)"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ollama_stop: Vec<String>,
}
