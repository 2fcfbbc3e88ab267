//! Resolving `generate`'s settings from the command line, the environment, a TOML
//! config file and the defaults, in that order of precedence.
//!
//! Every flag and environment variable of the original tool is accepted
//! (`GENERATOR_*`, `OLLAMA_*`). A `.env` file in the working directory is read into
//! the environment first (variables already set win). The config file is `--config
//! FILE` (or `TDG_CONFIG`), else `tdg.toml` in the working directory if present; its
//! keys are the long flag names with `_` for `-` (`questions_per_chunk = 5`), plus a
//! `[vars]` table for template variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::parse_key_value;
use crate::generate::settings::{ApiKey, CostSettings, GenerateSettings, ProviderKind};
use crate::plugin::{PluginError, PluginSource};
use crate::provider::RateCaps;

/// The config file read when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "tdg.toml";

/// `tdg generate`'s options. Also the schema of the config file: each field is a key.
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateArgs {
    /// Input chunks directory (the chunker's *_chunks.json files).
    #[arg(
        long,
        env = "GENERATOR_PROCESS_DIR",
        value_name = "DIR",
        help_heading = "Directories"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks_dir: Option<PathBuf>,

    /// Output Q&A files directory.
    #[arg(
        long,
        env = "GENERATOR_OUTPUT_DIR",
        value_name = "DIR",
        help_heading = "Directories"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_dir: Option<PathBuf>,

    /// LLM provider: openai, claude (anthropic), gemini, local (ollama) [default: local].
    #[arg(long, env = "GENERATOR_PROVIDER", help_heading = "Model")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,

    /// Model name [default: gpt-4o-mini, claude-sonnet-4-5, gemini-2.5-flash or qwen3:14b, by provider].
    #[arg(long, env = "GENERATOR_MODEL", help_heading = "Model")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,

    /// API key [default: from OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY or GEMINI_API_KEY, by provider].
    #[arg(long, help_heading = "Model")]
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

    /// LLM temperature (0.0-1.0) [default: 0.7].
    #[arg(long, env = "GENERATOR_TEMPERATURE", help_heading = "Model")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,

    /// Maximum response tokens [default: 2000].
    #[arg(long, env = "GENERATOR_MAX_TOKENS", help_heading = "Model")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,

    /// Ask for JSON-schema-constrained output (OpenAI response_format, Ollama format, Gemini responseSchema).
    #[arg(long, env = "GENERATOR_STRUCTURED", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Model")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured: Option<bool>,

    /// Number of questions per chunk [default: 3].
    #[arg(
        long,
        env = "GENERATOR_QUESTIONS_PER_CHUNK",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions_per_chunk: Option<u32>,

    /// Custom system message.
    #[arg(
        long,
        env = "GENERATOR_QA_SYSTEM_MESSAGE",
        value_name = "TEXT",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_system_message: Option<String>,

    /// Additional instructions for Q&A generation.
    #[arg(
        long,
        env = "GENERATOR_QA_EXTRA_INSTRUCTIONS",
        value_name = "TEXT",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_extra_instructions: Option<String>,

    /// Custom prompt template file (minijinja; see templates/qa_prompt.jinja).
    #[arg(
        long,
        env = "GENERATOR_QA_PROMPT_TEMPLATE_FILE",
        value_name = "FILE",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_prompt_template_file: Option<PathBuf>,

    /// A template variable, available as `vars.KEY` (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_key_value, help_heading = "Generation")]
    #[serde(skip)]
    pub var: Vec<(String, String)>,

    /// Template variables (config file only; `--var` overrides).
    #[arg(skip)]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,

    /// The prompt plugin: a built-in name or a component path [default: default-prompt].
    #[arg(
        long,
        env = "GENERATOR_PROMPT_PLUGIN",
        value_name = "NAME|PATH.wasm",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_plugin: Option<String>,

    /// The answer parser: a built-in name or a component path [default: default-prompt].
    #[arg(
        long,
        env = "GENERATOR_PARSER",
        value_name = "NAME|PATH.wasm",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parser: Option<String>,

    /// How often a chunk whose answer holds no pair is asked again, with the parser's error [default: 1].
    #[arg(
        long,
        env = "GENERATOR_PARSE_RETRIES",
        value_name = "N",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_retries: Option<u32>,

    /// Resume from interruption: keep finished chunks, ask for the rest (failed ones included).
    #[arg(long, env = "GENERATOR_RESUME", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume: Option<bool>,

    /// With --resume: leave failed chunks failed instead of asking for them again.
    #[arg(long, env = "GENERATOR_SKIP_FAILED", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_failed: Option<bool>,

    /// Discard an existing run in the Q&A directory and start again.
    #[arg(long, env = "GENERATOR_OVERWRITE", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,

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

    /// Chunks in flight at once [default: 16].
    #[arg(
        long,
        env = "GENERATOR_CONCURRENCY",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,

    /// The original's parallel mode; tdg is always concurrent (see --concurrency), so this is accepted and changes nothing.
    #[arg(long, env = "GENERATOR_BATCH_PROCESSING", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_processing: Option<bool>,

    /// How often a transient failure (429, 5xx, timeout, reset) is retried [default: 5].
    #[arg(
        long,
        env = "GENERATOR_MAX_RETRIES",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,

    /// The first retry's backoff in milliseconds; it doubles each retry [default: 500].
    #[arg(
        long,
        env = "GENERATOR_RETRY_BASE_MS",
        value_name = "MS",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_base_ms: Option<u64>,

    /// The most time one request may take, in seconds [default: 300].
    #[arg(
        long,
        env = "GENERATOR_REQUEST_TIMEOUT",
        value_name = "SECONDS",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<f64>,

    /// Ollama server URL [default: http://localhost:11434].
    #[arg(
        long,
        env = "OLLAMA_BASE_URL",
        value_name = "URL",
        help_heading = "Local model options (Ollama)"
    )]
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

    /// Keep pairs that repeat the prompt's own examples or instructions.
    #[arg(long, env = "GENERATOR_NO_ECHO_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_echo_filter: Option<bool>,

    /// Keep pairs whose answer only restates the question.
    #[arg(long, env = "GENERATOR_NO_RESTATE_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_restate_filter: Option<bool>,

    /// Keep pairs holding template debris (`[product_name]`, `<answer>`, `...`, `TODO`).
    #[arg(long, env = "GENERATOR_NO_PLACEHOLDER_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_placeholder_filter: Option<bool>,

    /// Keep pairs whose question is not a question (no question mark, no interrogative or request word).
    #[arg(long, env = "GENERATOR_NO_QUESTION_FORM_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_question_form_filter: Option<bool>,

    /// Keep pairs whose question's own content words are mostly not in the chunk.
    #[arg(long, env = "GENERATOR_NO_TOPIC_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_topic_filter: Option<bool>,

    /// Keep pairs whose answer is too thin to teach anything (one content word; under four for why/how).
    #[arg(long, env = "GENERATOR_NO_THIN_ANSWER_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_thin_answer_filter: Option<bool>,

    /// Drop exact and near-duplicate questions within each document, across the corpus, or not at all [default: document].
    #[arg(long, value_enum, env = "GENERATOR_DEDUPE", help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<crate::quality::DedupeScope>,

    /// Drop pairs whose grounding (the share of the answer's content words found in the chunk) is below this, 0 to 1 (0 keeps all) [default: 0.35].
    #[arg(
        long,
        env = "GENERATOR_MIN_GROUNDING",
        value_name = "X",
        help_heading = "Quality"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_grounding: Option<f64>,

    /// Add each pair's `quality` (grounding score, evidence span, reasons) to the Q&A files.
    #[arg(long, env = "GENERATOR_WITH_QUALITY", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_quality: Option<bool>,

    /// Also write training files as documents finish, in this format: a built-in name or a component path.
    #[arg(
        long,
        env = "GENERATOR_FORMAT",
        value_name = "NAME|PATH.wasm",
        help_heading = "Training files"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,

    /// An option for the format plugin (repeatable).
    #[arg(long = "format-opt", value_name = "KEY=VALUE", value_parser = parse_key_value, help_heading = "Training files")]
    #[serde(skip)]
    pub format_opt: Vec<(String, String)>,

    /// JSON Lines or one JSON array [default: jsonl].
    #[arg(
        long,
        value_enum,
        env = "GENERATOR_OUTPUT_TYPE",
        help_heading = "Training files"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_type: Option<crate::convert::OutputType>,

    /// Where training files go [default: the Q&A directory].
    #[arg(
        long,
        env = "GENERATOR_TRAINING_DIR",
        value_name = "DIR",
        help_heading = "Training files"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_dir: Option<PathBuf>,

    /// US dollars per million input tokens, for cost estimates and --max-cost.
    #[arg(
        long,
        env = "GENERATOR_PRICE_IN",
        value_name = "USD",
        help_heading = "Cost"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_in: Option<f64>,

    /// US dollars per million output tokens, for cost estimates and --max-cost.
    #[arg(
        long,
        env = "GENERATOR_PRICE_OUT",
        value_name = "USD",
        help_heading = "Cost"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_out: Option<f64>,

    /// Stop the run cleanly, as if by Ctrl+C, once the estimated spend reaches this many US dollars.
    #[arg(
        long,
        env = "GENERATOR_MAX_COST",
        value_name = "USD",
        help_heading = "Cost"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,

    /// Count documents, chunks and tokens, estimate the cost, and call no model.
    #[arg(long, help_heading = "Cost")]
    #[serde(skip)]
    pub dry_run: bool,

    /// Seconds between progress lines when stderr is not a terminal [default: 10].
    #[arg(
        long,
        env = "GENERATOR_PROGRESS_INTERVAL",
        value_name = "SECONDS",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_interval: Option<f64>,

    /// Config file [default: tdg.toml in the working directory, if present].
    #[arg(long, env = "TDG_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

