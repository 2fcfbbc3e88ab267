//! The flow of one run: a producer loads chunk files one at a time and queues their
//! pending chunks; `concurrency` workers each take a chunk, build its prompt, call
//! the model, parse the answer (asking again when it holds no pair) and hand the
//! outcome to the writer.
//!
//! Memory is bounded by the queue, not by the corpus: the producer loads the next
//! file only when the queue has room, and a document is freed when its last chunk is
//! done.
//!
//! No chunk is ever lost: plugin calls run on dedicated plugin threads (a plugin's
//! blocking WASI output would panic on an async worker), and a panic anywhere in a
//! chunk's work becomes that chunk's recorded failure, with its cause.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use serde_json::json;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use super::writer::WriterMessage;
use crate::checkpoint::{ChunkOutcome, ChunkStatus, StoredPair};
use crate::chunks::{ChunkFile, ChunkFileError, MAX_CHUNK_TEXT_BYTES};
use crate::plugin::{ParserPlugin, PluginThreads, panic_text, parser::ParseError};
use crate::prompt::PromptBuilder;
use crate::provider::{Message, ModelClient, ModelError};

/// One chunk to process.
pub struct Job {
    pub doc: Arc<ChunkFile>,
    pub index: usize,
}

/// What the workers share.
pub struct WorkerContext {
    pub prompt: Arc<PromptBuilder>,
    pub parser: ParserPlugin,
    pub client: ModelClient,
    /// The settings every outcome records it was made with.
    pub run_record: Arc<crate::checkpoint::RunRecord>,
    pub questions: u32,
    pub parse_retries: u32,
    /// How long a request in flight may go on after Ctrl+C.
    pub grace: Duration,
    /// The quality gate's view of the prompt, shared while it stays the same.
    pub prompt_sides: crate::quality::PromptSideCache,
    /// Where the prompt and parser plugins run, off the async workers.
    pub plugin_threads: PluginThreads,
}

/// Why a worker stopped the run.
pub enum Stop {
    Model(ModelError),
}

/// Runs one worker until the queue is empty or the run is cancelled. Returns the
/// error that must stop the run, if one happened.
pub async fn worker(
    context: Arc<WorkerContext>,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    writer: std::sync::mpsc::Sender<WriterMessage>,
    cancel: CancellationToken,
) -> Option<Stop> {
    loop {
        let job = {
            let mut queue = queue.lock().await;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return None,
                job = queue.recv() => job,
            }
        };
        let job = job?;
        let work = AssertUnwindSafe(process(&context, &job)).catch_unwind();
        let result = tokio::select! {
            result = work => result.unwrap_or_else(|panic| {
                let cause = format!("tdg failed on this chunk (a bug; please report it): {}", panic_text(panic.as_ref()));
                Ok(failed(new_outcome(&context, &job), &job, cause, Instant::now()))
            }),
            _ = async { cancel.cancelled().await; tokio::time::sleep(context.grace).await } => return None,
        };
        match result {
            Ok(outcome) => {
                if writer
                    .send(WriterMessage::Outcome(Box::new(outcome)))
                    .is_err()
                {
                    return None;
                }
            }
            Err(stop) => {
                cancel.cancel();
                return Some(stop);
            }
        }
    }
}

/// A chunk's outcome before any work: failed, with nothing recorded.
fn new_outcome(context: &WorkerContext, job: &Job) -> ChunkOutcome {
    let chunk = &job.doc.chunks[job.index];
    ChunkOutcome {
        stem: job.doc.stem.clone(),
        position: chunk.position,
        chunk_id: chunk.chunk_id.clone(),
        chunk_index: chunk.chunk_index,
        chunk_start: chunk.start_char,
        chunk_end: chunk.end_char,
        source_text: chunk.text.clone(),
        status: ChunkStatus::Failed,
        pairs: Vec::new(),
        error: None,
        raw_response: None,
        prompt: None,
        settings: context.run_record.clone(),
        tokens_in: 0,
        tokens_out: 0,
        duration_ms: 0,
        attempts: 0,
    }
}

