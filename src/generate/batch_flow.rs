//! A generation run through a batch API ([`crate::batch`]), beside the live pipeline
//! ([`super::pipeline`]) and in place of its workers: take every
//! queued chunk, build its prompt, and put it in a batch (a new one, or the live
//! batch an earlier run already put it in); then poll the batches, settle each answer
//! as a live one is settled, and send what failed or expired into a follow-up batch
//! (or live, `--batch-fallback live`). A batch whose results the provider no longer
//! keeps has its unanswered chunks asked again the same way. What a resumed run takes
//! up from the ledger is [`super::batch_reattach`]'s.
//!
//! Order of writes, for exactness across kills: a batch is recorded in the ledger as
//! soon as the provider has created it; its answers go to the writer, which makes
//! them durable ([`WriterMessage::Flush`]); only then is it marked collected. A kill
//! anywhere leaves either a live batch to reattach to or recorded answers, never a
//! chunk paid for twice.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use super::GenerateError;
use super::batch_reattach::reattach;
use super::chunk_work::{self, ChunkWork, Job, Step, Stop, WorkerContext, ask_until_settled};
use super::settings::{CostSettings, GenerateSettings};
use super::writer::WriterMessage;
use crate::batch::ledger::{BatchedChunk, Ledger, PENDING};
use crate::batch::{
    BatchApi, BatchFallback, BatchResults, BatchSettings, Phase, RequestLine, custom_id,
};

/// `--max-cost` before submitting: batches are paid for when they run, so a batch is
/// not submitted if its estimated price would take the run past the cap.
pub struct SpendCap {
    pub prices: CostSettings,
    pub max: f64,
    /// Tokens each answer is estimated at.
    pub tokens_per_answer: u64,
}

/// What the batch flow left behind.
#[derive(Debug, Default)]
pub struct FlowReport {
    /// Batches still running when the flow stopped (`--no-wait`, Ctrl+C): a later
    /// `--resume` collects them.
    pub in_flight: Vec<String>,
    /// Set when `--max-cost` kept batches from being submitted: the estimate reached.
    pub budget_reached: Option<f64>,
}

/// A run's batches.
pub struct BatchFlow {
    pub context: Arc<WorkerContext>,
    pub api: BatchApi,
    pub ledger: Ledger,
    pub settings: BatchSettings,
    pub spend_cap: Option<SpendCap>,
}

/// A batch being filled.
#[derive(Default)]
struct Open {
    lines: Vec<RequestLine>,
    // Boxed as `Step::Ask` hands them over: moved, never copied.
    #[allow(clippy::vec_box)]
    works: Vec<Box<ChunkWork>>,
    bytes: usize,
}

/// A batch the provider holds, and the chunks of this run waiting on it.
struct InFlight {
    id: String,
    state: String,
    works: HashMap<String, Box<ChunkWork>>,
}

/// The flow's running state.
struct Run {
    open: Open,
    in_flight: Vec<InFlight>,
    /// Chunks to ask again (their line failed or expired, or the answer held no pair).
    #[allow(clippy::vec_box)]
    again: Vec<Box<ChunkWork>>,
    /// How often each chunk's line failed.
    line_failures: HashMap<String, u32>,
    /// The estimated price of what was submitted, for `--max-cost`.
    committed: f64,
    report: FlowReport,
    writer: std::sync::mpsc::Sender<WriterMessage>,
}

impl BatchFlow {
    /// Everything the flow of a `--batch-api` run needs but the workers' shared
    /// context, which it is given when it takes the workers' place.
    pub fn prepare(
        settings: &GenerateSettings,
        batch: &BatchSettings,
        client: &crate::provider::ModelClient,
    ) -> Result<impl FnOnce(Arc<WorkerContext>) -> BatchFlow + use<>, GenerateError> {
        let api = BatchApi::of(client.clone()).map_err(GenerateError::NoBatchApi)?;
        let ledger = Ledger::open(&settings.qa_dir)
            .map_err(|error| GenerateError::Recording(error.to_string()))?;
        let spend_cap = settings.cost.max_cost.map(|max| SpendCap {
            prices: settings.cost,
            max,
            tokens_per_answer: (u64::from(settings.prompt.questions_per_chunk)
                * super::estimate::TOKENS_PER_PAIR)
                .min(u64::from(settings.model.max_tokens)),
        });
        let batch = batch.clone();
        tracing::info!(
            "through the {} batch API, at half the live price: answers come within 24 hours",
            settings.model.provider
        );
        Ok(move |context| BatchFlow {
            context,
            api,
            ledger,
            settings: batch,
            spend_cap,
        })
    }

