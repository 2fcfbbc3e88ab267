//! The command line: every subcommand and flag, with help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::GenerateArgs;
use crate::convert::OutputType;
use crate::plugin::PluginLimits;

/// Turn chunked documents into question-answer training data.
///
/// Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "tdg", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More output: -v for debug, -vv for trace. RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// The most memory a plugin may use in one call, in MiB.
    #[arg(long, global = true, env = "TDG_PLUGIN_MEMORY_MB", value_name = "MIB",
          default_value_t = PluginLimits::DEFAULT_MEMORY_MIB, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub plugin_memory_mb: u32,

    /// The most time one plugin call may take, in milliseconds.
    #[arg(long, global = true, env = "TDG_PLUGIN_TIMEOUT_MS", value_name = "MS",
          default_value_t = PluginLimits::DEFAULT_TIME_MS, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub plugin_timeout_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate question-answer pairs for every chunk file, one Q&A file per document.
    ///
    /// Each option can also come from its environment variable (shown below), from
    /// a TOML config file (--config, or tdg.toml in the working directory; keys are the
    /// option names with `_` for `-`), or from a .env file in the working directory.
    /// Precedence: option > environment > config file > default.
    Generate(Box<GenerateArgs>),
    /// Print the exact messages generate would send for one chunk, and call no model.
    ///
    /// Takes generate's options (template, variables, system message, ...), so a
    /// template can be tried before a run.
    Prompt(Box<PromptArgs>),
    /// Show, per document and in total, chunks done, failed and skipped, pairs, success
    /// rate, tokens, time per chunk, and the most common causes of failure.
    Stats(StatsArgs),
    /// Print a shell completion script: `tdg completions bash > /etc/bash_completion.d/tdg`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Run a parser again over the raw answers the checkpoint keeps, and rewrite the Q&A
    /// files, without calling the model.
    Reparse(ReparseArgs),
    /// Have a model judge each pair against its source text: accuracy, completeness and
    /// consistency, 0 to 10 each; a pair passes at 8. Judges only pairs without a score yet.
    Validate(Box<ValidateArgs>),
    /// Combine the Q&A files of a directory into one training_data.json.
    Combine(CombineArgs),
    /// Convert Q&A files into training files (Alpaca by default).
    Convert(ConvertArgs),
    /// List the built-in plugins, or inspect a plugin component.
    Plugins(PluginsArgs),
}

/// `tdg convert INPUT [--output-dir DIR] [--output-file FILE] [--format NAME|PATH.wasm]`
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// A Q&A file (`*_qa.json`) or a directory of them.
    pub input: PathBuf,

    /// Where to write training files [default: beside the input].
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// The output file name, for a single input file [default: <stem>_trainingdata.jsonl].
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// The output format: a built-in plugin's name, or the path to a format component.
    #[arg(long, value_name = "NAME|PATH.wasm", default_value = "alpaca")]
    pub format: String,

    /// An option for the format plugin (repeatable).
    #[arg(long = "format-opt", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub format_options: Vec<(String, String)>,

    /// JSON Lines (one record a line) or one JSON array.
    #[arg(long, value_enum, default_value_t = OutputType::Jsonl)]
    pub output_type: OutputType,
}

/// `tdg prompt --chunks-dir DIR [--file NAME] [--chunk N]`
#[derive(Debug, Args)]
pub struct PromptArgs {
    /// The chunk file: its name or stem [default: the first].
    #[arg(long, value_name = "NAME")]
    pub file: Option<String>,

    /// The chunk's position in the file [default: the first with text].
    #[arg(long, value_name = "N")]
    pub chunk: Option<u32>,

    /// Print the messages as JSON, as they are sent.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub generate: GenerateArgs,
}

/// `tdg stats QA_DIR [--json]`
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The Q&A directory.
    #[arg(value_name = "QA_DIR")]
    pub qa_dir: PathBuf,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tdg reparse --qa-dir DIR [--parser NAME|PATH.wasm]`
#[derive(Debug, Args)]
pub struct ReparseArgs {
    /// The Q&A directory of a tdg run.
    #[arg(long, env = "GENERATOR_OUTPUT_DIR", value_name = "DIR")]
    pub qa_dir: PathBuf,

    /// The parser: a built-in name or a component path.
    #[arg(long, value_name = "NAME|PATH.wasm", default_value = "default-prompt")]
    pub parser: String,
}

/// `tdg validate --qa-dir DIR [--min-score X] [model options]`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The Q&A directory of a tdg run.
    #[arg(long, env = "GENERATOR_OUTPUT_DIR", value_name = "DIR")]
    pub qa_dir: PathBuf,

    /// Drop pairs whose overall score is below this from the Q&A files (they stay in the checkpoint).
    #[arg(long, value_name = "X")]
    pub min_score: Option<f64>,

    /// Judge every pair again, even those already scored.
    #[arg(long)]
    pub rejudge: bool,

    /// The judge's provider [default: the run's].
    #[arg(long)]
    pub provider: Option<String>,

    /// The judge model [default: the run's].
    #[arg(long)]
    pub model: Option<String>,

    /// The judge's API base URL, repeatable [default: the run's].
    #[arg(long, value_name = "URL", value_delimiter = ',')]
    pub base_url: Vec<String>,

    /// API key [default: from the provider's variable].
    #[arg(long)]
    pub api_key: Option<String>,

    /// Judge temperature.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,

    /// Maximum judgment tokens.
    #[arg(long, default_value_t = 500)]
    pub max_tokens: u32,

    /// Judgments in flight at once.
    #[arg(long, env = "GENERATOR_CONCURRENCY", default_value_t = 16)]
    pub concurrency: usize,

    /// How often an unreadable judgment is asked for again.
    #[arg(long, default_value_t = 1)]
    pub parse_retries: u32,

    /// How often a transient failure is retried.
    #[arg(long, env = "GENERATOR_MAX_RETRIES", default_value_t = 5)]
    pub max_retries: u32,

    /// The first retry's backoff in milliseconds.
    #[arg(long, env = "GENERATOR_RETRY_BASE_MS", default_value_t = 500)]
    pub retry_base_ms: u64,
}

/// `tdg combine --qa-dir DIR --output-file FILE`
#[derive(Debug, Args)]
pub struct CombineArgs {
    /// Input Q&A files directory.
    #[arg(long, env = "GENERATOR_OUTPUT_DIR", value_name = "DIR")]
    pub qa_dir: PathBuf,

    /// Output combined training data file.
    #[arg(
        long,
        env = "GENERATOR_OUTPUT_FILE",
        value_name = "FILE",
        default_value = "training_data.json"
    )]
    pub output_file: PathBuf,
}

#[derive(Debug, Args)]
pub struct PluginsArgs {
    #[command(subcommand)]
    pub command: Option<PluginsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Say which roles a component fills and which contract version it was built against.
    Inspect {
        /// The component file.
        path: PathBuf,
    },
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
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn key_value_parsing() {
        assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }
}
