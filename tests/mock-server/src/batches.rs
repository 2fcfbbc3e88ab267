//! The batch APIs of OpenAI, Anthropic and Gemini: requests handed over in one batch
//! and answered later, each line exactly as the live endpoint answers the same body.
//!
//! This file holds what the three share: the batches' state and counts, the routes,
//! how a batch ends (at its first status request unless held, or cancelled) and how a
//! line is answered or faulted (the `MOCK-BATCH-FAIL-ONCE` and `MOCK-BATCH-EXPIRE-ONCE`
//! markers), and how results go away (OpenAI files expire, Anthropic batches are
//! archived). [`openai`], [`openai_files`], [`anthropic`] and [`gemini`] hold each
//! API's shapes.

pub(crate) mod anthropic;
pub(crate) mod gemini;
pub(crate) mod openai;
pub(crate) mod openai_files;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::FutureExt;
use serde_json::{Value, json};

use super::{MockState, Recorded, chunk_text};

/// The batch APIs' state: OpenAI's files, every API's batches, and the counts the
/// tests read.
#[derive(Default)]
pub(crate) struct Batches {
    /// Batches stay in progress while held.
    pub(crate) hold: bool,
    /// How many times each custom id was submitted, over every API.
    pub(crate) submissions: BTreeMap<String, usize>,
    pub(crate) created: usize,
    pub(crate) polls: usize,
    /// Every submitted line's request, in order.
    pub(crate) bodies: Vec<Value>,
    /// Submissions of each id per API, for the faults that come only the first time.
    seen: HashMap<(Api, String), usize>,
    /// The last number given to a file, a batch or a batch request.
    next: u64,
    pub(crate) files: HashMap<String, openai_files::File>,
    /// How many of the next OpenAI batch creations answer 500 though they created
    /// the batch (an answer lost on the way).
    pub(crate) lose_create_answers: usize,
    /// How many of the next OpenAI batch creations answer 500 without creating one.
    pub(crate) fail_creates: usize,
    /// `GET /v1/batches` answers 500 while set.
    pub(crate) fail_lists: bool,
    /// Batches by id (`batch_1`, `msgbatch_2`, `batches/3`).
    pub(crate) jobs: HashMap<String, Job>,
}

impl Batches {
    /// A new number for an id.
    pub(crate) fn number(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Api {
    OpenAi,
    Anthropic,
    Gemini,
}

/// One batch of any API.
pub(crate) struct Job {
    api: Api,
    /// The key it was created with: its lines are answered with it.
    key: Option<String>,
    /// The model of the URL (Gemini's lines name none).
    pub(crate) model: String,
    pub(crate) lines: Vec<Line>,
    /// Unix seconds.
    pub(crate) created: u64,
    /// When a status request first found it in progress.
    pub(crate) started: Option<u64>,
    pub(crate) cancel_at: Option<u64>,
    pub(crate) ended: Option<Ended>,
    /// Fields the API hands back as they were sent (and OpenAI's output file ids).
    pub(crate) info: Value,
    /// OpenAI: how long its output and error files are kept (`output_expires_after`).
    pub(crate) output_ttl: Option<u64>,
    /// Anthropic: when it was archived, its results gone.
    pub(crate) archived: Option<u64>,
}

pub(crate) struct Line {
    pub(crate) id: String,
    pub(crate) body: Value,
    fault: Option<LineFault>,
}

#[derive(Debug, Clone, Copy)]
enum LineFault {
    Fail,
    Expire,
}

pub(crate) struct Ended {
    pub(crate) at: u64,
    /// One per line, in the lines' order.
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) cancelled: bool,
}

/// What became of a line.
pub(crate) enum Outcome {
    /// The live endpoint's answer body.
    Answered(Value),
    /// The live endpoint's refusal of the body: its status and error body.
    Refused { status: u16, body: Value },
    /// A server error (`MOCK-BATCH-FAIL-ONCE`).
    Failed,
    /// Not run before the window ended (`MOCK-BATCH-EXPIRE-ONCE`).
    Expired,
    /// Not run: the batch was cancelled.
    Cancelled,
}

impl Outcome {
    pub(crate) fn answered(&self) -> bool {
        matches!(self, Outcome::Answered(_))
    }
    /// Run and refused, or failed.
    pub(crate) fn errored(&self) -> bool {
        matches!(self, Outcome::Refused { .. } | Outcome::Failed)
    }
}

/// The message of a live error body (`{"error": {"message"}}`).
pub(crate) fn message_of(body: &Value) -> String {
    body.pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("mock: refused")
        .to_string()
}

/// The batch routes (Gemini's creation goes through the live `models/{model_action}`).
pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/v1/files", post(openai_files::upload).layer(body_limit()))
        .route(
            "/v1/files/{id}",
            get(openai_files::file).delete(openai_files::delete),
        )
        .route("/v1/files/{id}/content", get(openai_files::content))
        .route("/v1/batches", post(openai::create).get(openai::list))
        .route("/v1/batches/{id}", get(openai::get))
        .route("/v1/batches/{id}/cancel", post(openai::cancel))
        .route(
            "/v1/messages/batches",
            post(anthropic::create).layer(body_limit()),
        )
        .route("/v1/messages/batches/{id}", get(anthropic::get))
        .route("/v1/messages/batches/{id}/results", get(anthropic::results))
        .route("/v1/messages/batches/{id}/cancel", post(anthropic::cancel))
        .route(
            "/v1beta/batches/{id_action}",
            get(gemini::get).post(gemini::cancel),
        )
}

