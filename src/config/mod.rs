//! Resolving settings from the command line, the environment, a TOML config file and
//! the defaults, in that order of precedence (for `validate`, the run's own record
//! comes before the defaults).
//!
//! Every flag and environment variable of the original tool is accepted
//! (`GENERATOR_*`, `OLLAMA_*`). A `.env` file in the working directory (or above it)
//! is read into the environment first ([`load_dotenv`]; variables already set win).
//! The config file is `--config FILE` (or `TDG_CONFIG`), else `tdg.toml` in the
//! working directory if present; its keys are the long flag names with `_` for `-`
//! (`questions_per_chunk = 5`), plus a `[vars]` table for template variables.
//!
//! - [`args`]: `generate`'s options, which are also the config file's keys;
//! - [`generate`]: those options resolved into a run's settings;
//! - [`validate`]: `validate`'s options resolved into the judge's settings;
//! - [`model`]: choosing the provider, model, servers and key, shared by both;
//! - [`help`]: help texts built from the defaults the code uses.

pub mod batch;
mod card;
pub mod chunk;
mod dotenv;
mod generate;
mod generate_args;
pub mod help;
pub mod model;
pub mod validate;

use std::path::{Path, PathBuf};

pub use batch::{BatchAction, BatchArgs};
pub use chunk::ChunkArgs;
pub use dotenv::{DotEnv, load_dotenv, read_dotenv};
pub use generate_args::{GenerateArgs, parse_key_value};
pub use model::{ModelChoice, OptionName, RecordedModel, resolve_key};
pub use validate::ValidateArgs;

use crate::plugin::PluginError;
use crate::provider::settings::ProviderKind;

/// The config file read when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "tdg.toml";
/// Seconds between progress lines when stderr is not a terminal, when not given.
pub const DEFAULT_PROGRESS_INTERVAL_SECS: f64 = 10.0;

/// What the settings are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
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
    #[error(
        "{}, line {line}: cannot read `{text}`: write KEY=VALUE, and quote a value that holds spaces, quotes or #",
        path.display()
    )]
    DotEnv {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("{what} is required: give {flag} (or set {variable})")]
    Missing {
        what: &'static str,
        flag: &'static str,
        variable: &'static str,
    },
    #[error(
        "unknown provider `{0}`: use openai, claude (anthropic), gemini, local (ollama) or embedded"
    )]
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
    /// `option` is `--flag`, or `VARIABLE (--flag)` when the bad value came from the
    /// environment.
    #[error("{option} must be {rule}")]
    Invalid { option: String, rule: String },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Shard(#[from] crate::shard::ShardError),
}

impl ConfigError {
    /// A wrong setting: the same command fails the same way until it is fixed.
    pub fn retry(&self) -> crate::failure::Retry {
        crate::failure::Retry::Futile
    }

    /// `name` must follow `rule`, and is `value`. The environment variable is named
    /// when it holds that value, so that a bad `GENERATOR_*` setting is found.
    pub fn invalid(
        name: OptionName,
        rule: String,
        value: f64,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let from_environment = name.variable.filter(|variable| {
            env(variable).and_then(|text| text.trim().parse::<f64>().ok()) == Some(value)
        });
        let option = match from_environment {
            Some(variable) => format!("{variable} (--{})", name.flag),
            None => format!("--{}", name.flag),
        };
        ConfigError::Invalid { option, rule }
    }
}

/// The config file's options: `explicit` (`--config`), else [`DEFAULT_CONFIG_FILE`]
/// in `working_dir` if there is one, else none.
pub fn read_config_file(
    explicit: Option<&Path>,
    working_dir: &Path,
) -> Result<Option<GenerateArgs>, ConfigError> {
    let Some(ConfigText { path, text, table }) = read_config_text(explicit, working_dir)? else {
        return Ok(None);
    };
    let parse_error = |message: String| ConfigError::Parse {
        path: path.clone(),
        message,
    };
    // `[chunk]` is `tdg chunk`'s table (`chunk::ChunkArgs`), checked when it is read.
    let keys = table
        .keys()
        .map(String::as_str)
        .filter(|key| *key != "chunk");
    if let Some(key) = generate_args::unknown_key(keys) {
        return Err(parse_error(format!(
            "unknown key `{key}`: the keys are `tdg generate`'s long options with `_` for `-` \
             (docs/reference.md)"
        )));
    }
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| parse_error(e.to_string()))
}

/// A config file read and parsed as TOML.
pub(crate) struct ConfigText {
    pub path: PathBuf,
    pub text: String,
    pub table: toml::Table,
}

/// The config file: `explicit` (`--config`), else [`DEFAULT_CONFIG_FILE`] in
/// `working_dir` when there is one; `None` when neither is given.
pub(crate) fn read_config_text(
    explicit: Option<&Path>,
    working_dir: &Path,
) -> Result<Option<ConfigText>, ConfigError> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let default = working_dir.join(DEFAULT_CONFIG_FILE);
            if !default.is_file() {
                return Ok(None);
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(Some(ConfigText { path, text, table }))
}
