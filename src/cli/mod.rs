//! The command line: every subcommand and flag, with help text; [`reference`]
//! renders them as the Markdown option reference.

pub mod exit_code;
pub mod reference;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::{BatchArgs, ChunkArgs, GenerateArgs, ValidateArgs, parse_key_value};
use crate::export::{ExportType, SplitBy, SplitSpec};
use crate::outputs::training_file::OutputType;
use crate::plugin::PluginLimits;
use crate::prompt::DEFAULT_PROMPT_PLUGIN;
use crate::task::ReasoningStyle;

/// The format `tdg convert` writes when none is given.
pub const DEFAULT_FORMAT: &str = "alpaca";
/// The file `tdg combine` writes when none is given, as the original tool named it.
pub const DEFAULT_OUTPUT_FILE: &str = "training_data.json";

/// Turn chunked documents into question-answer training data.
///
/// Exit codes: 0 success, 1 failure, 2 usage error, 75 a fault that may pass (run
/// again), 78 a wrong setting (fix it first), 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "tdg", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments. A usage error exits with clap's message and
    /// code 2; a bad value that came from an environment variable names it.
    pub fn parse_naming_variables() -> Cli {
        Cli::try_parse().unwrap_or_else(|error| {
            let argv: Vec<OsString> = std::env::args_os().collect();
            name_the_variable(error, &argv, |variable| {
                std::env::var_os(variable).is_some()
            })
            .exit()
        })
    }
}

/// `error` about a bad value, with the environment variable named when the value
/// came from it (the flag is not in `argv` and its variable `is_set`): clap alone
/// would name only the flag, which the user never typed.
pub fn name_the_variable(
    mut error: clap::Error,
    argv: &[OsString],
    is_set: impl Fn(&str) -> bool,
) -> clap::Error {
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return error;
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let arg = arg.clone();
    let Some(long) = arg
        .strip_prefix("--")
        .and_then(|rest| rest.split([' ', '=']).next())
    else {
        return error;
    };
    let typed = argv.iter().any(|word| {
        word.to_str().is_some_and(|word| {
            word == format!("--{long}") || word.starts_with(&format!("--{long}="))
        })
    });
    if typed {
        return error;
    }
    let command = Cli::command();
    let variable = std::iter::once(&command)
        .chain(command.get_subcommands())
        .flat_map(|command| command.get_arguments())
        .filter(|candidate| candidate.get_long() == Some(long))
        .filter_map(|candidate| candidate.get_env())
        .map(|variable| variable.to_string_lossy().into_owned())
        .find(|variable| is_set(variable));
    if let Some(variable) = variable {
        error.insert(
            ContextKind::InvalidArg,
            ContextValue::String(variable.clone()),
        );
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                format!("the environment variable {variable} sets {arg}: correct it or unset it")
                    .into(),
            ]),
        );
    }
    error
}

/// Options for every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More output: -v for tdg's debug logs, -vv for its trace, -vvv to trace its
    /// libraries too. RUST_LOG overrides.
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
    /// Split documents (text, Markdown, HTML, PDF, DOCX, EPUB, ODT) into the chunk files
    /// generate reads, one <stem>_chunks.json per document and a chunking_summary.json.
    ///
    /// Each loader but plain text's runs as a sandboxed WebAssembly component, so a file
    /// that crashes its parser fails alone. A second run rewrites only the documents
    /// whose bytes or settings changed. Options also come from CHUNKER_* variables and
    /// the config file's [chunk] table.
    Chunk(Box<ChunkArgs>),
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
    /// Join the shard directories of a sharded run (`generate --shard K/N`) into the Q&A
    /// files one unsharded run would have written, with a manifest.
    Merge(MergeArgs),
    /// Show or cancel the provider batches of a `generate --batch-api` run.
    Batch(BatchArgs),
    /// Convert Q&A files into training files (Alpaca by default).
    Convert(ConvertArgs),
    /// Export a Q&A directory as a dataset folder: splits, JSON Lines or Parquet, a
    /// dataset card, and the trainers' configuration.
    Export(Box<ExportArgs>),
    /// Upload a dataset folder that `tdg export` wrote to a dataset repository on the
    /// Hugging Face Hub, in one commit (HF_TOKEN, HF_ENDPOINT).
    Push(PushArgs),
    /// List the built-in plugins, or inspect a plugin component.
    Plugins(PluginsArgs),
    /// Open a local web page to read, filter, accept, reject and edit the pairs of a
    /// Q&A directory; decisions go to the checkpoint and the Q&A files at once.
    Review(ReviewArgs),
    /// Print the option reference (docs/reference.md) as Markdown.
    #[command(hide = true)]
    Reference,
}

/// `tdg review QA_DIR [--port N] [--host H] [--open]`
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The Q&A directory of a tdg run.
    #[arg(value_name = "QA_DIR")]
    pub qa_dir: PathBuf,

    /// The port to listen on [default: a free one].
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,

    /// The address to listen on. Anything but loopback lets other machines reach the
    /// page (the token still guards it).
    #[arg(long, value_name = "H", default_value = "127.0.0.1")]
    pub host: String,

    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,
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
    #[arg(long, value_name = "NAME|PATH.wasm", default_value = DEFAULT_FORMAT)]
    pub format: String,

    /// An option for the format plugin (repeatable).
    #[arg(long = "format-opt", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub format_options: Vec<(String, String)>,

    /// JSON Lines (one record a line) or one JSON array.
    #[arg(long, value_enum, default_value_t = OutputType::Jsonl)]
    pub output_type: OutputType,

    /// Where chat formats write an example's reasoning: in a <think> block before the answer, or in a reasoning_content field.
    #[arg(long, value_enum, default_value_t = ReasoningStyle::Think)]
    pub reasoning_style: ReasoningStyle,
}

