//! The writer: one thread that owns the checkpoint store and the output files.
//!
//! Workers send it chunk outcomes; it records them in batches (one transaction for
//! whatever has arrived, so the disk sync is shared), appends failures to the failure
//! log, and rewrites a document's `_qa.json` view when the document is finished, every
//! few seconds while it is in progress, and when the run ends. At the end the failure
//! log is rewritten from the store, so it lists the chunks that are failed now.

use std::collections::{BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use serde_json::json;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::checkpoint::{CheckpointStore, ChunkOutcome, ChunkStatus, DocumentRecord, StoreError};
use crate::generate::settings::CostSettings;
use crate::outputs::qa_files;
use crate::progress::Progress;
use crate::qa_file::DocumentStatus;
use crate::quality::DedupeScope;
use crate::{atomic_file, pyjson, timestamp};

/// The failure log's file name in the Q&A directory.
pub const FAILURE_LOG: &str = "qa_generation_failures.jsonl";
/// How often in-progress documents' views are rewritten.
const VIEW_INTERVAL: Duration = Duration::from_secs(5);
/// The most outcomes recorded in one transaction.
const BATCH: usize = 512;

/// What the writer is told.
pub enum WriterMessage {
    /// A document whose `pending` chunks are about to be queued; the outcomes at
    /// `stale` positions (chunks whose text changed, or that no longer exist) are
    /// forgotten first.
    Document {
        record: Box<DocumentRecord>,
        pending: usize,
        stale: Vec<u32>,
    },
    /// A chunk's outcome.
    Outcome(Box<ChunkOutcome>),
    /// Record every outcome received so far, then answer whether all are recorded
    /// (the batch flow marks a batch collected only once its answers are durable).
    Flush(Sender<bool>),
    /// The run is over (`interrupted` if it stopped early): write the final views.
    Finish {
        interrupted: bool,
        done: Sender<WriterReport>,
    },
}

/// What the writer did.
#[derive(Debug, Default, Clone)]
pub struct WriterReport {
    /// The Q&A files written, by name.
    pub qa_files: Vec<String>,
    /// Documents all of whose chunks have an outcome.
    pub documents_completed: usize,
    pub chunks_completed: u64,
    pub chunks_failed: u64,
    pub chunks_skipped: u64,
    /// Pairs the model gave in this run, before the quality gate.
    pub pairs: u64,
    /// Pairs the Q&A files of this run's documents keep, as `tdg stats` counts them.
    pub pairs_kept: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Set if the writer could not record: the run must stop.
    pub error: Option<String>,
}

/// What the writer reports to the rest of the run.
pub struct WriterHooks {
    /// Updated after every recorded outcome.
    pub progress: Arc<Progress>,
    /// Called once if the store cannot be written: the run must stop.
    pub on_error: Box<dyn Fn(String) + Send>,
    /// A spending cap, checked after every batch.
    pub budget: Option<Budget>,
    /// Training files to write as documents finish (`generate --format`).
    pub training: Option<TrainingOutput>,
}

/// `generate --format`: a training file per finished document.
pub struct TrainingOutput {
    pub format: crate::plugin::FormatPlugin,
    pub options: Vec<crate::plugin::types::KeyValue>,
    pub output_type: crate::outputs::training_file::OutputType,
    pub reasoning_style: crate::task::ReasoningStyle,
    pub dir: PathBuf,
}

impl TrainingOutput {
    /// Writes the training file of `stem` from its view in `store`.
    fn write(&self, store: &CheckpointStore, stem: &str) -> Result<(), String> {
        let Some(file) =
            qa_files::qa_file(store, stem, DocumentStatus::Completed).map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let pairs = file.training_pairs;
        let path = crate::outputs::training_file::training_file_path(
            &self.dir,
            stem,
            self.format.info(),
            self.output_type,
        );
        crate::outputs::training_file::write_training_file(
            &pairs,
            stem,
            &path,
            &self.format,
            &self.options,
            self.output_type,
            self.reasoning_style,
        )?;
        Ok(())
    }
}

/// `--max-cost`: the run stops once the estimated spend reaches `max`.
pub struct Budget {
    /// The prices the spend is computed at.
    pub prices: CostSettings,
    /// The cap, in US dollars.
    pub max: f64,
    /// Called once, with the spend, when the cap is reached.
    pub on_reached: Box<dyn Fn(f64) + Send>,
}

struct Writer {
    store: CheckpointStore,
    hooks: WriterHooks,
    budget_reached: bool,
    qa_dir: PathBuf,
    failure_log: Option<File>,
    /// Outcomes still expected, per document.
    pending: HashMap<String, usize>,
    /// Documents with outcomes not yet in their view.
    dirty: BTreeSet<String>,
    /// The pairs each document's file kept when it was last written.
    kept: HashMap<String, u64>,
    /// Documents with outcomes recorded in this run.
    changed: BTreeSet<String>,
    report: WriterReport,
}

/// Runs the writer until it is told to finish.
pub fn run(
    store: CheckpointStore,
    qa_dir: PathBuf,
    inbox: Receiver<WriterMessage>,
    hooks: WriterHooks,
) {
    let mut writer = Writer {
        store,
        hooks,
        budget_reached: false,
        failure_log: None,
        qa_dir,
        pending: HashMap::new(),
        dirty: BTreeSet::new(),
        kept: HashMap::new(),
        changed: BTreeSet::new(),
        report: WriterReport::default(),
    };
    let mut last_views = Instant::now();
    let mut batch: Vec<ChunkOutcome> = Vec::new();
    loop {
        let first = match inbox.recv_timeout(VIEW_INTERVAL) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut finish = None;
        for message in first
            .into_iter()
            .chain(std::iter::from_fn(|| inbox.try_recv().ok()))
        {
            match message {
                WriterMessage::Outcome(outcome) => {
                    batch.push(*outcome);
                    if batch.len() >= BATCH {
                        writer.record(&mut batch);
                    }
                }
                WriterMessage::Document {
                    record,
                    pending,
                    stale,
                } => {
                    writer.record(&mut batch);
                    writer.register(*record, pending, &stale);
                }
                WriterMessage::Flush(done) => {
                    writer.record(&mut batch);
                    let _ = done.send(writer.report.error.is_none());
                }
                WriterMessage::Finish { interrupted, done } => {
                    finish = Some((interrupted, done));
                    break;
                }
            }
        }
        writer.record(&mut batch);
        if let Some((interrupted, done)) = finish {
            writer.finish(interrupted);
            let _ = done.send(writer.report);
            return;
        }
        if last_views.elapsed() >= VIEW_INTERVAL {
            writer.write_dirty_views(DocumentStatus::InProgress);
            last_views = Instant::now();
        }
    }
}

impl Writer {
    /// Hands the first failure to write to the run, which stops and returns it as its
    /// error; later ones, while the run winds down, say nothing new.
    fn fail(&mut self, message: String) {
        tracing::debug!("{message}");
        if self.report.error.is_none() {
            self.report.error = Some(message.clone());
            (self.hooks.on_error)(message);
        }
    }

    fn register(&mut self, record: DocumentRecord, pending: usize, stale: &[u32]) {
        let stem = record.stem.clone();
        if let Err(error) = self
            .store
            .put_document(&record)
            .and_then(|()| self.store.forget_chunks(&stem, stale))
        {
            return self.fail(disk_hint(error));
        }
        if pending == 0 {
            self.complete(&stem);
        } else {
            self.pending.insert(stem, pending);
        }
    }

    fn record(&mut self, batch: &mut Vec<ChunkOutcome>) {
        if batch.is_empty() {
            return;
        }
        if let Err(error) = self.store.record(batch) {
            batch.clear();
            return self.fail(disk_hint(error));
        }
        for outcome in batch.drain(..) {
            self.count(&outcome);
            if outcome.status == ChunkStatus::Failed {
                self.log_failure(&outcome);
            }
            self.dirty.insert(outcome.stem.clone());
            self.changed.insert(outcome.stem.clone());
            let finished = match self.pending.get_mut(&outcome.stem) {
                Some(left) => {
                    *left = left.saturating_sub(1);
                    *left == 0
                }
                None => false,
            };
            if finished {
                self.pending.remove(&outcome.stem);
                self.complete(&outcome.stem);
            }
        }
    }

    fn count(&mut self, outcome: &ChunkOutcome) {
        let report = &mut self.report;
        let progress = &self.hooks.progress;
        match outcome.status {
            ChunkStatus::Completed => {
                report.chunks_completed += 1;
                progress.completed.fetch_add(1, Relaxed);
            }
            ChunkStatus::Failed => {
                report.chunks_failed += 1;
                progress.failed.fetch_add(1, Relaxed);
            }
            ChunkStatus::Skipped => {
                report.chunks_skipped += 1;
                progress.skipped.fetch_add(1, Relaxed);
            }
        }
        report.pairs += outcome.pairs.len() as u64;
        report.tokens_in += outcome.tokens_in;
        report.tokens_out += outcome.tokens_out;
        progress
            .pairs
            .fetch_add(outcome.pairs.len() as u64, Relaxed);
        progress.tokens_in.fetch_add(outcome.tokens_in, Relaxed);
        progress.tokens_out.fetch_add(outcome.tokens_out, Relaxed);
        if let Some(budget) = &self.hooks.budget
            && !self.budget_reached
        {
            let spent = budget
                .prices
                .cost(report.tokens_in, report.tokens_out)
                .unwrap_or(0.0);
            if spent >= budget.max {
                self.budget_reached = true;
                (budget.on_reached)(spent);
            }
        }
    }

    /// A document has an outcome for every chunk: stamp it and write its final view.
    /// A document none of whose chunks succeeded is not `completed`: it stays
    /// `in_progress`, for `--resume` to ask again.
    fn complete(&mut self, stem: &str) {
        if let Ok(chunks) = self.store.stored_chunks(stem) {
            let failed = chunks.iter().any(|c| c.status == ChunkStatus::Failed);
            if failed && !chunks.iter().any(|c| c.status == ChunkStatus::Completed) {
                tracing::error!(
                    "every chunk of {stem} failed: its Q&A file stays in_progress; continue with --resume to ask again"
                );
                self.write_view(stem, DocumentStatus::InProgress);
                self.dirty.remove(stem);
                return;
            }
        }
        if let Err(error) = self.store.mark_document_completed(stem, &timestamp::now()) {
            tracing::error!("{error}");
        }
        self.report.documents_completed += 1;
        self.write_view(stem, DocumentStatus::Completed);
        if let Some(training) = &self.hooks.training
            && let Err(message) = training.write(&self.store, stem)
        {
            tracing::error!("{message}");
        }
        self.dirty.remove(stem);
    }

    fn write_dirty_views(&mut self, status: DocumentStatus) {
        for stem in std::mem::take(&mut self.dirty) {
            if self.pending.contains_key(&stem) {
                self.write_view(&stem, status);
            }
        }
    }

    fn finish(&mut self, interrupted: bool) {
        let status = if interrupted {
            DocumentStatus::Interrupted
        } else {
            DocumentStatus::InProgress
        };
        self.rewrite_after_corpus_changes();
        let unfinished: Vec<String> = self.pending.keys().cloned().collect();
        for stem in unfinished {
            self.write_view(&stem, status);
        }
        self.report.pairs_kept = self.kept.values().sum();
        self.failure_log = None;
        self.rewrite_failure_log();
    }

    /// Under `--dedupe corpus` a document's pairs depend on every document before it in
    /// name order, and one of those may have finished after it in this run: the
    /// finished documents after the first one changed are written again, so that each
    /// file keeps what one pass in name order keeps.
    fn rewrite_after_corpus_changes(&mut self) {
        if self.store.quality_filter().dedupe != DedupeScope::Corpus {
            return;
        }
        let Some(first) = self.changed.first().cloned() else {
            return;
        };
        let stems = match self.store.document_stems() {
            Ok(stems) => stems,
            Err(error) => return tracing::error!("{error}"),
        };
        for stem in stems {
            if stem <= first || self.pending.contains_key(&stem) {
                continue;
            }
            // A document with no completed chunk holds no pair that could change.
            let completed = self
                .store
                .stored_chunks(&stem)
                .is_ok_and(|chunks| chunks.iter().any(|c| c.status == ChunkStatus::Completed));
            if completed && self.store.is_document_finished(&stem).unwrap_or(false) {
                self.write_view(&stem, DocumentStatus::Completed);
                if let Some(training) = &self.hooks.training
                    && let Err(message) = training.write(&self.store, &stem)
                {
                    tracing::error!("{message}");
                }
            }
        }
    }

    /// Rewrites the failure log from the store: the chunks failed now, not every
    /// failure ever appended (a chunk retried with success, or changed, leaves it).
    fn rewrite_failure_log(&mut self) {
        let path = self.qa_dir.join(FAILURE_LOG);
        let failed = match self.store.failed_chunks() {
            Ok(failed) => failed,
            Err(error) => return tracing::warn!("cannot rewrite the failure log: {error}"),
        };
        if failed.is_empty() {
            if let Err(error) = std::fs::remove_file(&path)
                && error.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("cannot remove {}: {error}", path.display());
            }
            return;
        }
        let written = atomic_file::write_with(&path, |file| {
            for chunk in &failed {
                let line = json!({
                    "document": chunk.stem,
                    "chunk_position": chunk.position,
                    "chunk_id": chunk.chunk_id,
                    "error": chunk.error,
                    "prompt": chunk.prompt,
                    "raw_response": chunk.raw_response,
                    "attempts": chunk.attempts,
                    "failed_at": chunk.failed_at,
                });
                writeln!(file, "{}", pyjson::to_line(&line))?;
            }
            Ok(())
        });
        if let Err(error) = written {
            tracing::warn!("cannot rewrite the failure log {}: {error}", path.display());
        }
    }

    /// Writes a document's view; failures are logged, never fatal, since the store
    /// still holds everything and the view can be written again.
    fn write_view(&mut self, stem: &str, status: DocumentStatus) {
        match qa_files::write(&self.store, &self.qa_dir, stem, status) {
            Ok(Some(written)) => {
                self.kept.insert(stem.to_string(), written.pairs);
                if !self.report.qa_files.contains(&written.name) {
                    self.report.qa_files.push(written.name);
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!("{error}"),
        }
    }

    /// Appends a failed chunk's prompt, raw response and error to the failure log.
    fn log_failure(&mut self, outcome: &ChunkOutcome) {
        if self.failure_log.is_none() {
            let path = self.qa_dir.join(FAILURE_LOG);
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(file) => self.failure_log = Some(file),
                Err(error) => {
                    return tracing::warn!(
                        "cannot open the failure log {}: {error}",
                        path.display()
                    );
                }
            }
        }
        let line = json!({
            "document": outcome.stem,
            "chunk_position": outcome.position,
            "chunk_id": outcome.chunk_id,
            "error": outcome.error,
            "prompt": outcome.prompt,
            "raw_response": outcome.raw_response,
            "attempts": outcome.attempts,
            "failed_at": timestamp::now(),
        });
        if let Some(log) = &mut self.failure_log {
            let _ = writeln!(log, "{}", pyjson::to_line(&line));
        }
    }
}

/// Adds what to do when the store cannot be written.
fn disk_hint(error: StoreError) -> String {
    format!(
        "{error}. Nothing recorded before this is lost; free disk space or fix the permissions of {}, then run again with --resume",
        error.path().parent().unwrap_or(Path::new(".")).display()
    )
}
