//! One chunk's work, from its prompt to its outcome, whatever carries the request to
//! the model: a live call ([`super::pipeline`], through [`ask_until_settled`]) or a
//! line in a provider's batch ([`super::batch_flow`]). It also defines what both share:
//! the [`Job`], the workers' [`WorkerContext`] and why a run [`Stop`]s. Both go through the same steps, so an answer is parsed, gated
//! and recorded the same way however it came back.
//!
//! [`begin`] builds the prompt (or settles a chunk with nothing to ask); [`ChunkWork::answer`]
//! takes the model's answer and either settles the chunk or adds the parser's repair
//! turn for another attempt; [`ChunkWork::fail`] settles it with a cause.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::chat::Message;
use crate::checkpoint::{ChunkOutcome, ChunkStatus, StoredPair};
use crate::chunks::{ChunkFile, MAX_CHUNK_TEXT_BYTES};
use crate::plugin::parser::ParseError;
use crate::plugin::{ParserPlugin, PluginThreads};
use crate::prompt::PromptBuilder;
use crate::provider::{AnswerQuotes, ChatResponse, ModelClient, ModelError};

/// One chunk to process.
#[derive(Clone)]
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
    /// What every prompt asks for (derived from the run record once): what the
    /// parser is told.
    pub asked: crate::task::Asked,
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
    /// What must be recorded could not be (the batch ledger).
    Record(String),
}

impl From<crate::batch::LedgerError> for Stop {
    fn from(error: crate::batch::LedgerError) -> Self {
        Stop::Record(error.to_string())
    }
}

/// What to do next with a chunk.
pub enum Step {
    /// Ask the model (again) with the work's messages.
    Ask(Box<ChunkWork>),
    /// The chunk is settled: hand its outcome to the writer.
    Done(Box<ChunkOutcome>),
}

/// A chunk being asked about: its outcome so far and the conversation to send.
pub struct ChunkWork {
    pub job: Job,
    outcome: ChunkOutcome,
    messages: Vec<Message>,
    /// The quality gate's view of the prompt (shared while it stays the same).
    prompt_side: Arc<crate::quality::PromptSide>,
    /// The sentences each answer is quoted from (`--quote-answers`), if any.
    quotes: Option<AnswerQuotes>,
    started: Instant,
}

/// A chunk's outcome before any work: failed, with nothing recorded.
pub fn new_outcome(context: &WorkerContext, job: &Job) -> ChunkOutcome {
    let chunk = &job.doc.chunks[job.index];
    ChunkOutcome {
        stem: job.doc.stem.clone(),
        position: chunk.position,
        chunk_id: chunk.chunk_id.clone(),
        chunk_index: chunk.chunk_index,
        chunk_start: chunk.start_char,
        chunk_end: chunk.end_char,
        source_text: chunk.text.clone(),
        place: chunk.place(),
        status: ChunkStatus::Failed,
        pairs: Vec::new(),
        error: None,
        raw_response: None,
        prompt: None,
        settings: context.run_record.clone(),
        tokens_in: 0,
        tokens_out: 0,
        tokens_reasoning: 0,
        duration_ms: 0,
        attempts: 0,
    }
}

/// Builds the chunk's prompt; a chunk with no text, too much text, or a prompt the
/// plugin cannot build is settled at once.
pub async fn begin(context: &Arc<WorkerContext>, job: Job) -> Step {
    let started = Instant::now();
    let chunk = &job.doc.chunks[job.index];
    let mut outcome = new_outcome(context, &job);
    if chunk.text.trim().is_empty() {
        outcome.status = ChunkStatus::Skipped;
        return Step::Done(Box::new(outcome));
    }
    if chunk.text.len() > MAX_CHUNK_TEXT_BYTES {
        let cause = format!(
            "its text is {:.1} MiB, more than the {} MiB tdg accepts in one chunk: split the document into smaller chunks",
            chunk.text.len() as f64 / f64::from(1 << 20),
            MAX_CHUNK_TEXT_BYTES >> 20
        );
        return Step::Done(Box::new(failed(outcome, &job, cause, started)));
    }
    let built = context
        .plugin_threads
        .run({
            let (context, doc, index) = (context.clone(), job.doc.clone(), job.index);
            move || context.prompt.build(&doc, &doc.chunks[index])
        })
        .await;
    let messages = match built {
        Ok(Ok(messages)) => messages,
        Ok(Err(error)) => {
            return Step::Done(Box::new(failed(outcome, &job, error.to_string(), started)));
        }
        Err(cause) => return Step::Done(Box::new(failed(outcome, &job, cause, started))),
    };
    outcome.prompt = Some(json!(messages));
    let prompt_side = context
        .prompt_sides
        .get(&crate::quality::prompt_without(&messages, &chunk.text));
    let model = context.client.settings();
    let quotes = model
        .quote_answers
        .then(|| AnswerQuotes::for_answer(&chunk.text, context.asked.examples, model.max_tokens));
    Step::Ask(Box::new(ChunkWork {
        job,
        outcome,
        messages,
        prompt_side,
        quotes: quotes.flatten(),
        started,
    }))
}

impl ChunkWork {
    /// The conversation to send.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The sentences each answer must quote, when answers are quoted.
    pub fn quotes(&self) -> Option<&AnswerQuotes> {
        self.quotes.as_ref()
    }

