//! One run of [`super::Generator`], phase by phase, each a function that reads in one
//! screen:
//!
//! 1. [`plan`]: check the directories, load the plugins, open the checkpoint and the
//!    model client, and learn what earlier runs finished;
//! 2. [`Planned::start`]: start the writer thread, the progress display, and either
//!    the live workers or the batch flow in their place;
//! 3. [`Running::drain`]: feed them the chunk files, then wait for every worker;
//! 4. [`Drained::finish`]: let the writer finish, write the summary, and turn what
//!    stopped the run into its error.

use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::batch_flow::{BatchFlow, FlowReport};
use super::chunk_work::{Job, Stop, WorkerContext};
use super::pipeline::{self, Preloaded, ProducerReport};
use super::settings::GenerateSettings;
use super::writer::{self, Budget, WriterHooks, WriterMessage};
use super::{GenerateError, Generator, RunReport, prepare, record, resume};
use crate::checkpoint::CheckpointStore;
use crate::chunks::{self, ChunkFile};
use crate::plugin::{ParserPlugin, PluginThreads};
use crate::progress::{self, Progress};
use crate::prompt::PromptBuilder;
use crate::provider::ExampleShape;
use crate::provider::{AnswerSchema, ModelClient, ModelError, TypeSet};
use crate::{atomic_file, dir_lock};

/// How long a request in flight may go on after Ctrl+C.
const GRACE: Duration = Duration::from_secs(5);

/// What a run works from once it is planned.
pub(super) struct Planned<'a> {
    generator: &'a Generator,
    files: Vec<std::path::PathBuf>,
    preloaded: Option<Preloaded>,
    store: CheckpointStore,
    client: ModelClient,
    prompt: Arc<PromptBuilder>,
    parser: ParserPlugin,
    /// The batch flow, given the workers' context when it takes their place.
    batch_flow: Option<Box<dyn FnOnce(Arc<WorkerContext>) -> BatchFlow + Send>>,
    /// The chunks earlier runs finished.
    done: resume::DoneChunks,
    /// Held for the whole run: one writer per Q&A directory.
    lock: dir_lock::DirLock,
}

/// Phase 1: everything checked and opened before any chunk is asked.
pub(super) async fn plan(generator: &Generator) -> Result<Planned<'_>, GenerateError> {
    let settings = &generator.settings;
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
    chunks::check_distinct_stems(&files)?;
    std::fs::create_dir_all(&settings.qa_dir).map_err(|source| GenerateError::CreateQaDir {
        path: settings.qa_dir.clone(),
        source,
    })?;
    let lock = dir_lock::lock(&settings.qa_dir)?;
    atomic_file::remove_stale_temporaries(&settings.qa_dir);

    let prompt = Arc::new(PromptBuilder::new(
        generator
            .host
            .prompt_plugin(&settings.prompt.prompt_plugin)?,
        &settings.prompt,
        settings.model.quote_answers,
    ));
    let parser = generator.host.parser_plugin(&settings.prompt.parser)?;
    // Plugin calls run off the async workers, where WASI's blocking output works.
    let preloaded = tokio::task::spawn_blocking({
        let (prompt, files) = (prompt.clone(), files.clone());
        move || prepare::check_prompt(&prompt, &files)
    })
    .await
    .map_err(|error| GenerateError::Internal(error.to_string()))??;
    prepare::prepare_qa_dir(settings)?;
    let mut store = CheckpointStore::open(&settings.qa_dir)?;
    let mut model = settings.model.clone();
    model.answer = AnswerSchema::PairsExactly(
        settings.prompt.questions_per_chunk,
        TypeSet::of(&settings.prompt.question_types.names()),
        ExampleShape::of(settings.prompt.task, settings.prompt.turns),
    );
    let client = ModelClient::new(model, settings.concurrency).map_err(GenerateError::Model)?;
    let batch_flow = match &settings.batch {
        Some(batch) => Some(Box::new(BatchFlow::prepare(settings, batch, &client)?) as Box<_>),
        None => None,
    };
    tracing::info!(
        "generating with {} model {} at {} ({} at a time)",
        settings.model.provider,
        settings.model.model,
        client.endpoint(),
        settings.concurrency
    );

    // Resume: import what the original tool left half-done, then read what is done,
    // before the writer takes the store.
    let mut filter = settings.quality;
    if filter.min_judge_score.is_none() {
        filter.min_judge_score = store.quality_filter().min_judge_score;
    }
    store.set_quality_filter(&filter)?;
    let done = if settings.resume {
        crate::checkpoint::original_import::import_original_runs(
            &mut store,
            &settings.qa_dir,
            &files,
        );
        resume::done_chunks(&store)?
    } else {
        Default::default()
    };
    Ok(Planned {
        generator,
        files,
        preloaded,
        store,
        client,
        prompt,
        parser,
        batch_flow,
        done,
        lock,
    })
}