    /// Runs until every queued chunk is settled, or the run is stopped or told not
    /// to wait; batches still running are left for a later `--resume`.
    pub async fn run(
        mut self,
        queue: Arc<Mutex<mpsc::Receiver<Job>>>,
        writer: std::sync::mpsc::Sender<WriterMessage>,
        cancel: CancellationToken,
    ) -> Result<FlowReport, Stop> {
        let mut run = Run {
            open: Open::default(),
            in_flight: Vec::new(),
            again: Vec::new(),
            line_failures: HashMap::new(),
            committed: 0.0,
            report: FlowReport::default(),
            writer,
        };
        // Chunks that sit in a live batch: they wait for it, never go in another.
        let mut reattached = reattach(&self.api, &mut self.ledger).await?;
        for (id, state) in std::mem::take(&mut reattached.batches) {
            run.in_flight.push(InFlight {
                id,
                state,
                works: HashMap::new(),
            });
        }
        loop {
            let job = {
                let mut queue = queue.lock().await;
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => None,
                    job = queue.recv() => job,
                }
            };
            let Some(job) = job else { break };
            let held = reattached.claim(&job);
            let work = match chunk_work::begin(&self.context, job).await {
                Step::Done(outcome) => {
                    run.settle(*outcome);
                    continue;
                }
                Step::Ask(work) => work,
            };
            match held {
                Some((batch, custom_id)) => {
                    run.in_flight[batch].works.insert(custom_id, work);
                }
                None => self.add(&mut run, work).await?,
            }
        }
        reattached.tell_changed();
        if cancel.is_cancelled() {
            return Ok(run.left_in_flight());
        }
        self.submit(&mut run).await?;
        loop {
            self.poll(&mut run).await?;
            if !run.again.is_empty() {
                self.ask_again(&mut run, &cancel).await?;
            }
            if run.in_flight.is_empty() {
                return Ok(run.left_in_flight());
            }
            if self.settings.no_wait {
                tracing::info!(
                    "--no-wait: {} batches are running; `tdg generate --resume` with the same options collects them",
                    run.in_flight.len()
                );
                return Ok(run.left_in_flight());
            }
            tokio::select! {
                _ = cancel.cancelled() => return Ok(run.left_in_flight()),
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    /// Puts `work` in the open batch, submitting it first when `work` would not fit.
    async fn add(&mut self, run: &mut Run, work: Box<ChunkWork>) -> Result<(), Stop> {
        let (most_requests, most_bytes) = self.api.limits();
        let most_requests = self
            .settings
            .max_requests
            .map_or(most_requests, |n| n.clamp(1, most_requests));
        let chunk = &work.job.doc.chunks[work.job.index];
        let line = self.api.line(
            custom_id(&work.job.doc.stem, chunk.position),
            work.messages(),
        );
        let bytes = BatchApi::line_bytes(&line);
        if !run.open.lines.is_empty() && run.open.bytes + bytes > most_bytes {
            self.submit(run).await?;
        }
        run.open.lines.push(line);
        run.open.works.push(work);
        run.open.bytes += bytes;
        if run.open.lines.len() >= most_requests {
            self.submit(run).await?;
        }
        Ok(())
    }

    /// Submits the open batch and records it; nothing if it is empty.
    async fn submit(&mut self, run: &mut Run) -> Result<(), Stop> {
        let open = std::mem::take(&mut run.open);
        if open.lines.is_empty() || run.report.budget_reached.is_some() {
            return Ok(());
        }
        if let Some(cap) = &self.spend_cap {
            let estimate: f64 = open
                .works
                .iter()
                .map(|work| {
                    let chars: usize = work.messages().iter().map(|m| m.content.len()).sum();
                    cap.prices
                        .cost(chars as u64 / 4, cap.tokens_per_answer)
                        .unwrap_or(0.0)
                })
                .sum();
            if run.committed + estimate > cap.max {
                tracing::warn!(
                    "a batch of {} requests would take the estimated spend to ${:.4}, past --max-cost ${}: not submitted",
                    open.lines.len(),
                    run.committed + estimate,
                    cap.max
                );
                run.report.budget_reached = Some(run.committed);
                return Ok(());
            }
            run.committed += estimate;
        }
        let chunks: Vec<BatchedChunk> = open
            .lines
            .iter()
            .zip(&open.works)
            .map(|(line, work)| BatchedChunk {
                custom_id: line.custom_id.clone(),
                stem: work.job.doc.stem.clone(),
                position: work.job.doc.chunks[work.job.index].position,
                text_hash: Some(crate::checkpoint::text_hash(
                    &work.job.doc.chunks[work.job.index].text,
                )),
            })
            .collect();
        // The submission is recorded before it is made, under its tag: a run stopped
        // before the provider's answer finds out from the tag whether it was created.
        let tag = submission_tag(&chunks);
        let pending = format!("{PENDING}{tag}");
        self.ledger
            .record(&pending, &self.api.place(), "submitting", &chunks)?;
        // On an error the submission stays pending: created or not, the next run
        // finds out from its tag before asking for its chunks again.
        let id = self
            .api
            .submit(&open.lines, &tag)
            .await
            .map_err(Stop::Model)?;
        if let Err(error) = self.ledger.rename(&pending, &id) {
            // Unrecorded, it would be paid for again: take it back.
            if let Err(cancel_error) = self.api.cancel(&id).await {
                tracing::error!(
                    "batch {id} could not be recorded nor cancelled ({cancel_error}): cancel it with the provider"
                );
            }
            return Err(error.into());
        }
        tracing::info!("batch {id}: submitted {} requests", chunks.len());
        run.in_flight.push(InFlight {
            id,
            state: "submitted".into(),
            works: chunks
                .into_iter()
                .map(|chunk| chunk.custom_id)
                .zip(open.works)
                .collect(),
        });
        Ok(())
    }

    /// Asks every running batch for its state, and collects those that ended.
    async fn poll(&mut self, run: &mut Run) -> Result<(), Stop> {
        let mut index = 0;
        while index < run.in_flight.len() {
            let id = run.in_flight[index].id.clone();
            let status = match self.api.status(&id).await {
                Ok(status) => status,
                Err(error) if error.stops_run() => return Err(Stop::Model(error)),
                Err(error) => {
                    tracing::warn!(
                        "batch {id}: its state cannot be read now ({error}); asking again later"
                    );
                    index += 1;
                    continue;
                }
            };
            if status.state != run.in_flight[index].state {
                tracing::info!(
                    "batch {id}: {}, {} of {} answered, {} failed",
                    status.state,
                    status.succeeded,
                    status.total,
                    status.failed
                );
                self.ledger.set_state(&id, &status.state)?;
                run.in_flight[index].state = status.state.clone();
            }
            if status.phase == Phase::Running {
                index += 1;
                continue;
            }
            let results = match self.api.results(&status).await {
                Ok(results) => results,
                Err(error) if error.stops_run() => return Err(Stop::Model(error)),
                Err(error) => {
                    tracing::warn!(
                        "batch {id}: its results cannot be read now ({error}); asking again later"
                    );
                    index += 1;
                    continue;
                }
            };
            let batch = run.in_flight.remove(index);
            let gone = results.gone.is_some();
            self.collect(run, batch, results).await;
            if !run.flush().await {
                // The writer could not record: the run is stopping; the batch stays
                // live in the ledger, so its answers are read again next time.
                return Ok(());
            }
            if gone {
                self.ledger.set_state(&id, RESULTS_GONE)?;
            }
            self.ledger.collected(&id)?;
        }
        Ok(())
    }

    /// Settles every answer of an ended batch; its chunks without an answer failed,
    /// or, when the provider no longer keeps the results, are asked again.
    async fn collect(&mut self, run: &mut Run, mut batch: InFlight, results: BatchResults) {
        for line in results.lines {
            let Some(work) = batch.works.remove(&line.custom_id) else {
                continue;
            };
            let response = line.answer.and_then(|body| self.api.read_answer(&body));
            match response {
                Ok(response) => match work.answer(&self.context, response).await {
                    Step::Done(outcome) => run.settle(*outcome),
                    Step::Ask(work) => run.again.push(work),
                },
                Err(reason) => self.line_failed(run, work, &reason),
            }
        }
        match &results.gone {
            // Not the lines' failure: asked again whatever `--batch-line-retries` says.
            Some(why) if !batch.works.is_empty() => {
                tracing::warn!(
                    "batch {}: its results are gone ({why}): its {} unanswered chunks are asked again {}",
                    batch.id,
                    batch.works.len(),
                    match self.settings.fallback {
                        BatchFallback::Batch => "in a new batch",
                        BatchFallback::Live => "live (--batch-fallback live)",
                    }
                );
                run.again.extend(batch.works.into_values());
            }
            Some(_) => {}
            None => {
                let reason = format!("the batch ended ({}) with no answer for it", batch.state);
                for (_, work) in batch.works.drain() {
                    self.line_failed(run, work, &reason);
                }
            }
        }
    }

    /// A line that failed or expired: asked again, or the chunk fails once it has
    /// failed more often than `--batch-line-retries`.
    fn line_failed(&self, run: &mut Run, work: Box<ChunkWork>, reason: &str) {
        let chunk = &work.job.doc.chunks[work.job.index];
        let id = custom_id(&work.job.doc.stem, chunk.position);
        let failures = run.line_failures.entry(id.clone()).or_default();
        *failures += 1;
        if *failures > self.settings.line_retries && self.settings.fallback == BatchFallback::Batch
        {
            let cause = format!("the batch API could not answer it ({failures} times): {reason}");
            run.settle(work.fail(cause));
        } else {
            tracing::debug!("{id}: {reason}; asking again");
            run.again.push(work);
        }
    }

    /// Asks again for the chunks whose line failed or whose answer held no pair:
    /// in a follow-up batch, or live.
    async fn ask_again(&mut self, run: &mut Run, cancel: &CancellationToken) -> Result<(), Stop> {
        let again = std::mem::take(&mut run.again);
        match self.settings.fallback {
            BatchFallback::Batch => {
                tracing::info!("{} chunks go into a follow-up batch", again.len());
                for work in again {
                    self.add(run, work).await?;
                }
                self.submit(run).await
            }
            BatchFallback::Live => {
                tracing::info!(
                    "{} chunks are asked live (--batch-fallback live)",
                    again.len()
                );
                use futures_util::StreamExt;
                let context = self.context.clone();
                let mut asked = futures_util::stream::iter(again)
                    .map(|work| ask_until_settled(context.clone(), work))
                    .buffer_unordered(self.context.client.throttle().limit().max(1));
                loop {
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return Ok(()),
                        next = asked.next() => match next {
                            Some(outcome) => run.settle(outcome?),
                            None => return Ok(()),
                        },
                    }
                }
            }
        }
    }
}

impl Run {
    /// Hands a settled chunk to the writer.
    fn settle(&mut self, outcome: crate::checkpoint::ChunkOutcome) {
        let _ = self.writer.send(WriterMessage::Outcome(Box::new(outcome)));
    }

    /// Waits until the writer has recorded everything sent; false if it could not.
    async fn flush(&self) -> bool {
        let (done, recorded) = std::sync::mpsc::channel();
        if self.writer.send(WriterMessage::Flush(done)).is_err() {
            return false;
        }
        tokio::task::spawn_blocking(move || recorded.recv().unwrap_or(false))
            .await
            .unwrap_or(false)
    }

    fn left_in_flight(self) -> FlowReport {
        FlowReport {
            in_flight: self.in_flight.into_iter().map(|batch| batch.id).collect(),
            ..self.report
        }
    }
}

/// A tag no other submission has: a hash of the time, the process and its chunks.
fn submission_tag(chunks: &[BatchedChunk]) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let first = chunks.first().map_or("", |chunk| chunk.custom_id.as_str());
    let seed = format!("{nanos}\0{}\0{first}\0{}", std::process::id(), chunks.len());
    crate::digest::sha256_hex(seed.as_bytes())[..16].to_string()
}

/// The state a batch whose results were gone is recorded with, once its chunks are
/// asked again.
const RESULTS_GONE: &str = "results gone";