    /// Takes the model's answer to [`Self::messages`]: settled when it holds pairs, or
    /// when no attempt is left; else asked again with the parser's reason added.
    pub async fn answer(
        mut self: Box<Self>,
        context: &Arc<WorkerContext>,
        response: ChatResponse,
    ) -> Step {
        self.outcome.attempts += 1;
        if let Some(cut) = response.context_cut {
            let file = self.job.doc.path.file_name().unwrap_or_default();
            let chunk = &self.job.doc.chunks[self.job.index];
            tracing::warn!(
                "{}, chunk {} ({}): {cut}",
                file.to_string_lossy(),
                chunk.position,
                chunk.chunk_id
            );
        }
        self.outcome.tokens_in += response.tokens_in;
        self.outcome.tokens_out += response.tokens_out;
        let counted_reasoning = response.tokens_reasoning;
        // A trace the provider returned apart goes before the text in a `<think>`
        // block, as the contract says: where reparse finds it again.
        let raw = match (&response.reasoning, context.asked.task) {
            (Some(trace), crate::task::Task::Reasoning) => {
                format!("<think>\n{trace}\n</think>\n{}", response.text)
            }
            _ => response.text.clone(),
        };
        self.outcome.raw_response = Some(raw.clone());
        let parsed = context
            .plugin_threads
            .run({
                let (context, text) = (context.clone(), raw);
                move || context.parser.parse(&text, &context.asked)
            })
            .await;
        let verdict = match parsed {
            Ok(Ok(Ok(pairs))) => {
                let chunk = &self.job.doc.chunks[self.job.index];
                let assessor =
                    crate::quality::Assessor::with_prompt(&chunk.text, self.prompt_side.clone());
                self.outcome.status = ChunkStatus::Completed;
                self.outcome.error = None;
                self.outcome.tokens_reasoning += counted_reasoning.unwrap_or_else(|| {
                    reasoning_share(&pairs, &self.outcome.raw_response, response.tokens_out)
                });
                self.outcome.pairs = pairs
                    .into_iter()
                    .map(|example| StoredPair::assessed(example, &assessor, context.asked.task))
                    .collect();
                return Step::Done(Box::new(self.finish()));
            }
            Ok(Ok(Err(verdict))) => verdict,
            Ok(Err(plugin_error)) => {
                return Step::Done(Box::new(self.fail(plugin_error.to_string())));
            }
            Err(cause) => return Step::Done(Box::new(self.fail(cause))),
        };
        // The parser knows the shape it reads: its error text is the only
        // instruction that goes back to the model.
        let reason = verdict_text(&verdict).to_string();
        self.outcome.error = Some(format!("the answer held no usable pair: {reason}"));
        if self.outcome.attempts > context.parse_retries {
            return Step::Done(Box::new(self.finish()));
        }
        self.messages.push(Message {
            role: "assistant".into(),
            content: response.text,
        });
        self.messages.push(Message {
            role: "user".into(),
            content: reason,
        });
        Step::Ask(self)
    }

    /// Settles the chunk as failed, for `cause`.
    pub fn fail(self, cause: String) -> ChunkOutcome {
        failed(self.outcome, &self.job, cause, self.started)
    }

    fn finish(mut self) -> ChunkOutcome {
        self.outcome.duration_ms = self.started.elapsed().as_millis() as u64;
        self.outcome
    }
}

/// Records `cause` as the chunk's failure, and says in the log which chunk of
/// which document failed.
pub fn failed(
    mut outcome: ChunkOutcome,
    job: &Job,
    cause: String,
    started: Instant,
) -> ChunkOutcome {
    let chunk = &job.doc.chunks[job.index];
    tracing::warn!(
        "{}: chunk {} ({}) failed: {cause}",
        job.doc.path.display(),
        chunk.position,
        chunk.chunk_id
    );
    outcome.status = ChunkStatus::Failed;
    outcome.error = Some(cause);
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

/// The reasoning's share of `tokens_out`, for providers that do not count it apart:
/// `tokens_out` in the proportion of the distinct traces' characters to the raw
/// answer's (a trace a reasoning model wrote once is shared by its pairs).
fn reasoning_share(
    examples: &[crate::plugin::types::Example],
    raw: &Option<String>,
    tokens_out: u64,
) -> u64 {
    let total = raw.as_ref().map_or(0, String::len);
    let mut traces: Vec<&str> = examples
        .iter()
        .filter_map(|example| example.reasoning.as_deref())
        .collect();
    traces.sort_unstable();
    traces.dedup();
    let traced: usize = traces.iter().map(|trace| trace.len()).sum();
    if total == 0 {
        return 0;
    }
    (tokens_out as f64 * (traced.min(total) as f64 / total as f64)).round() as u64
}

fn verdict_text(verdict: &ParseError) -> &str {
    match verdict {
        ParseError::NoJson(text) | ParseError::WrongShape(text) | ParseError::NoPairs(text) => text,
    }
}

/// Asks the model live until the chunk is settled (an answer with pairs, or no
/// attempt left); a failed request settles it as failed.
pub async fn ask_until_settled(
    context: Arc<WorkerContext>,
    mut work: Box<ChunkWork>,
) -> Result<ChunkOutcome, Stop> {
    loop {
        let response = match context
            .client
            .chat_quoting(work.messages(), work.quotes())
            .await
        {
            Ok(response) => response,
            Err(error) if error.stops_run() => return Err(Stop::Model(error)),
            Err(error) => return Ok(work.fail(error.to_string())),
        };
        work = match work.answer(&context, response).await {
            Step::Ask(work) => work,
            Step::Done(outcome) => return Ok(*outcome),
        };
    }
}