/// A run under way: its writer, its display, and its workers or batch flow.
pub(super) struct Running<'a> {
    settings: &'a GenerateSettings,
    files: Vec<std::path::PathBuf>,
    preloaded: Option<Preloaded>,
    done: resume::DoneChunks,
    client: ModelClient,
    progress: Arc<Progress>,
    /// Why the writer could not record, if it could not.
    fatal: Arc<SyncMutex<Option<String>>>,
    budget_reached: Arc<SyncMutex<Option<f64>>>,
    writer_tx: std::sync::mpsc::Sender<WriterMessage>,
    writer_thread: std::thread::JoinHandle<()>,
    display: JoinHandle<()>,
    display_stop: CancellationToken,
    queue_tx: mpsc::Sender<Job>,
    workers: Vec<JoinHandle<Option<Stop>>>,
    batches: Option<JoinHandle<Result<FlowReport, Stop>>>,
    _lock: dir_lock::DirLock,
}

impl<'a> Planned<'a> {
    /// Phase 2: the writer thread takes the checkpoint; the workers (or the batch
    /// flow) wait on the queue.
    pub(super) fn start(self, cancel: &CancellationToken) -> Result<Running<'a>, GenerateError> {
        let generator = self.generator;
        let settings = &generator.settings;
        let (writer_tx, writer_rx) = std::sync::mpsc::channel();
        let fatal = Arc::new(SyncMutex::new(None::<String>));
        let budget_reached = Arc::new(SyncMutex::new(None::<f64>));
        let progress = Arc::new(Progress::default());
        progress::count_total(progress.clone(), self.files.clone());
        let hooks = WriterHooks {
            progress: progress.clone(),
            on_error: {
                let (fatal, cancel) = (fatal.clone(), cancel.clone());
                Box::new(move |message| {
                    *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
                    cancel.cancel();
                })
            },
            budget: budget(settings, &budget_reached, cancel),
            training: match &settings.training {
                Some(training) => Some(writer::TrainingOutput {
                    format: generator.host.format_plugin(&training.format)?,
                    options: crate::outputs::training_file::plugin_options(&training.options),
                    output_type: training.output_type,
                    reasoning_style: training.reasoning_style,
                    dir: training.dir.clone(),
                }),
                None => None,
            },
        };
        let io_error = |source| GenerateError::Io {
            path: settings.qa_dir.clone(),
            source,
        };
        let plugin_threads = PluginThreads::per_core().map_err(io_error)?;
        let (store, qa_dir) = (self.store, settings.qa_dir.clone());
        let writer_thread = std::thread::Builder::new()
            .name("tdg-writer".into())
            .spawn(move || writer::run(store, qa_dir, writer_rx, hooks))
            .map_err(io_error)?;

        let display_stop = CancellationToken::new();
        let display = tokio::spawn(progress::display(
            progress.clone(),
            generator.progress,
            display_stop.clone(),
        ));
        let run_record = record::run_record(settings);
        let context = Arc::new(WorkerContext {
            prompt: self.prompt,
            parser: self.parser,
            client: self.client.clone(),
            asked: run_record.asked(),
            run_record: Arc::new(run_record),
            parse_retries: settings.prompt.parse_retries,
            grace: GRACE,
            prompt_sides: Default::default(),
            plugin_threads,
        });
        let (queue_tx, queue_rx) = mpsc::channel(settings.concurrency * 2);
        let queue_rx = Arc::new(Mutex::new(queue_rx));
        // Live workers, or the batch flow in their place.
        let (workers, batches) = match self.batch_flow {
            Some(flow) => {
                let flow = flow(context).run(queue_rx, writer_tx.clone(), cancel.clone());
                (Vec::new(), Some(tokio::spawn(flow)))
            }
            None => {
                let worker = |_| {
                    tokio::spawn(pipeline::worker(
                        context.clone(),
                        queue_rx.clone(),
                        writer_tx.clone(),
                        cancel.clone(),
                    ))
                };
                ((0..settings.concurrency).map(worker).collect(), None)
            }
        };
        Ok(Running {
            settings,
            files: self.files,
            preloaded: self.preloaded,
            done: self.done,
            client: self.client,
            progress,
            fatal,
            budget_reached,
            writer_tx,
            writer_thread,
            display,
            display_stop,
            queue_tx,
            workers,
            batches,
            _lock: self.lock,
        })
    }
}

