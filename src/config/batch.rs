//! `tdg batch status|cancel`'s options: the Q&A directory, and the model options that
//! reach its provider, resolved as `validate` resolves them (option > environment >
//! config file > the run's own record in the checkpoint), so that in the directory
//! of a `--batch-api` run no option but `--qa-dir` is needed.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::model::{ModelChoice, RecordedModel, resolve_model};
use super::validate::recorded_model;
use super::{ConfigError, Purpose, read_config_file};
use crate::provider::settings::ModelSettings;

/// `tdg batch status|cancel`
#[derive(Debug, Args)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub action: BatchAction,
}

/// What to do with a run's batches.
#[derive(Debug, Subcommand)]
pub enum BatchAction {
    /// Show each batch of a `--batch-api` run: its chunks, and its state at the provider.
    Status(BatchTarget),
    /// Ask the provider to cancel every batch still running. Answers already made are
    /// kept; the next `generate --resume` records them and asks again for the rest.
    Cancel(BatchTarget),
}

/// The run, and how to reach its provider.
#[derive(Debug, Args)]
pub struct BatchTarget {
    /// The Q&A directory of a `generate --batch-api` run.
    #[arg(long, env = "GENERATOR_OUTPUT_DIR", value_name = "DIR")]
    pub qa_dir: PathBuf,

    /// The provider [default: the config file's, else the run's].
    #[arg(long, env = "GENERATOR_PROVIDER")]
    pub provider: Option<String>,

    /// The model [default: the config file's, else the run's].
    #[arg(long, env = "GENERATOR_MODEL")]
    pub model: Option<String>,

    /// The API base URL [default: the config file's, else the run's].
    #[arg(
        long,
        env = "GENERATOR_BASE_URL",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub base_url: Vec<String>,

    /// API key [default: the config file's, else from the provider's variable].
    #[arg(long)]
    pub api_key: Option<String>,

    /// The config file, for the model options [default: tdg.toml in the working directory, if present].
    #[arg(long, env = "TDG_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl BatchTarget {
    /// The Q&A directory and the provider's settings.
    pub fn resolve(
        self,
        working_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(PathBuf, ModelSettings), ConfigError> {
        let file = read_config_file(self.config.as_deref(), working_dir)?.unwrap_or_default();
        let choice = ModelChoice {
            provider: self.provider,
            model: self.model,
            base_urls: self.base_url,
            ollama_base_url: None,
            api_key: self.api_key,
            server_options: false,
        }
        .over_config_file(file);
        // The run's record; before any answer is recorded, the batches' own.
        let record = recorded_model(&self.qa_dir).or_else(|| {
            let ledger = crate::batch::Ledger::open(&self.qa_dir).ok()?;
            let last = ledger.batches().ok()?.pop()?;
            Some(RecordedModel {
                provider: Some(last.provider),
                model: Some(last.model),
                base_urls: vec![last.base_url]
                    .into_iter()
                    .filter(|u| !u.is_empty())
                    .collect(),
            })
        });
        let model = resolve_model(choice, record.as_ref(), &env, Purpose::Generate)?;
        Ok((self.qa_dir, model))
    }
}
