//! `generate`: chunk files to per-document Q&A files.
//!
//! The stages, each in its own module: load chunks ([`crate::chunks`]) → build the
//! prompt ([`crate::prompt`]) → call the model ([`crate::provider`]) → parse (a
//! parser plugin) → checkpoint ([`crate::checkpoint`]) → write outputs ([`writer`]).
//! [`pipeline`] runs them concurrently, or the batch flow through a provider's batch
//! API; a run's phases (plan, start, drain, finish) are in `run.rs`.
//!
//! ```no_run
//! use tdg::generate::Generator;
//! use tdg::provider::settings::ProviderKind;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let report = Generator::builder("data/chunks", "data/qa_results", ProviderKind::OpenAi)
//!     .model("gpt-4o-mini")
//!     .api_key(std::env::var("OPENAI_API_KEY")?)
//!     .questions_per_chunk(5)
//!     .temperature(0.3)
//!     .resume(true)
//!     .build()?
//!     .run(Default::default())
//!     .await?;
//! println!("{} pairs from {} documents", report.writer.pairs, report.writer.documents_completed);
//! # Ok(()) }
//! ```

mod batch_flow;
mod batch_reattach;
pub(crate) mod chunk_work;
mod error;
pub mod estimate;
pub mod pipeline;
mod prepare;
mod record;
mod resume;
mod run;
pub mod settings;
mod summary;
pub mod writer;

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::plugin::PluginHost;
use crate::progress::ProgressMode;
use crate::provider::settings::{ApiKey, ProviderKind};
use pipeline::ProducerReport;
use settings::GenerateSettings;
use writer::WriterReport;

pub use error::{GenerateError, Retry};
pub use summary::{RunSummary, write_run_summary};

/// The run summary's file name in the Q&A directory.
pub const SUMMARY_FILE: &str = "qa_generation_summary.json";

/// What a run did.
#[derive(Debug, Default)]
pub struct RunReport {
    pub files: ProducerReport,
    pub writer: WriterReport,
    /// Set when the run was interrupted (Ctrl+C, SIGTERM).
    pub interrupted: bool,
    /// The spend when `--max-cost` stopped the run, if it did.
    pub budget_reached: Option<f64>,
    /// `--batch-api`: the batches left running (`--no-wait`, or a stopped run), which
    /// a later `--resume` collects.
    pub batches_in_flight: Vec<String>,
}

/// A configured generation run.
pub struct Generator {
    settings: GenerateSettings,
    host: PluginHost,
    progress: ProgressMode,
}

/// Builds a [`Generator`] with the original tool's defaults.
pub struct GeneratorBuilder {
    settings: GenerateSettings,
    host: Option<PluginHost>,
    progress: ProgressMode,
}

impl GeneratorBuilder {
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.settings.model.model = model.into();
        self
    }
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.model.api_key = Some(ApiKey::new(key));
        self
    }
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.settings.model.base_urls = vec![url.into()];
        self
    }
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.settings.model.temperature = temperature;
        self
    }
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.settings.model.max_tokens = max_tokens;
        self
    }
    pub fn questions_per_chunk(mut self, questions: u32) -> Self {
        self.settings.prompt.questions_per_chunk = questions;
        self
    }
    pub fn extra_instructions(mut self, text: impl Into<String>) -> Self {
        self.settings.prompt.extra_instructions = Some(text.into());
        self
    }
    pub fn system_message(mut self, text: impl Into<String>) -> Self {
        self.settings.prompt.system_message = Some(text.into());
        self
    }
    /// A minijinja template replacing the default user prompt.
    pub fn template(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.settings.prompt.template = Some((name.into(), source.into()));
        self
    }
    pub fn var(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.prompt.vars.push((key.into(), value.into()));
        self
    }
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.settings.concurrency = concurrency.max(1);
        self
    }
    pub fn resume(mut self, resume: bool) -> Self {
        self.settings.resume = resume;
        self
    }
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.settings.overwrite = overwrite;
        self
    }
    /// Asks only for the first `chunks` chunks that need work (`--limit`).
    pub fn limit(mut self, chunks: usize) -> Self {
        self.settings.limit = Some(chunks);
        self
    }
    /// Replaces every setting at once.
    pub fn settings(mut self, settings: GenerateSettings) -> Self {
        self.settings = settings;
        self
    }
    /// Shows progress on stderr (off by default).
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.progress = mode;
        self
    }
    /// Uses an existing plugin host (its limits and cache).
    pub fn plugin_host(mut self, host: PluginHost) -> Self {
        self.host = Some(host);
        self
    }
    pub fn build(self) -> Result<Generator, GenerateError> {
        let host = match self.host {
            Some(host) => host,
            None => PluginHost::with_defaults()?,
        };
        Ok(Generator {
            settings: self.settings,
            host,
            progress: self.progress,
        })
    }
}

impl Generator {
    /// A builder with the original tool's defaults for `provider`.
    pub fn builder(
        chunks_dir: impl Into<PathBuf>,
        qa_dir: impl Into<PathBuf>,
        provider: ProviderKind,
    ) -> GeneratorBuilder {
        GeneratorBuilder {
            settings: GenerateSettings::new(chunks_dir, qa_dir, provider),
            host: None,
            progress: ProgressMode::Off,
        }
    }

    /// The settings of this run.
    pub fn settings(&self) -> &GenerateSettings {
        &self.settings
    }

    /// Runs until every chunk has an outcome, a permanent error stops the run, or
    /// `cancel` is triggered (then in-flight requests get a short grace, everything
    /// is persisted, and unfinished documents are written as `interrupted`).
    pub async fn run(&self, cancel: CancellationToken) -> Result<RunReport, GenerateError> {
        let planned = run::plan(self).await?;
        let running = planned.start(&cancel)?;
        let drained = running.drain(&cancel).await;
        drained.finish(&cancel).await
    }
}

pub(super) fn write_summary(
    settings: &GenerateSettings,
    files: &ProducerReport,
    writer: &WriterReport,
) {
    let counts = RunSummary {
        total_files: files.files_seen,
        successful_files: files.files_loaded,
        failed_files: files.files_failed.len(),
        qa_files_created: writer.qa_files.clone(),
    };
    write_run_summary(&settings.qa_dir, &counts);
}