/// Processes one chunk into its outcome, or the error that stops the run.
async fn process(context: &Arc<WorkerContext>, job: &Job) -> Result<ChunkOutcome, Stop> {
    let chunk = &job.doc.chunks[job.index];
    let started = Instant::now();
    let mut outcome = new_outcome(context, job);
    if chunk.text.trim().is_empty() {
        outcome.status = ChunkStatus::Skipped;
        return Ok(outcome);
    }
    if chunk.text.len() > MAX_CHUNK_TEXT_BYTES {
        let cause = format!(
            "its text is {:.1} MiB, more than the {} MiB tdg accepts in one chunk: split the document into smaller chunks",
            chunk.text.len() as f64 / f64::from(1 << 20),
            MAX_CHUNK_TEXT_BYTES >> 20
        );
        return Ok(failed(outcome, job, cause, started));
    }
    let built = context
        .plugin_threads
        .run({
            let (context, doc, index) = (context.clone(), job.doc.clone(), job.index);
            move || context.prompt.build(&doc, &doc.chunks[index])
        })
        .await;
    let mut messages = match built {
        Ok(Ok(messages)) => messages,
        Ok(Err(error)) => return Ok(failed(outcome, job, error.to_string(), started)),
        Err(cause) => return Ok(failed(outcome, job, cause, started)),
    };
    outcome.prompt = Some(json!(messages));
    let prompt_side = context
        .prompt_sides
        .get(&crate::quality::prompt_without(&messages, &chunk.text));
    let assessor = crate::quality::Assessor::with_prompt(&chunk.text, prompt_side);
    for attempt in 0..=context.parse_retries {
        outcome.attempts = attempt + 1;
        let response = match context.client.chat(&messages).await {
            Ok(response) => response,
            Err(error) if error.stops_run() => return Err(Stop::Model(error)),
            Err(error) => return Ok(failed(outcome, job, error.to_string(), started)),
        };
        outcome.tokens_in += response.tokens_in;
        outcome.tokens_out += response.tokens_out;
        outcome.raw_response = Some(response.text.clone());
        let parsed = context
            .plugin_threads
            .run({
                let (context, text) = (context.clone(), response.text.clone());
                move || {
                    let asked = context.run_record.question_type_names();
                    context.parser.parse(&text, context.questions, &asked)
                }
            })
            .await;
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(cause) => return Ok(failed(outcome, job, cause, started)),
        };
        match parsed {
            Ok(Ok(pairs)) => {
                outcome.status = ChunkStatus::Completed;
                outcome.error = None;
                outcome.pairs = pairs
                    .into_iter()
                    .map(|pair| {
                        let quality = assessor.assess(&pair.question, &pair.answer);
                        StoredPair {
                            question: pair.question,
                            answer: pair.answer,
                            quality: Some(quality),
                            question_type: pair.question_type,
                        }
                    })
                    .collect();
                return Ok(finish(outcome, started));
            }
            Ok(Err(verdict)) => {
                // The parser knows the shape it reads: its error text is the only
                // instruction that goes back to the model.
                let reason = verdict_text(&verdict);
                outcome.error = Some(format!("the answer held no usable pair: {reason}"));
                messages.push(Message {
                    role: "assistant".into(),
                    content: response.text,
                });
                messages.push(Message {
                    role: "user".into(),
                    content: reason.to_string(),
                });
            }
            Err(plugin_error) => {
                return Ok(failed(outcome, job, plugin_error.to_string(), started));
            }
        }
    }
    Ok(finish(outcome, started))
}

/// Records `cause` as the chunk's failure, and says in the log which chunk of
/// which document failed.
fn failed(mut outcome: ChunkOutcome, job: &Job, cause: String, started: Instant) -> ChunkOutcome {
    let chunk = &job.doc.chunks[job.index];
    tracing::warn!(
        "{}: chunk {} ({}) failed: {cause}",
        job.doc.path.display(),
        chunk.position,
        chunk.chunk_id
    );
    outcome.status = ChunkStatus::Failed;
    outcome.error = Some(cause);
    finish(outcome, started)
}