/// The API key for `provider`: `flag`, else its environment variables. A missing key
/// is an error when the servers include the provider's official API (other servers,
/// such as a local OpenAI-compatible one, may need none).
pub fn resolve_key(
    provider: ProviderKind,
    flag: Option<String>,
    base_urls: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ApiKey>, ConfigError> {
    let key = flag.or_else(|| {
        provider
            .key_variables()
            .iter()
            .find_map(|var| env(var).filter(|k| !k.is_empty()))
    });
    let official = base_urls
        .iter()
        .any(|url| url.trim_end_matches('/') == provider.default_base_url());
    match key {
        Some(key) => Ok(Some(ApiKey::new(key))),
        None if official && !provider.key_variables().is_empty() => Err(ConfigError::MissingKey {
            provider,
            variables: provider.key_variables().join(" or "),
        }),
        None => Ok(None),
    }
}

/// What the settings are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// A real run: everything must be there.
    Generate,
    /// Previewing prompts or estimating: no model is called.
    Preview,
}

/// Why the settings cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{what} is required: give {flag} (or set {variable})")]
    Missing {
        what: &'static str,
        flag: &'static str,
        variable: &'static str,
    },
    #[error("unknown provider `{0}`: use openai, claude (anthropic), gemini or local (ollama)")]
    UnknownProvider(String),
    #[error("no API key for {provider}: set {variables} or pass --api-key")]
    MissingKey {
        provider: ProviderKind,
        variables: String,
    },
    #[error("cannot read the prompt template {}: {source}", path.display())]
    Template {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--{flag} must be {rule}")]
    Invalid {
        flag: &'static str,
        rule: &'static str,
    },
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

impl GenerateArgs {
    /// Fills what the command line and environment left unset from the config file
    /// (`--config`, else `tdg.toml` in `working_dir` if present).
    pub fn with_config_file(self, working_dir: &Path) -> Result<Self, ConfigError> {
        let path = match &self.config {
            Some(path) => path.clone(),
            None => {
                let default = working_dir.join(DEFAULT_CONFIG_FILE);
                if !default.is_file() {
                    return Ok(self);
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let file: GenerateArgs = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(self.over(file))
    }

    /// `self`'s values where set, else `lower`'s.
    fn over(self, lower: GenerateArgs) -> GenerateArgs {
        let mut merged = serde_json::to_value(&lower).expect("arguments serialize");
        let upper = serde_json::to_value(&self).expect("arguments serialize");
        if let (Value::Object(merged), Value::Object(upper)) = (&mut merged, upper) {
            merged.extend(upper);
        }
        let mut result: GenerateArgs =
            serde_json::from_value(merged).expect("merged arguments deserialize");
        result.var = self.var;
        result.format_opt = self.format_opt;
        result.config = self.config;
        result
    }

    /// Resolves the final settings, reading keys from `env` (by variable name).
    pub fn resolve(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<GenerateSettings, ConfigError> {
        self.resolve_for(env, Purpose::Generate)
    }

    /// Resolves the settings for looking at prompts only: no Q&A directory or API
    /// key is needed.
    pub fn resolve_for_preview(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<GenerateSettings, ConfigError> {
        self.qa_dir.get_or_insert_with(|| PathBuf::from("."));
        self.resolve_for(env, Purpose::Preview)
    }

    fn resolve_for(
        self,
        env: impl Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<GenerateSettings, ConfigError> {
        let chunks_dir = self.chunks_dir.clone().ok_or(ConfigError::Missing {
            what: "the chunks directory",
            flag: "--chunks-dir",
            variable: "GENERATOR_PROCESS_DIR",
        })?;
        let qa_dir = self.qa_dir.clone().ok_or(ConfigError::Missing {
            what: "the Q&A directory",
            flag: "--qa-dir",
            variable: "GENERATOR_OUTPUT_DIR",
        })?;
        let provider = match &self.provider {
            Some(name) => ProviderKind::parse(name)
                .ok_or_else(|| ConfigError::UnknownProvider(name.clone()))?,
            None => ProviderKind::Local,
        };
        let mut settings = GenerateSettings::new(chunks_dir, qa_dir, provider);
        let model = &mut settings.model;
        if let Some(name) = self.model {
            model.model = name;
        }
        model.base_urls = match (self.base_url, self.ollama_base_url, provider) {
            (urls, _, _) if !urls.is_empty() => urls,
            (_, Some(url), ProviderKind::Local) => vec![url],
            _ => vec![provider.default_base_url().to_string()],
        };
        model.api_key = match resolve_key(provider, self.api_key, &model.base_urls, &env) {
            Err(error) if purpose == Purpose::Generate => return Err(error),
            Err(_) => None,
            Ok(key) => key,
        };
        if let Some(temperature) = self.temperature {
            if !(0.0..=2.0).contains(&temperature) {
                return Err(ConfigError::Invalid {
                    flag: "temperature",
                    rule: "between 0.0 and 2.0",
                });
            }
            model.temperature = temperature;
        }
        if let Some(max_tokens) = self.max_tokens {
            model.max_tokens = max_tokens;
        }
        model.structured = self.structured.unwrap_or(false);
        if let Some(seconds) = self.request_timeout {
            if !(seconds > 0.0 && seconds.is_finite()) {
                return Err(ConfigError::Invalid {
                    flag: "request-timeout",
                    rule: "a positive number of seconds",
                });
            }
            model.request_timeout = Duration::from_secs_f64(seconds);
        }
        if let Some(retries) = self.max_retries {
            model.retry.max_retries = retries;
        }
        if let Some(base) = self.retry_base_ms {
            model.retry.base = Duration::from_millis(base);
        }
        model.rate_caps = RateCaps {
            requests_per_minute: self.requests_per_minute.filter(|&n| n > 0),
            tokens_per_minute: self.tokens_per_minute.filter(|&n| n > 0),
        };
        model.ollama.top_k = self.ollama_top_k;
        model.ollama.top_p = self.ollama_top_p;
        model.ollama.repeat_penalty = self.ollama_repeat_penalty;
        model.ollama.num_predict = self.ollama_num_predict;
        model.ollama.stop = self.ollama_stop;

        let prompt = &mut settings.prompt;
        if let Some(questions) = self.questions_per_chunk {
            if questions == 0 {
                return Err(ConfigError::Invalid {
                    flag: "questions-per-chunk",
                    rule: "at least 1",
                });
            }
            prompt.questions_per_chunk = questions;
        }
        prompt.system_message = self.qa_system_message;
        prompt.extra_instructions = self.qa_extra_instructions.filter(|text| !text.is_empty());
        if let Some(path) = self.qa_prompt_template_file {
            let source =
                std::fs::read_to_string(&path).map_err(|source| ConfigError::Template {
                    path: path.clone(),
                    source,
                })?;
            prompt.template = Some((path.display().to_string(), source));
        }
        let mut vars = self.vars;
        vars.extend(self.var);
        prompt.vars = vars.into_iter().collect();
        if let Some(plugin) = self.prompt_plugin {
            prompt.prompt_plugin = PluginSource::parse(&plugin)?;
        }
        if let Some(parser) = self.parser {
            prompt.parser = PluginSource::parse(&parser)?;
        }
        if let Some(retries) = self.parse_retries {
            prompt.parse_retries = retries;
        }
        for (flag, value) in [
            ("price-in", self.price_in),
            ("price-out", self.price_out),
            ("max-cost", self.max_cost),
        ] {
            if value.is_some_and(|v| !(v >= 0.0 && v.is_finite())) {
                return Err(ConfigError::Invalid {
                    flag,
                    rule: "a positive number of US dollars",
                });
            }
            let _ = flag;
        }
        if self.max_cost.is_some() && self.price_in.is_none() && self.price_out.is_none() {
            return Err(ConfigError::Invalid {
                flag: "max-cost",
                rule: "given with --price-in and --price-out",
            });
        }
        settings.cost = CostSettings {
            price_in: self.price_in,
            price_out: self.price_out,
            max_cost: self.max_cost,
        };
        if let Some(format) = &self.format {
            settings.training = Some(crate::generate::settings::TrainingSettings {
                format: PluginSource::parse(format)?,
                options: self.format_opt.clone(),
                output_type: self.output_type.unwrap_or_default(),
                dir: self
                    .training_dir
                    .clone()
                    .unwrap_or_else(|| settings.qa_dir.clone()),
            });
        }
        if let Some(min) = self.min_grounding
            && !(0.0..=1.0).contains(&min)
        {
            return Err(ConfigError::Invalid {
                flag: "min-grounding",
                rule: "between 0 and 1",
            });
        }
        settings.quality = crate::quality::QualityFilter {
            drop_echoes: !self.no_echo_filter.unwrap_or(false),
            drop_restatements: !self.no_restate_filter.unwrap_or(false),
            drop_placeholders: !self.no_placeholder_filter.unwrap_or(false),
            drop_non_questions: !self.no_question_form_filter.unwrap_or(false),
            drop_off_topic: !self.no_topic_filter.unwrap_or(false),
            drop_thin_answers: !self.no_thin_answer_filter.unwrap_or(false),
            dedupe: self.dedupe.unwrap_or_default(),
            min_grounding: self
                .min_grounding
                .unwrap_or(crate::quality::DEFAULT_MIN_GROUNDING),
            with_quality: self.with_quality.unwrap_or(false),
            // Set by `tdg validate --min-score`, and kept by later runs.
            min_judge_score: None,
        };
        settings.resume = self.resume.unwrap_or(false);
        settings.overwrite = self.overwrite.unwrap_or(false);
        settings.skip_failed = self.skip_failed.unwrap_or(false);
        if let Some(concurrency) = self.concurrency {
            if concurrency == 0 {
                return Err(ConfigError::Invalid {
                    flag: "concurrency",
                    rule: "at least 1",
                });
            }
            settings.concurrency = concurrency;
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(chunks: &str) -> GenerateArgs {
        GenerateArgs {
            chunks_dir: Some(chunks.into()),
            qa_dir: Some("qa".into()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_match_the_original() {
        let settings = args("c").resolve(|_| None).unwrap();
        assert_eq!(settings.model.provider, ProviderKind::Local);
        assert_eq!(settings.prompt.questions_per_chunk, 3);
        assert_eq!(settings.model.temperature, 0.7);
        assert_eq!(settings.model.max_tokens, 2000);
        assert_eq!(settings.model.base_urls, ["http://localhost:11434"]);
    }

    #[test]
    fn flags_win_over_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tdg.toml"),
            "model = \"from-file\"\nquestions_per_chunk = 9\ntemperature = 0.1\n[vars]\ndomain = \"law\"\ntone = \"formal\"\n",
        )
        .unwrap();
        let mut cli = args("c");
        cli.model = Some("from-flag".into());
        cli.var = vec![("tone".into(), "casual".into())];
        let settings = cli
            .with_config_file(dir.path())
            .unwrap()
            .resolve(|_| None)
            .unwrap();
        assert_eq!(settings.model.model, "from-flag");
        assert_eq!(settings.prompt.questions_per_chunk, 9);
        assert_eq!(settings.model.temperature, 0.1);
        assert_eq!(
            settings.prompt.vars,
            vec![
                ("domain".into(), "law".into()),
                ("tone".into(), "casual".into())
            ]
        );
    }

    #[test]
    fn a_typo_in_the_config_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tdg.toml"), "questions_per_chunkk = 9\n").unwrap();
        let error = args("c")
            .with_config_file(dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("tdg.toml") && error.contains("questions_per_chunkk"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_key_names_the_variable() {
        let mut cli = args("c");
        cli.provider = Some("gemini".into());
        let error = cli.clone().resolve(|_| None).unwrap_err().to_string();
        assert_eq!(
            error,
            "no API key for gemini: set GOOGLE_API_KEY or GEMINI_API_KEY or pass --api-key"
        );
        let settings = cli
            .resolve(|var| (var == "GEMINI_API_KEY").then(|| "g-key".to_string()))
            .unwrap();
        assert_eq!(settings.model.api_key.unwrap().expose(), "g-key");
    }

    #[test]
    fn a_custom_base_url_needs_no_key_and_overrides_ollama_base_url() {
        let mut cli = args("c");
        cli.provider = Some("openai".into());
        cli.base_url = vec!["http://127.0.0.1:8080".into()];
        assert!(cli.resolve(|_| None).unwrap().model.api_key.is_none());
        let mut local = args("c");
        local.ollama_base_url = Some("http://gpu-box:11434".into());
        assert_eq!(
            local.clone().resolve(|_| None).unwrap().model.base_urls[0],
            "http://gpu-box:11434"
        );
        local.base_url = vec!["http://127.0.0.1:9".into()];
        assert_eq!(
            local.resolve(|_| None).unwrap().model.base_urls[0],
            "http://127.0.0.1:9"
        );
    }
}
