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
use std::time::Instant;

use futures_util::FutureExt;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use super::chunk_work::{
    self, Job, Step, Stop, WorkerContext, ask_until_settled, failed, new_outcome,
};
use super::writer::WriterMessage;
use crate::checkpoint::ChunkOutcome;
use crate::chunks::{ChunkFile, ChunkFileError};
use crate::plugin::panic_text;

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
        let unsettled = new_outcome(&context, &job);
        let (doc, index) = (job.doc.clone(), job.index);
        let work = AssertUnwindSafe(process(&context, job)).catch_unwind();
        let result = tokio::select! {
            result = work => result.unwrap_or_else(|panic| {
                let cause = format!("tdg failed on this chunk (a bug; please report it): {}", panic_text(panic.as_ref()));
                Ok(failed(unsettled, &Job { doc, index }, cause, Instant::now()))
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

/// Processes one chunk into its outcome, or the error that stops the run.
async fn process(context: &Arc<WorkerContext>, job: Job) -> Result<ChunkOutcome, Stop> {
    match chunk_work::begin(context, job).await {
        Step::Ask(work) => ask_until_settled(context.clone(), work).await,
        Step::Done(outcome) => Ok(*outcome),
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