fn finish(mut outcome: ChunkOutcome, started: Instant) -> ChunkOutcome {
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

fn verdict_text(verdict: &ParseError) -> &str {
    match verdict {
        ParseError::NoJson(text) | ParseError::WrongShape(text) | ParseError::NoPairs(text) => text,
    }
}

/// What the producer saw of the chunk files.
#[derive(Debug, Default)]
pub struct ProducerReport {
    pub files_seen: usize,
    pub files_loaded: usize,
    /// Files that could not be read, with why.
    pub files_failed: Vec<String>,
    /// Files skipped because they are not ready.
    pub files_not_ready: Vec<String>,
    pub chunks_queued: u64,
    pub chunks_already_done: u64,
}

/// A loaded file, and which of its chunks still need work.
pub struct PlannedDocument {
    pub doc: Arc<ChunkFile>,
    /// The chunks this run covers (all, or its shard's).
    pub assigned: usize,
    pub pending: Vec<usize>,
}

/// A chunk file already loaded (by the start-up check of the prompt).
pub struct Preloaded {
    pub path: std::path::PathBuf,
    pub file: ChunkFile,
}

/// What the producer works through: the chunk files in name order, the one the
/// start-up check already loaded, and `--limit`.
pub struct ProducerInput {
    pub files: Vec<std::path::PathBuf>,
    pub preloaded: Option<Preloaded>,
    /// Ask only for the first this many chunks with text that need work.
    pub limit: Option<usize>,
}

/// Loads each chunk file, registers it with the writer, and queues its pending
/// chunks. `plan` decides which chunks are pending (for resume) and describes the
/// document for the store. Chunks an earlier run finished count in the report and,
/// as files load, in `progress`.
pub async fn produce(
    input: ProducerInput,
    mut plan: impl FnMut(ChunkFile) -> Result<(PlannedDocument, WriterMessage), String>,
    writer: std::sync::mpsc::Sender<WriterMessage>,
    queue: mpsc::Sender<Job>,
    cancel: CancellationToken,
    progress: &crate::progress::Progress,
) -> ProducerReport {
    let ProducerInput {
        files,
        mut preloaded,
        limit,
    } = input;
    // `--limit`: chunks with text still allowed to be queued (empty ones cost nothing).
    let mut allowed = limit.unwrap_or(usize::MAX);
    let mut report = ProducerReport {
        files_seen: files.len(),
        ..Default::default()
    };
    for path in files {
        if cancel.is_cancelled() || allowed == 0 {
            break;
        }
        let loaded = match preloaded.take_if(|preloaded| preloaded.path == path) {
            Some(preloaded) => Ok(preloaded.file),
            None => tokio::task::spawn_blocking({
                let path = path.clone();
                move || crate::chunks::load_chunk_file(&path)
            })
            .await
            .unwrap_or_else(|panic| {
                Err(ChunkFileError::Read {
                    path: path.clone(),
                    source: std::io::Error::other(panic.to_string()),
                })
            }),
        };
        let file = match loaded {
            Ok(file) => file,
            Err(error @ ChunkFileError::NotReady { .. }) => {
                tracing::warn!("{error}");
                report.files_not_ready.push(error.to_string());
                continue;
            }
            Err(error) => {
                tracing::error!("{error}");
                report.files_failed.push(error.to_string());
                continue;
            }
        };
        let (planned, register) = match plan(file) {
            Ok(planned) => planned,
            Err(message) => {
                tracing::error!("{message}");
                report.files_failed.push(message);
                continue;
            }
        };
        report.files_loaded += 1;
        let already_done = (planned.assigned - planned.pending.len()) as u64;
        report.chunks_already_done += already_done;
        progress
            .done_before
            .fetch_add(already_done, std::sync::atomic::Ordering::Relaxed);
        if writer.send(register).is_err() {
            break;
        }
        for index in planned.pending {
            if !planned.doc.chunks[index].text.trim().is_empty() {
                if allowed == 0 {
                    break;
                }
                allowed -= 1;
            }
            let job = Job {
                doc: planned.doc.clone(),
                index,
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return report,
                sent = queue.send(job) => if sent.is_err() { return report },
            }
            report.chunks_queued += 1;
        }
    }
    report
}
