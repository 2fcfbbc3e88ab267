//! `tdg validate`'s options, and the judge's settings resolved from them: the
//! model is chosen as `generate` chooses it (option > environment > config file),
//! then from the run's own record in the checkpoint, then the defaults, so that by
//! default the run's model judges its pairs.

use std::path::{Path, PathBuf};

use clap::Args;

use super::generate_args::RequestArgs;
use super::model::{
    ModelChoice, RecordedModel, check_max_tokens, check_temperature, resolve_model,
};
use super::{ConfigError, OptionName, Purpose, read_config_file};
use crate::generate::settings::DEFAULT_CONCURRENCY;
use crate::validate::ValidateSettings;

/// The judge's temperature, when not given: judgments should not vary.
pub const JUDGE_TEMPERATURE: f64 = 0.0;
/// The most tokens a judgment may have, when not given.
pub const JUDGE_MAX_TOKENS: u32 = 500;
/// How often an unreadable judgment is asked for again, when not given.
pub const JUDGE_PARSE_RETRIES: u32 = 1;

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

    /// The judge's provider [default: the config file's, else the run's].
    #[arg(long, env = "GENERATOR_PROVIDER")]
    pub provider: Option<String>,

    /// The judge model [default: the config file's, else the run's].
    #[arg(long, env = "GENERATOR_MODEL")]
    pub model: Option<String>,

    /// The judge's API base URL, repeatable [default: the config file's, else the run's].
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

    /// Judge temperature.
    #[arg(long, default_value_t = JUDGE_TEMPERATURE)]
    pub temperature: f64,

    /// Maximum judgment tokens, at least 1.
    #[arg(long, default_value_t = JUDGE_MAX_TOKENS)]
    pub max_tokens: u32,

    /// Ask for the judgment's JSON schema (OpenAI response_format, Ollama format, Gemini responseSchema; the embedded engine decodes under its grammar) [default: on for the embedded engine].
    #[arg(long, env = "GENERATOR_STRUCTURED", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub structured: Option<bool>,

    /// CPU threads for the embedded engine, at most the logical cores (more are capped, with a warning); 0 is the default [default: the physical cores].
    #[arg(long, env = "GENERATOR_THREADS", value_name = "N")]
    pub threads: Option<u32>,

    /// Judgments in flight at once [default: 16; 4 for the embedded engine].
    #[arg(long, env = "GENERATOR_CONCURRENCY")]
    pub concurrency: Option<usize>,

    /// How often an unreadable judgment is asked for again.
    #[arg(long, default_value_t = JUDGE_PARSE_RETRIES)]
    pub parse_retries: u32,

    /// Retries, timeouts and rate limits, as `generate` takes them.
    #[command(flatten)]
    pub requests: RequestArgs,

    /// The config file, for the model options [default: tdg.toml in the working directory, if present].
    #[arg(long, env = "TDG_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ValidateArgs {
    /// The judge's settings. `working_dir` is where the default config file is
    /// looked for; `env` reads environment variables (for API keys).
    pub fn resolve(
        self,
        working_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ValidateSettings, ConfigError> {
        let file = read_config_file(self.config.as_deref(), working_dir)?.unwrap_or_default();
        let requests = self.requests.over(file.requests.clone());
        let choice = ModelChoice {
            provider: self.provider,
            model: self.model,
            base_urls: self.base_url,
            ollama_base_url: env("OLLAMA_BASE_URL"),
            api_key: self.api_key,
            server_options: false,
        }
        .over_config_file(file);
        let record = recorded_model(&self.qa_dir);
        let mut model = resolve_model(choice, record.as_ref(), &env, Purpose::Generate)?;
        model.temperature = check_temperature(self.temperature, option("temperature"), &env)?;
        model.max_tokens = check_max_tokens(self.max_tokens, option("max-tokens"), &env)?;
        requests.apply_to(&mut model, &env)?;
        // The judge answers in the score schema: decoded under its grammar by default
        // on the embedded engine, sent with `--structured` to servers.
        model.answer = crate::provider::AnswerSchema::JudgeScores;
        model.structured = self
            .structured
            .unwrap_or(model.provider == crate::provider::settings::ProviderKind::Embedded);
        model.embedded.threads = super::model::checked_threads(self.threads);
        // The engine holds a KV cache per sequence: fewer at once than a server takes.
        let default_concurrency = match model.provider {
            crate::provider::settings::ProviderKind::Embedded => {
                crate::provider::embedded::DEFAULT_CONCURRENCY
            }
            _ => DEFAULT_CONCURRENCY,
        };
        Ok(ValidateSettings {
            qa_dir: self.qa_dir,
            model,
            concurrency: self.concurrency.unwrap_or(default_concurrency).max(1),
            parse_retries: self.parse_retries,
            min_score: self.min_score,
            rejudge: self.rejudge,
        })
    }
}

/// `validate`'s option `--flag`, with its environment variable.
fn option(flag: &'static str) -> OptionName {
    OptionName::of::<ValidateArgs>(flag)
}

/// The model the run in `qa_dir` was made with, from its checkpoint's latest
/// settings; none when there is no checkpoint (it is not created here).
pub fn recorded_model(qa_dir: &Path) -> Option<RecordedModel> {
    let record = crate::validate::run_settings(qa_dir)?;
    let named = |text: String| Some(text).filter(|text| !text.is_empty());
    Some(RecordedModel {
        provider: named(record.provider),
        model: named(record.model),
        base_urls: record.base_urls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: ValidateArgs,
    }

    fn args(dir: &Path, extra: &[&str]) -> ValidateArgs {
        let qa_dir = dir.join("qa");
        let mut argv = vec!["validate", "--qa-dir", qa_dir.to_str().unwrap()];
        argv.extend(extra);
        Command::try_parse_from(argv).unwrap().args
    }

    #[test]
    fn the_config_file_chooses_the_judge() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tdg.toml"),
            "provider = \"openai\"\nmodel = \"from-file\"\nbase_url = [\"http://127.0.0.1:9\"]\n",
        )
        .unwrap();
        let settings = args(dir.path(), &[]).resolve(dir.path(), |_| None).unwrap();
        assert_eq!(settings.model.provider.name(), "openai");
        assert_eq!(settings.model.model, "from-file");
        assert_eq!(settings.model.base_urls, ["http://127.0.0.1:9"]);
        assert_eq!(settings.model.temperature, JUDGE_TEMPERATURE);
        assert_eq!(settings.model.max_tokens, JUDGE_MAX_TOKENS);
        // An option wins over the file.
        let settings = args(dir.path(), &["--model", "from-flag"])
            .resolve(dir.path(), |_| None)
            .unwrap();
        assert_eq!(settings.model.model, "from-flag");
    }

    #[test]
    fn a_judge_that_cannot_answer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = args(dir.path(), &["--max-tokens", "0"])
            .resolve(dir.path(), |_| None)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "--max-tokens must be at least 1");
        let error = args(dir.path(), &["--retry-base-ms", "86400000"])
            .resolve(dir.path(), |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("--retry-base-ms must be from 1 to"),
            "{error}"
        );
    }
}