/// A run whose workers have all stopped.
pub(super) struct Drained<'a> {
    running: Running<'a>,
    files_report: ProducerReport,
    flow_report: FlowReport,
    /// The model error that stopped the run, if one did.
    stop: Option<ModelError>,
    /// A worker that died (a bug), if one did.
    lost_worker: Option<String>,
}

impl<'a> Running<'a> {
    /// Phase 3: the producer queues each document's pending chunks, then every worker
    /// (or the batch flow) is waited for.
    pub(super) async fn drain(mut self, cancel: &CancellationToken) -> Drained<'a> {
        let settings = self.settings;
        let generation_info = record::generation_info(settings);
        let (skip_failed, shard) = (settings.skip_failed, settings.shard);
        let done = std::mem::take(&mut self.done);
        let plan = move |file: ChunkFile| {
            resume::plan_document(file, &done, skip_failed, shard, &generation_info)
        };
        let input = pipeline::ProducerInput {
            files: std::mem::take(&mut self.files),
            preloaded: self.preloaded.take(),
            limit: settings.limit,
        };
        let (queue_tx, _) = mpsc::channel(1);
        let queue_tx = std::mem::replace(&mut self.queue_tx, queue_tx);
        let files_report = pipeline::produce(
            input,
            plan,
            self.writer_tx.clone(),
            queue_tx,
            cancel.clone(),
            &self.progress,
        )
        .await;

        let mut stop = None;
        let mut lost_worker = None;
        let fatal = self.fatal.clone();
        let mut stopped = |reason: Stop| match reason {
            Stop::Model(error) => {
                stop.get_or_insert(error);
            }
            Stop::Record(message) => {
                let mut fatal = fatal.lock().unwrap_or_else(|p| p.into_inner());
                fatal.get_or_insert(message);
            }
        };
        for worker in std::mem::take(&mut self.workers) {
            match worker.await {
                Ok(Some(reason)) => stopped(reason),
                Ok(None) => {}
                Err(error) => {
                    cancel.cancel();
                    lost_worker.get_or_insert(error.to_string());
                }
            }
        }
        let mut flow_report = FlowReport::default();
        if let Some(batches) = self.batches.take() {
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
        Drained {
            running: self,
            files_report,
            flow_report,
            stop,
            lost_worker,
        }
    }
}

impl Drained<'_> {
    /// Phase 4: every outcome made durable and every view written, the summary
    /// written, and the run's end turned into its report or its error.
    pub(super) async fn finish(
        self,
        cancel: &CancellationToken,
    ) -> Result<RunReport, GenerateError> {
        let Drained {
            running,
            files_report,
            flow_report,
            stop,
            lost_worker,
        } = self;
        let store_error = running
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let interrupted = cancel.is_cancelled() && stop.is_none() && store_error.is_none();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let _ = running.writer_tx.send(WriterMessage::Finish {
            // Chunks waiting on a batch are not done: their documents stay unfinished.
            interrupted: cancel.is_cancelled() || !flow_report.in_flight.is_empty(),
            done: done_tx,
        });
        let writer_report = done_rx.recv().unwrap_or_default();
        let _ = running.writer_thread.join();
        running.display_stop.cancel();
        let _ = running.display.await;

        super::write_summary(running.settings, &files_report, &writer_report);
        if let Some(message) = store_error {
            return Err(GenerateError::Recording(message));
        }
        if let Some(message) = lost_worker {
            return Err(GenerateError::Internal(message));
        }
        if let Some(error) = stop {
            if let ModelError::Permanent { status: 404, .. } = &error
                && let Ok(available) = running.client.available_models().await
            {
                return Err(GenerateError::UnknownModel {
                    error,
                    available: available.join(", "),
                });
            }
            return Err(GenerateError::Model(error));
        }
        let budget_reached = running
            .budget_reached
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
    reached: &Arc<SyncMutex<Option<f64>>>,
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
