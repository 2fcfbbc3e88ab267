//! `tdg generate`'s options, as clap reads them from the command line and the
//! environment and serde reads them from the config file: one struct, so a key of
//! `tdg.toml` is always the option's name. Every value is optional here, so that the
//! layers can be merged; [`super::generate`] applies the defaults, the same constants
//! the help texts state ([`super::help`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_CONFIG_FILE, DEFAULT_PROGRESS_INTERVAL_SECS, help};
use crate::convert::OutputType;
use crate::generate::settings::{
    DEFAULT_CONCURRENCY, DEFAULT_PARSE_RETRIES, DEFAULT_PROMPT_PLUGIN, DEFAULT_QUESTIONS_PER_CHUNK,
};
use crate::provider::settings::{
    DEFAULT_MAX_TOKENS, DEFAULT_REQUEST_TIMEOUT_SECS, DEFAULT_TEMPERATURE, ProviderKind,
};
use crate::provider::{Patience, RetryPolicy};
use crate::quality::{DedupeScope, QualityFilter};

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

    /// Number of questions per chunk.
    #[arg(long, env = "GENERATOR_QUESTIONS_PER_CHUNK", help_heading = "Generation",
          help = help::with_default("Number of questions per chunk", DEFAULT_QUESTIONS_PER_CHUNK))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions_per_chunk: Option<u32>,

    /// The mix of question types to ask for per chunk, as TYPE=COUNT pairs.
    #[arg(long, env = "GENERATOR_QUESTION_TYPES", value_name = "TYPE=N,...", help_heading = "Generation",
          help = help::question_types())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question_types: Option<String>,

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

    /// The prompt plugin: a built-in name or a component path.
    #[arg(long, env = "GENERATOR_PROMPT_PLUGIN", value_name = "NAME|PATH.wasm", help_heading = "Generation",
          help = help::with_default("The prompt plugin: a built-in name or a component path", DEFAULT_PROMPT_PLUGIN))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_plugin: Option<String>,

    /// The answer parser: a built-in name or a component path.
    #[arg(long, env = "GENERATOR_PARSER", value_name = "NAME|PATH.wasm", help_heading = "Generation",
          help = help::with_default("The answer parser: a built-in name or a component path", DEFAULT_PROMPT_PLUGIN))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parser: Option<String>,

    /// How often a chunk whose answer holds no pair is asked again, with the parser's error.
    #[arg(long, env = "GENERATOR_PARSE_RETRIES", value_name = "N", help_heading = "Generation",
          help = help::with_default("How often a chunk whose answer holds no pair is asked again, with the parser's error", DEFAULT_PARSE_RETRIES))]
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

    /// Chunks in flight at once.
    #[arg(long, env = "GENERATOR_CONCURRENCY", value_name = "N", help_heading = "Processing",
          help = help::with_default("Chunks in flight at once", DEFAULT_CONCURRENCY))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,

    /// The original's parallel mode; tdg is always concurrent (see --concurrency), so this is accepted and changes nothing.
    #[arg(long, env = "GENERATOR_BATCH_PROCESSING", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_processing: Option<bool>,

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

    /// CPU threads for the embedded engine.
    #[arg(long, env = "GENERATOR_THREADS", value_name = "N", help_heading = "Embedded model",
          help = help::with_default("CPU threads for the embedded engine", "the physical cores"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,

    /// Model layers the embedded engine offloads to a GPU (builds with the cuda, metal or vulkan feature).
    #[arg(long, env = "GENERATOR_GPU_LAYERS", value_name = "N", help_heading = "Embedded model",
          help = help::with_default("Model layers the embedded engine offloads to a GPU (builds with the cuda, metal or vulkan feature)", 0))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_layers: Option<u32>,

    /// Generate only the first N chunks that need work, across documents in name order.
    #[arg(
        long,
        env = "GENERATOR_LIMIT",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,

    /// Generate only shard K of N (K from 0): the chunks whose stable hash of document and chunk id falls to it, into QA_DIR/shard-KKKK-of-NNNN/; `tdg merge` joins the shards.
    #[arg(
        long,
        env = "GENERATOR_SHARD",
        value_name = "K/N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,

    /// The number of shards, when the shard's index comes from the scheduler (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID).
    #[arg(
        long,
        env = "GENERATOR_SHARDS",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,

    /// Send the chunks through the provider's batch API (openai, claude, gemini): half the price, answers within 24 hours. Batches are recorded in the checkpoint; a stopped run's `--resume` reattaches to them.
    #[arg(long, env = "GENERATOR_BATCH_API", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Batch API")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_api: Option<bool>,

    /// Where chunks whose batch line failed or expired are asked again: `batch` (a follow-up batch) or `live` [default: batch].
    #[arg(
        long,
        env = "GENERATOR_BATCH_FALLBACK",
        value_name = "batch|live",
        help_heading = "Batch API"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_fallback: Option<String>,

    /// Submit the batches and exit; a later `--resume` collects the answers.
    #[arg(long, help_heading = "Batch API")]
    #[serde(skip)]
    pub no_wait: bool,

    /// Seconds between two looks at a batch's state [default: 60].
    #[arg(
        long,
        env = "GENERATOR_BATCH_POLL_SECONDS",
        value_name = "SECONDS",
        help_heading = "Batch API"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_poll_interval: Option<f64>,

    /// At most N requests in one batch [default: the provider's limit: 50,000 for openai and gemini, 100,000 for claude].
    #[arg(
        long,
        env = "GENERATOR_BATCH_SIZE",
        value_name = "N",
        help_heading = "Batch API"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,

    /// How often a chunk whose batch line failed or expired is asked again before it is recorded as failed [default: 2].
    #[arg(long, value_name = "N", help_heading = "Batch API")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_line_retries: Option<u32>,

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

    /// Keep pairs whose question is not a question (no question mark, and not a request such as "Explain …").
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

    /// Keep pairs whose answer stops mid-sentence (ends on a comma or on a word like "the", "to", "and" with no full stop).
    #[arg(long, env = "GENERATOR_NO_UNFINISHED_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_unfinished_filter: Option<bool>,

    /// Keep pairs whose answer loops on its own words (more than a quarter of its word triples repeated).
    #[arg(long, env = "GENERATOR_NO_REPETITION_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_repetition_filter: Option<bool>,

    /// Keep pairs whose answer is long and mostly made up (more than 10 words the chunk does not hold, and under half its words from the chunk).
    #[arg(long, env = "GENERATOR_NO_INVENTED_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_invented_filter: Option<bool>,

    /// Keep pairs whose answer, quoted from the chunk, holds no more than half of the question's topic words.
    #[arg(long, env = "GENERATOR_NO_UNANSWERED_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_unanswered_filter: Option<bool>,

    /// Drop exact and near-duplicate questions within each document, across the corpus, or not at all.
    #[arg(long, value_enum, env = "GENERATOR_DEDUPE", help_heading = "Quality",
          help = help::with_default("Drop exact and near-duplicate questions within each document, across the corpus, or not at all", help::value_name(DedupeScope::default())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<DedupeScope>,

    /// Drop pairs whose grounding (the share of the answer's content words found in the chunk) is below this, 0 to 1.
    #[arg(long, env = "GENERATOR_MIN_GROUNDING", value_name = "X", help_heading = "Quality",
          help = help::with_default("Drop pairs whose grounding (the share of the answer's content words found in the chunk) is below this, 0 to 1", QualityFilter::default().min_grounding))]
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

    /// JSON Lines or one JSON array.
    #[arg(long, value_enum, env = "GENERATOR_OUTPUT_TYPE", help_heading = "Training files",
          help = help::with_default("JSON Lines or one JSON array", help::value_name(OutputType::default())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_type: Option<OutputType>,

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

    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, env = "GENERATOR_PROGRESS_INTERVAL", value_name = "SECONDS", help_heading = "Processing",
          help = help::with_default("Seconds between progress lines when stderr is not a terminal", DEFAULT_PROGRESS_INTERVAL_SECS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_interval: Option<f64>,

    /// Repeat the run a dataset card records (the README.md `tdg export` wrote): its provider, model, sampling, prompt, plugins and quality gate, under the command line.
    #[arg(long, value_name = "CARD")]
    #[serde(skip)]
    pub from_card: Option<PathBuf>,

    /// Config file [default: the config file in the working directory, if present].
    #[arg(long, env = "TDG_CONFIG", value_name = "FILE",
          help = format!("Config file [default: {DEFAULT_CONFIG_FILE} in the working directory, if present]"))]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

/// Parses `KEY=VALUE`.
pub fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_parsing() {
        assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }
}