/// `tdg export INPUT --output-dir DIR [--format ...] [--output-type ...] [--split ...]`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A Q&A directory, or the combined training_data.json that `tdg combine` writes.
    pub input: PathBuf,

    /// The dataset folder to write (README.md, data/, dataset_info.json).
    #[arg(long, value_name = "DIR")]
    pub output_dir: PathBuf,

    /// The record shape: a built-in format plugin's name, or the path to a format component.
    #[arg(long, value_name = "NAME|PATH.wasm", default_value = DEFAULT_FORMAT)]
    pub format: String,

    /// An option for the format plugin (repeatable).
    #[arg(long = "format-opt", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub format_options: Vec<(String, String)>,

    /// JSON Lines, one JSON array a file, or Parquet.
    #[arg(long, value_enum, default_value_t = ExportType::Jsonl)]
    pub output_type: ExportType,

    /// Where chat formats write an example's reasoning: in a <think> block before the answer, or in a reasoning_content field.
    #[arg(long, value_enum, default_value_t = ReasoningStyle::Think)]
    pub reasoning_style: ReasoningStyle,

    /// The splits and their fractions of the pairs, adding up to 1.
    #[arg(long, value_name = "NAME=FRACTION,...", default_value = "train=1", value_parser = parse_split)]
    pub split: SplitSpec,

    /// What a split keeps together: a document's pairs, or only a chunk's.
    #[arg(long, value_enum, default_value_t = SplitBy::Document)]
    pub split_by: SplitBy,

    /// The seed of the split: the same seed and pairs give the same splits.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Start a new file of a split after this many records [default: one file a split].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows_per_file: Option<u64>,

    /// Replace the dataset an earlier export wrote in the folder.
    #[arg(long)]
    pub overwrite: bool,

    /// The card's license, as the Hub names it (apache-2.0, cc-by-4.0, mit, other, ...).
    #[arg(long, value_name = "ID")]
    pub license: Option<String>,

    /// The card's language codes (repeatable, or comma-separated).
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub language: Vec<String>,

    /// The dataset's name on the card [default: the folder's name].
    #[arg(long, value_name = "NAME")]
    pub pretty_name: Option<String>,
}

/// `tdg push DIR --repo ORG/NAME [--private] [--revision BRANCH]`
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The dataset folder `tdg export` wrote.
    pub folder: PathBuf,

    /// The dataset repository: ORG/NAME (created when it does not exist).
    #[arg(long, value_name = "ORG/NAME")]
    pub repo: String,

    /// Create the repository private.
    #[arg(long)]
    pub private: bool,

    /// The branch to commit to (created when it does not exist).
    #[arg(long, value_name = "BRANCH", default_value = "main")]
    pub revision: String,

    /// The commit's message.
    #[arg(long, value_name = "TEXT", default_value = "Upload dataset with tdg")]
    pub message: String,
}

fn parse_split(value: &str) -> Result<SplitSpec, String> {
    SplitSpec::parse(value).map_err(|e| e.to_string())
}

/// `tdg merge QA_DIR [--output DIR] [--partial] [--allow-different-settings]`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The Q&A directory the shards ran under (it holds shard-KKKK-of-NNNN directories).
    pub qa_dir: PathBuf,

    /// Where to write the merged Q&A files, checkpoint and manifest [default: QA_DIR].
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Merge although some shards have no directory yet.
    #[arg(long)]
    pub partial: bool,

    /// Merge shards whose run settings differ (the differing settings are named otherwise).
    #[arg(long)]
    pub allow_different_settings: bool,
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
    #[arg(long, value_name = "NAME|PATH.wasm", default_value = DEFAULT_PROMPT_PLUGIN)]
    pub parser: String,
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
        default_value = DEFAULT_OUTPUT_FILE
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_bad_value_from_the_environment_names_its_variable() {
        let argv: Vec<OsString> = ["tdg", "generate"].map(OsString::from).to_vec();
        let error = Cli::try_parse_from(["tdg", "generate", "--concurrency", "many"]).unwrap_err();
        let message = name_the_variable(error, &argv, |v| v == "GENERATOR_CONCURRENCY")
            .render()
            .to_string();
        assert!(message.contains("'GENERATOR_CONCURRENCY'"), "{message}");
        assert!(message.contains("--concurrency"), "{message}");
        // Typed on the command line, the flag is what is named.
        let typed: Vec<OsString> = ["tdg", "generate", "--concurrency", "many"]
            .map(OsString::from)
            .to_vec();
        let error = Cli::try_parse_from(&typed).unwrap_err();
        let message = name_the_variable(error, &typed, |_| true)
            .render()
            .to_string();
        assert!(!message.contains("GENERATOR_CONCURRENCY"), "{message}");
    }
}