/// Batches are large: as the real APIs, take up to 256 MB.
pub(crate) fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(256 << 20)
}

/// Keeps a call without a body in `requests()`, then checks its credentials with the
/// API's own `access`: how every batch call that only reads or cancels begins.
pub(crate) fn admit(
    state: &MockState,
    path: &str,
    headers: &HeaderMap,
    access: fn(&MockState, &HeaderMap) -> Result<(), Response>,
) -> Result<(), Response> {
    record(state, path, headers, Value::Null);
    access(state, headers)
}

/// Keeps a batch call in `requests()` (it does not count as a model request served).
pub(crate) fn record(state: &MockState, path: &str, headers: &HeaderMap, body: Value) {
    if !state
        .not_recording
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        state.requests.lock().unwrap().push(Recorded {
            path: path.into(),
            headers: headers.clone(),
            body,
        });
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Unix seconds as RFC 3339 (`2026-11-24T00:00:00Z`).
pub(crate) fn rfc3339(seconds: u64) -> String {
    chrono::DateTime::from_timestamp(seconds as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Makes a batch of `lines` (custom id, request), counting its submissions and
/// choosing its lines' faults; returns its id.
pub(crate) fn create(
    state: &MockState,
    api: Api,
    prefix: &str,
    key: Option<&str>,
    model: &str,
    info: Value,
    lines: Vec<(String, Value)>,
) -> String {
    let mut batches = state.batches.lock().unwrap();
    let id = format!("{prefix}{}", batches.number());
    batches.created += 1;
    let lines = lines
        .into_iter()
        .map(|(custom_id, body)| {
            let seen = batches.seen.entry((api, custom_id.clone())).or_default();
            let first = *seen == 0;
            *seen += 1;
            *batches.submissions.entry(custom_id.clone()).or_default() += 1;
            batches.bodies.push(body.clone());
            let text = chunk_text(&user_prompt(&body));
            let fault = if !first {
                None
            } else if text.contains("MOCK-BATCH-FAIL-ONCE") {
                Some(LineFault::Fail)
            } else if text.contains("MOCK-BATCH-EXPIRE-ONCE") {
                Some(LineFault::Expire)
            } else {
                None
            };
            Line {
                id: custom_id,
                body,
                fault,
            }
        })
        .collect();
    let job = Job {
        api,
        key: key.map(str::to_string),
        model: model.to_string(),
        lines,
        created: now(),
        started: None,
        cancel_at: None,
        ended: None,
        info,
        output_ttl: None,
        archived: None,
    };
    batches.jobs.insert(id.clone(), job);
    id
}

/// Makes `count` OpenAI batches that other clients of the key created `age` seconds
/// ago (other shards, other tools), in progress, without counting them as
/// submissions.
pub(crate) fn others(state: &MockState, count: usize, age: u64) {
    let mut batches = state.batches.lock().unwrap();
    for _ in 0..count {
        let id = format!("batch_{}", batches.number());
        let info = json!({
            "endpoint": "/v1/chat/completions", "input_file_id": "file-elsewhere",
            "completion_window": "24h", "metadata": {"made_by": "another client"},
            "output_file_id": null, "error_file_id": null,
        });
        let created = now().saturating_sub(age);
        let job = Job {
            api: Api::OpenAi,
            key: None,
            model: String::new(),
            lines: Vec::new(),
            created,
            started: Some(created),
            cancel_at: None,
            ended: None,
            info,
            output_ttl: None,
            archived: None,
        };
        batches.jobs.insert(id, job);
    }
}

/// Every ended batch's results go, as time does it: OpenAI's output and error files
/// expire (as `output_expires_after` makes them), Anthropic's batches are archived.
/// The batches themselves stay.
pub(crate) fn expire_results(state: &MockState) {
    let mut guard = state.batches.lock().unwrap();
    let batches = &mut *guard;
    let at = now();
    for job in batches.jobs.values_mut().filter(|job| job.ended.is_some()) {
        match job.api {
            Api::OpenAi => {
                for field in ["output_file_id", "error_file_id"] {
                    let file = job.info[field]
                        .as_str()
                        .and_then(|id| batches.files.get_mut(id));
                    if let Some(file) = file {
                        file.expires_at = Some(at);
                    }
                }
            }
            Api::Anthropic => {
                job.archived.get_or_insert(at);
            }
            Api::Gemini => {}
        }
    }
}

/// The first user message of a chat or Gemini request.
fn user_prompt(body: &Value) -> String {
    let messages = body["messages"].as_array().into_iter().flatten();
    let contents = body["contents"].as_array().into_iter().flatten();
    messages
        .filter(|m| m["role"] == "user")
        .find_map(|m| m["content"].as_str())
        .or_else(|| {
            contents
                .filter(|c| c["role"] == "user")
                .find_map(|c| c.pointer("/parts/0/text").and_then(Value::as_str))
        })
        .unwrap_or_default()
        .to_string()
}

/// A status request: counts it, finds the batch of `api`, and ends it unless held.
pub(crate) fn poll<T>(
    state: &MockState,
    api: Api,
    id: &str,
    then: impl FnOnce(&mut Batches, &str) -> T,
) -> Option<T> {
    let mut guard = state.batches.lock().unwrap();
    let batches = &mut *guard;
    batches.polls += 1;
    let hold = batches.hold;
    let job = batches.jobs.get_mut(id).filter(|job| job.api == api)?;
    if job.ended.is_none() {
        job.started.get_or_insert_with(now);
        if !hold {
            let cancelled = job.cancel_at.is_some();
            let outcomes = job
                .lines
                .iter()
                .map(|line| match (cancelled, line.fault) {
                    (true, _) => Outcome::Cancelled,
                    (false, Some(LineFault::Fail)) => Outcome::Failed,
                    (false, Some(LineFault::Expire)) => Outcome::Expired,
                    (false, None) => run(state, job, &line.body),
                })
                .collect();
            job.ended = Some(Ended {
                at: now(),
                outcomes,
                cancelled,
            });
        }
    }
    Some(then(batches, id))
}

/// Runs `f` on the batch `id` of `api`, if there is one.
pub(crate) fn with_job<T>(
    state: &MockState,
    api: Api,
    id: &str,
    f: impl FnOnce(&mut Job) -> T,
) -> Option<T> {
    let mut batches = state.batches.lock().unwrap();
    batches.jobs.get_mut(id).filter(|job| job.api == api).map(f)
}

/// A line answered as the live endpoint answers the same body, past its faults.
fn run(state: &MockState, job: &Job, body: &Value) -> Outcome {
    let key = job.key.as_deref();
    let answer = match super::refusals::refusal(state, body, &HeaderMap::new()) {
        Some(refusal) => Err(refusal),
        None => match job.api {
            Api::OpenAi => super::openai_answer(state, key, body),
            Api::Anthropic => super::claude_answer(state, key, true, body),
            Api::Gemini => super::gemini_answer(state, key, &job.model, body),
        },
    };
    match answer {
        Ok(answer) => Outcome::Answered(answer),
        Err(refusal) => {
            let status = refusal.status().as_u16();
            // The live refusals are whole JSON bodies, ready at once.
            let bytes = axum::body::to_bytes(refusal.into_body(), usize::MAX)
                .now_or_never()
                .and_then(Result::ok);
            let body = bytes
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_else(|| json!({"error": {"message": "mock: refused"}}));
            Outcome::Refused { status, body }
        }
    }
}

/// The request body as JSON, or a 400.
pub(crate) fn parse(api: Api, body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            api,
            StatusCode::BAD_REQUEST,
            format!("mock: body is not JSON: {e}"),
        )
    })
}

/// An error in the API's own shape (each has `error.message`).
pub(crate) fn error(api: Api, status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    let body = match api {
        Api::OpenAi => json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null, "code": null,
        }}),
        Api::Anthropic => json!({"type": "error", "error": {
            "type": anthropic::error_type(status.as_u16()), "message": message,
        }}),
        Api::Gemini => json!({"error": {
            "code": status.as_u16(), "message": message, "status": gemini::status_name(status.as_u16()),
        }}),
    };
    (status, axum::Json(body)).into_response()
}

/// JSON lines, as a file download.
pub(crate) fn jsonl(lines: &[Value]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}
