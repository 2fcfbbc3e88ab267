//! `generate`: chunk files to per-document Q&A files.
//!
//! The stages, each in its own module: load chunks ([`crate::chunks`]) → build the
//! prompt ([`crate::prompt`]) → call the model ([`crate::provider`]) → parse (a
//! parser plugin) → checkpoint ([`crate::checkpoint`]) → write outputs ([`writer`]).
//! [`pipeline`] runs them concurrently.
//!
//! ```no_run
//! use tdg::generate::{Generator, settings::ProviderKind};
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

pub(crate) mod chunk_work;
mod error;
pub(crate) mod legacy;
pub mod pipeline;
mod prepare;
mod record;
mod resume;
pub mod settings;
mod summary;
pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::atomic_file;
use crate::checkpoint::CheckpointStore;
use crate::chunks::{self, ChunkFile};
use crate::plugin::PluginHost;
use crate::progress::{self, Progress, ProgressMode};
use crate::prompt::PromptBuilder;
use crate::provider::{ModelClient, ModelError};
use pipeline::{ProducerReport, Stop, WorkerContext};
use settings::{ApiKey, GenerateSettings, ProviderKind};
use writer::{Budget, WriterHooks, WriterMessage, WriterReport};

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
        let settings = &self.settings;
        if !settings.chunks_dir.is_dir() {
            return Err(GenerateError::NoChunksDir(settings.chunks_dir.clone()));
        }
        let files =
            chunks::list_chunk_files(&settings.chunks_dir).map_err(|source| GenerateError::Io {
                path: settings.chunks_dir.clone(),
                source,
            })?;
        if files.is_empty() {
            return Err(GenerateError::NoChunkFiles(settings.chunks_dir.clone()));
        }
        std::fs::create_dir_all(&settings.qa_dir).map_err(|source| GenerateError::CreateQaDir {
            path: settings.qa_dir.clone(),
            source,
        })?;
        let _lock = crate::dir_lock::lock(&settings.qa_dir)?;
        atomic_file::remove_stale_temporaries(&settings.qa_dir);

        let prompt = Arc::new(PromptBuilder::new(
            self.host.prompt_plugin(&settings.prompt.prompt_plugin)?,
            &settings.prompt,
            settings.model.quote_answers,
        ));
        let parser = self.host.parser_plugin(&settings.prompt.parser)?;
        // Plugin calls run off the async workers, where WASI's blocking output works.
        let preloaded = tokio::task::spawn_blocking({
            let (prompt, files) = (prompt.clone(), files.clone());
            move || prepare::check_prompt(&prompt, &files)
        })
        .await
        .map_err(|error| GenerateError::Internal(error.to_string()))??;
        prepare::prepare_qa_dir(settings)?;
        let store = CheckpointStore::open(&settings.qa_dir)?;
        let mut model = settings.model.clone();
        model.answer = crate::provider::AnswerSchema::PairsExactly(
            settings.prompt.questions_per_chunk,
            crate::provider::TypeSet::of(&settings.prompt.question_types.names()),
        );
        let client = ModelClient::new(model, settings.concurrency).map_err(GenerateError::Model)?;
        let batch_flow = match &settings.batch {
            Some(batch) => Some(crate::batch::flow::BatchFlow::prepare(
                settings, batch, &client,
            )?),
            None => None,
        };
        tracing::info!(
            "generating with {} model {} at {} ({} at a time)",
            settings.model.provider,
            settings.model.model,
            client.endpoint(),
            settings.concurrency
        );

        // Resume: import what the original tool left half-done, then read what is
        // done, before the writer takes the store.
        let mut store = store;
        let mut filter = settings.quality;
        if filter.min_judge_score.is_none() {
            filter.min_judge_score = store.quality_filter().min_judge_score;
        }
        store.set_quality_filter(&filter)?;
        let done = if settings.resume {
            legacy::import_original_runs(&mut store, &settings.qa_dir, &files);
            resume::done_chunks(&store)?
        } else {
            Default::default()
        };
        let skip_failed = settings.skip_failed;
        let (writer_tx, writer_rx) = std::sync::mpsc::channel();
        let fatal = Arc::new(std::sync::Mutex::new(None::<String>));
        let budget_reached = Arc::new(std::sync::Mutex::new(None::<f64>));
        let progress = Arc::new(Progress::default());
        progress::count_total(progress.clone(), files.clone());
        let hooks = WriterHooks {
            progress: progress.clone(),
            on_error: {
                let (fatal, cancel) = (fatal.clone(), cancel.clone());
                Box::new(move |message| {
                    *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
                    cancel.cancel();
                })
            },
            budget: budget(settings, &budget_reached, &cancel),
            training: match &settings.training {
                Some(training) => Some(writer::TrainingOutput {
                    format: self.host.format_plugin(&training.format)?,
                    options: training
                        .options
                        .iter()
                        .map(|(key, value)| crate::plugin::types::KeyValue {
                            key: key.clone(),
                            value: value.clone(),
                        })
                        .collect(),
                    output_type: training.output_type,
                    dir: training.dir.clone(),
                }),
                None => None,
            },
        };
        let plugin_threads =
            crate::plugin::PluginThreads::per_core().map_err(|source| GenerateError::Io {
                path: settings.qa_dir.clone(),
                source,
            })?;
        let qa_dir = settings.qa_dir.clone();
        let writer_thread = std::thread::Builder::new()
            .name("tdg-writer".into())
            .spawn(move || writer::run(store, qa_dir, writer_rx, hooks))
            .map_err(|source| GenerateError::Io {
                path: settings.qa_dir.clone(),
                source,
            })?;

        let display_stop = CancellationToken::new();
        let display = tokio::spawn(progress::display(
            progress.clone(),
            self.progress,
            display_stop.clone(),
        ));
        let context = Arc::new(WorkerContext {
            prompt,
            parser,
            client: client.clone(),
            run_record: Arc::new(record::run_record(settings)),
            questions: settings.prompt.questions_per_chunk,
            parse_retries: settings.prompt.parse_retries,
            grace: Duration::from_secs(5),
            prompt_sides: Default::default(),
            plugin_threads,
        });
        let (queue_tx, queue_rx) = mpsc::channel(settings.concurrency * 2);
        let queue_rx = Arc::new(Mutex::new(queue_rx));
        // Live workers, or the batch flow in their place.
        let mut workers = Vec::new();
        let mut batches = None;
        match batch_flow {
            Some(flow) => {
                batches = Some(tokio::spawn(flow(context.clone()).run(
                    queue_rx.clone(),
                    writer_tx.clone(),
                    cancel.clone(),
                )));
            }
            None => {
                workers = (0..settings.concurrency)
                    .map(|_| {
                        tokio::spawn(pipeline::worker(
                            context.clone(),
                            queue_rx.clone(),
                            writer_tx.clone(),
                            cancel.clone(),
                        ))
                    })
                    .collect();
            }
        }
        let generation_info = record::generation_info(settings);
        let shard = settings.shard;
        let plan = move |file: ChunkFile| {
            resume::plan_document(file, &done, skip_failed, shard, &generation_info)
        };
        let input = pipeline::ProducerInput {
            files,
            preloaded,
            limit: settings.limit,
        };
        let files_report = pipeline::produce(
            input,
            plan,
            writer_tx.clone(),
            queue_tx,
            cancel.clone(),
            &progress,
        )
        .await;

        let mut stop = None;
        let mut lost_worker = None;
        let mut stopped = |reason: Stop| match reason {
            Stop::Model(error) => {
                stop.get_or_insert(error);
            }
            Stop::Record(message) => {
                let mut fatal = fatal.lock().unwrap_or_else(|p| p.into_inner());
                fatal.get_or_insert(message);
            }
        };
        for worker in workers {
            match worker.await {
                Ok(Some(reason)) => stopped(reason),
                Ok(None) => {}
                Err(error) => {
                    cancel.cancel();
                    lost_worker.get_or_insert(error.to_string());
                }
            }
        }
        let mut flow_report = crate::batch::flow::FlowReport::default();
        if let Some(batches) = batches {
            match batches.await {
                Ok(Ok(report)) => flow_report = report,
                Ok(Err(reason)) => {
                    cancel.cancel();
                    stopped(reason);
                }
                Err(error) => {
                    cancel.cancel();
                    lost_worker.get_or_insert(error.to_string());
                }
            }
        }
        let store_error = fatal.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let interrupted = cancel.is_cancelled() && stop.is_none() && store_error.is_none();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let _ = writer_tx.send(WriterMessage::Finish {
            // Chunks waiting on a batch are not done: their documents stay unfinished.
            interrupted: cancel.is_cancelled() || !flow_report.in_flight.is_empty(),
            done: done_tx,
        });
        let writer_report = done_rx.recv().unwrap_or_default();
        let _ = writer_thread.join();
        display_stop.cancel();
        let _ = display.await;

        write_summary(settings, &files_report, &writer_report);
        if let Some(message) = store_error {
            return Err(GenerateError::Recording(message));
        }
        if let Some(message) = lost_worker {
            return Err(GenerateError::Internal(message));
        }
        if let Some(error) = stop {
            if let ModelError::Permanent { status: 404, .. } = &error
                && let Ok(available) = client.available_models().await
            {
                return Err(GenerateError::UnknownModel {
                    error,
                    available: available.join(", "),
                });
            }
            return Err(GenerateError::Model(error));
        }
        let budget_reached = budget_reached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .or(flow_report.budget_reached);
        Ok(RunReport {
            files: files_report,
            writer: writer_report,
            interrupted: interrupted && budget_reached.is_none(),
            budget_reached,
            batches_in_flight: flow_report.in_flight,
        })
    }
}

/// The `--max-cost` budget: when reached, the run stops as if by Ctrl+C.
fn budget(
    settings: &GenerateSettings,
    reached: &Arc<std::sync::Mutex<Option<f64>>>,
    cancel: &CancellationToken,
) -> Option<Budget> {
    let max = settings.cost.max_cost?;
    let (reached, cancel) = (reached.clone(), cancel.clone());
    Some(Budget {
        prices: settings.cost,
        max,
        on_reached: Box::new(move |spent| {
            tracing::warn!("the estimated spend reached ${spent:.4} (--max-cost ${max}): stopping");
            *reached.lock().unwrap_or_else(|p| p.into_inner()) = Some(spent);
            cancel.cancel();
        }),
    })
}

fn write_summary(settings: &GenerateSettings, files: &ProducerReport, writer: &WriterReport) {
    let counts = RunSummary {
        total_files: files.files_seen,
        successful_files: files.files_loaded,
        failed_files: files.files_failed.len(),
        qa_files_created: writer.qa_files.clone(),
    };
    write_run_summary(&settings.qa_dir, &counts);
}
