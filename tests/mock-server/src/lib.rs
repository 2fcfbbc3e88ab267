//! A mock model server on 127.0.0.1 that speaks OpenAI, Claude, Gemini and Ollama.
//!
//! It checks each request's headers and body shape the way the real APIs would
//! (rejecting a bad one with 400, a bad key with 401, an unknown model with 404),
//! records every request, and answers like a model: with question/answer pairs
//! made deterministically from the chunk text in the prompt, so runs compare
//! exactly. Markers in a chunk's text ask for messy answers:
//!
//! - `MOCK-FENCED`: prose and a markdown fence around the JSON;
//! - `MOCK-THINK`: a `<think>` block first;
//! - `MOCK-WRAPPED`: `{"qa_pairs": [...]}`;
//! - `MOCK-TRUNCATED`: cut off inside the last pair;
//! - `MOCK-GARBAGE-ONCE`: no JSON the first time, pairs when asked again;
//! - `MOCK-GARBAGE`: never any JSON;
//! - `MOCK-QA-LINES`: no JSON, but `Q1: ...` / `A1: ...` lines;
//! - `MOCK-TYPED`: each pair labelled with a question type, in turn `Factual` (in
//!   `type`), `inferential` (in `question_type`), `opinion` (a type tdg does not
//!   know) and `analytical`;
//! - `MOCK-ECHO`, `MOCK-REPEAT`, `MOCK-UNGROUNDED`: the pairs, plus a copy of the
//!   test template's example, a repeated question and a restated answer, or an
//!   answer the chunk does not support;
//! - `MOCK-TOO-LONG`: refused as the real APIs refuse a prompt longer than the
//!   model's context (OpenAI's 400 `context_length_exceeded`).
//!
//! [`refusals`] holds the servers' refusals: error bodies in each API's shape,
//! echoed credentials, and a server that refuses `response_format: json_schema` as
//! llama-cpp-python does.
//!
//! Faults can be queued (each request takes the next one), or drawn at a rate; a
//! capacity makes the server answer 429 past that many requests in flight, and a
//! latency makes every answer take that long. `src/main.rs` runs it standalone.
//!
//! Lenient mode ([`MockServer::set_lenient`]) stops requiring the optional request
//! fields tdg always sends (temperature, token limits, `stream: false`), so other
//! clients, such as the original Python tool, can be measured against the same
//! server. Ollama's `/api/generate` is served too, for clients that use it.
//!
//! The three APIs' batch endpoints are served too (`batches`): OpenAI's
//! (`POST /v1/files` with a multipart JSONL file, `POST /v1/batches`,
//! `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`,
//! `GET /v1/batches?limit&after` a page at a time, newest first,
//! `GET|DELETE /v1/files/{id}`, `GET /v1/files/{id}/content`, files that expire with
//! `output_expires_after`), Anthropic's (`POST /v1/messages/batches`,
//! `GET /v1/messages/batches/{id}`, `.../{id}/results`, `POST .../{id}/cancel`;
//! archived by [`MockServer::let_batch_results_expire`], their results then 404)
//! and Gemini's (`POST /v1beta/models/{model}:batchGenerateContent` with inlined
//! requests, `GET /v1beta/batches/{id}`, `POST /v1beta/batches/{id}:cancel`). A
//! batch stays in progress while [held](MockServer::hold_batches), and otherwise
//! ends at its first status request (or is cancelled then, if a cancel came
//! first): each line is answered exactly as the live endpoint answers the same body,
//! refusals included (a line the live endpoint would refuse fails with that
//! refusal), but without the live faults, latency and capacity. Batch calls are
//! recorded in [`MockServer::requests`] (the upload as `{"purpose", "filename",
//! "lines"}`) but not counted in [`MockServer::served`]. Output files and result
//! lines come in the reverse of the input order (Gemini's inlined responses keep
//! it), so clients must match them by id. Two markers in a line's chunk text:
//!
//! - `MOCK-BATCH-FAIL-ONCE`: the first time its id is in a batch of that API, the
//!   line fails with a server error (OpenAI 500 `server_error`, Anthropic `errored`
//!   `api_error`, Gemini code 13 `INTERNAL`); later batches answer it;
//! - `MOCK-BATCH-EXPIRE-ONCE`: the first time, the line expires unrun (OpenAI
//!   `batch_expired` and the batch `expired`, Anthropic `expired`, Gemini code 4
//!   `DEADLINE_EXCEEDED`); later batches answer it.
// Handlers return axum responses as errors, the framework's idiom.
#![allow(clippy::result_large_err)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

mod batches;
mod tasks;

pub use tasks::{Thinking, trace_for};
pub mod refusals;

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A fault to answer with instead of a model answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An error status, with an optional `Retry-After`.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// A 200 whose body stops halfway: the connection breaks mid-answer.
    CutOff,
    /// An answer that comes only after this long.
    Slow(std::time::Duration),
    /// An error status with this JSON body, as a real API would send it.
    Body { status: u16, body: Value },
    /// A 500 whose message echoes the request's `Authorization` header, as some
    /// proxies do.
    EchoAuthorization,
}

impl Fault {
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            retry_after: None,
        }
    }
    pub fn rate_limited(retry_after: &str) -> Self {
        Fault::Status {
            status: 429,
            retry_after: Some(retry_after.into()),
        }
    }
}

#[derive(Default)]
struct MockState {
    key: Option<String>,
    models: Option<Vec<String>>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    /// How long every answer takes.
    latency: Mutex<Option<std::time::Duration>>,
    /// One request in this many fails with a 429 or a 500 (0: never).
    fail_one_in: std::sync::atomic::AtomicU64,
    /// Whether requests are kept for `requests()` (off for long benchmarks).
    not_recording: std::sync::atomic::AtomicBool,
    /// How many requests arrived (model requests only).
    served: std::sync::atomic::AtomicU64,
    /// The most requests served at once; more get 429 (0: no limit).
    capacity: std::sync::atomic::AtomicUsize,
    in_flight: std::sync::atomic::AtomicUsize,
    /// How many requests were turned away for capacity.
    rejected: std::sync::atomic::AtomicU64,
    /// When the first model request arrived.
    first_request: std::sync::OnceLock<std::time::Instant>,
    /// When the latest model answer was handed back (after its latency).
    last_answer: Mutex<Option<std::time::Instant>>,
    /// Optional request fields are not required (for clients other than tdg).
    lenient: std::sync::atomic::AtomicBool,
    /// A fault for every request that has no queued one.
    always: Mutex<Option<Fault>>,
    /// Refuse `response_format: json_schema` as llama-cpp-python does.
    refuse_json_schema: std::sync::atomic::AtomicBool,
    /// The batch APIs' files, batches and counts.
    batches: Mutex<batches::Batches>,
    /// Where answers carry a reasoning model's trace ([`Thinking`]).
    thinking: std::sync::atomic::AtomicU8,
    /// Answer `think: true` as Ollama does for a model that does not think.
    refuse_thinking: std::sync::atomic::AtomicBool,
}

/// A running mock server; it stops when dropped.
pub struct MockServer {
    pub url: String,
    state: Arc<MockState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// A server that accepts any key and any model.
    pub fn start() -> Self {
        Self::start_with(None, None)
    }

    /// A server that requires `key` and knows only `models` (when given).
    pub fn start_with(key: Option<&str>, models: Option<&[&str]>) -> Self {
        let state = Arc::new(MockState {
            key: key.map(str::to_string),
            models: models.map(|m| m.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1/messages", post(claude))
            .route(
                "/v1beta/models/{model_action}",
                post(gemini).layer(batches::body_limit()),
            )
            .route("/api/chat", post(ollama))
            .route("/api/generate", post(ollama_generate))
            .route("/api/tags", get(tags))
            .route("/v1/models", get(openai_models))
            .merge(batches::routes())
            .with_state(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await
                    .unwrap();
            });
        });
        MockServer {
            url,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Makes every answer take `latency`.
    pub fn set_latency(&self, latency: std::time::Duration) {
        *self.state.latency.lock().unwrap() = Some(latency);
    }

    /// Makes one request in `n` (pseudo-randomly, but the same way every run) fail
    /// with a 429 or a 500.
    pub fn fail_one_in(&self, n: u64) {
        self.state
            .fail_one_in
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops keeping requests (`requests()` stays empty; counts still work).
    pub fn stop_recording(&self) {
        self.state
            .not_recording
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops requiring the optional fields tdg always sends, for other clients.
    pub fn set_lenient(&self) {
        self.state
            .lenient
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Serves at most `capacity` requests at once; more get 429 with `Retry-After: 0.05`.
    pub fn set_capacity(&self, capacity: usize) {
        self.state
            .capacity
            .store(capacity, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many requests were turned away because the server was at capacity.
    pub fn rejected_for_capacity(&self) -> u64 {
        self.state
            .rejected
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// When the first model request arrived.
    pub fn first_request_at(&self) -> Option<std::time::Instant> {
        self.state.first_request.get().copied()
    }

    /// How many model requests arrived, recorded or not.
    pub fn served(&self) -> u64 {
        self.state.served.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// When the latest model answer was handed back, after its latency.
    pub fn last_answer_at(&self) -> Option<std::time::Instant> {
        *self.state.last_answer.lock().unwrap()
    }

    /// Answers every request that has no queued fault with `fault` (none: stop).
    pub fn set_fault_always(&self, fault: Option<Fault>) {
        *self.state.always.lock().unwrap() = fault;
    }

    /// Refuses `response_format: json_schema` with HTTP 500 and a validation error,
    /// as llama-cpp-python's server does; `json_object` (with a `schema`) is taken.
    /// Answers as a reasoning model, with its trace where `thinking` says.
    pub fn set_thinking(&self, thinking: Thinking) {
        self.state
            .thinking
            .store(thinking as u8, std::sync::atomic::Ordering::SeqCst);
    }

    /// Refuses Ollama's `think: true` as Ollama does for a model without thinking.
    pub fn refuse_thinking(&self) {
        self.state
            .refuse_thinking
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn refuse_json_schema(&self) {
        self.state
            .refuse_json_schema
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Queues faults for the next requests, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.faults.lock().unwrap().extend(faults);
    }

    /// Makes the next OpenAI batch creation create the batch but answer HTTP 500, as
    /// when the answer is lost on its way back.
    pub fn lose_next_batch_create_answer(&self) {
        self.state.batches.lock().unwrap().lose_create_answers += 1;
    }

    /// Makes the next OpenAI batch creation answer HTTP 500 without creating it.
    pub fn fail_next_batch_create(&self) {
        self.state.batches.lock().unwrap().fail_creates += 1;
    }

    /// Makes `GET /v1/batches` answer HTTP 500 (`true`) or list again (`false`).
    pub fn fail_batch_lists(&self, fail: bool) {
        self.state.batches.lock().unwrap().fail_lists = fail;
    }

    /// Adds `count` OpenAI batches made `age` ago by other clients of the key (other
    /// shards, other tools): they are listed, but are no submissions of the tests'.
    pub fn add_other_batches(&self, count: usize, age: std::time::Duration) {
        batches::others(&self.state, count, age.as_secs());
    }

    /// Lets the results of every ended batch go, as time does: OpenAI's output and
    /// error files expire (as `output_expires_after` makes them; their content answers
    /// 404), Anthropic's batches are archived (`archived_at` set, their `results_url`
    /// answers 404). The batches themselves are still known.
    pub fn let_batch_results_expire(&self) {
        batches::expire_results(&self.state);
    }

    /// Holds every batch in progress (`true`) or lets them end (`false`, the default):
    /// a batch that is not held ends at its first status request, its results made then.
    pub fn hold_batches(&self, hold: bool) {
        self.state.batches.lock().unwrap().hold = hold;
    }

    /// How many times each `custom_id` (Gemini: `metadata.key`) was submitted, over the
    /// batches of every API.
    pub fn batch_submissions(&self) -> std::collections::BTreeMap<String, usize> {
        self.state.batches.lock().unwrap().submissions.clone()
    }

    /// How many batches were created, over every API.
    pub fn batches_created(&self) -> usize {
        self.state.batches.lock().unwrap().created
    }

    /// How many times a batch's status was asked for, over every API.
    pub fn batch_polls(&self) -> usize {
        self.state.batches.lock().unwrap().polls
    }

    /// The request of every line submitted in a batch, in order: OpenAI's `body`,
    /// Anthropic's `params`, Gemini's `request`.
    pub fn batch_request_bodies(&self) -> Vec<Value> {
        self.state.batches.lock().unwrap().bodies.clone()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// How many model requests (not model listings) arrived.
    pub fn request_count(&self) -> usize {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path != "/api/tags")
            .count()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn reject(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"error": {"message": message.into()}})),
    )
        .into_response()
}

/// Records the request, waits out the latency, and answers with a fault if one is
/// due; else hands back the body.
async fn receive(
    state: &MockState,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, Response> {
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        reject(
            StatusCode::BAD_REQUEST,
            format!("mock: body is not JSON: {e}"),
        )
    })?;
    use std::sync::atomic::Ordering::SeqCst;
    state.first_request.get_or_init(std::time::Instant::now);
    let number = state.served.fetch_add(1, SeqCst) + 1;
    if !state.not_recording.load(SeqCst) {
        state.requests.lock().unwrap().push(Recorded {
            path: path.into(),
            headers: headers.clone(),
            body: body.clone(),
        });
    }
    let capacity = state.capacity.load(SeqCst);
    let _slot = InFlight::enter(&state.in_flight);
    if capacity > 0 && state.in_flight.load(SeqCst) > capacity {
        state.rejected.fetch_add(1, SeqCst);
        let mut response = reject(StatusCode::TOO_MANY_REQUESTS, "mock: at capacity");
        response
            .headers_mut()
            .insert("retry-after", "0.05".parse().unwrap());
        return Err(response);
    }
    let latency = *state.latency.lock().unwrap();
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    if let Some(refusal) = refusals::refusal(state, &body, headers) {
        return Err(refusal);
    }
    let queued = state.faults.lock().unwrap().pop_front();
    let queued = queued.or_else(|| state.always.lock().unwrap().clone());
    let one_in = state.fail_one_in.load(std::sync::atomic::Ordering::SeqCst);
    let random = (one_in > 0 && scramble(number).is_multiple_of(one_in)).then(|| {
        if number.is_multiple_of(2) {
            Fault::rate_limited("0")
        } else {
            Fault::status(500)
        }
    });
    *state.last_answer.lock().unwrap() = Some(std::time::Instant::now());
    match queued.or(random) {
        None => Ok(body),
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(body)
        }
        Some(Fault::CutOff) => {
            let half: Result<Bytes, std::io::Error> = Ok(Bytes::from_static(
                b"{\"choices\": [{\"message\": {\"content\": \"[{",
            ));
            let broken = Err(std::io::Error::other("mock: connection broken"));
            let stream = futures_util::stream::iter([half, broken]);
            Err(Response::builder()
                .status(200)
                .body(axum::body::Body::from_stream(stream))
                .unwrap())
        }
        Some(Fault::Body { status, body }) => {
            Err((StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response())
        }
        Some(Fault::EchoAuthorization) => Err(refusals::echo_authorization(headers)),
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut response = reject(
                StatusCode::from_u16(status).unwrap(),
                format!("mock fault {status}"),
            );
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", after.parse().unwrap());
            }
            Err(response)
        }
    }
}

/// Counts a request in flight until dropped.
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a std::sync::atomic::AtomicUsize) -> Self {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InFlight(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Mixes the bits of a request number, for faults that look random.
fn scramble(n: u64) -> u64 {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 7
}

/// Checks the key and the model as the real APIs do.
fn check_access(state: &MockState, key: Option<&str>, model: Option<&str>) -> Result<(), Response> {
    if let Some(expected) = &state.key
        && key != Some(expected.as_str())
    {
        return Err(reject(StatusCode::UNAUTHORIZED, "mock: invalid API key"));
    }
    if let (Some(models), Some(model)) = (&state.models, model)
        && !models.iter().any(|m| m == model)
    {
        return Err(reject(
            StatusCode::NOT_FOUND,
            format!("model '{model}' not found"),
        ));
    }
    Ok(())
}

/// Like [`require`], for a field real servers do not insist on: skipped when lenient.
fn require_sent(state: &MockState, condition: bool, what: &str) -> Result<(), Response> {
    let lenient = state.lenient.load(std::sync::atomic::Ordering::SeqCst);
    require(lenient || condition, what)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn require(condition: bool, what: &str) -> Result<(), Response> {
    if condition {
        Ok(())
    } else {
        Err(reject(StatusCode::BAD_REQUEST, format!("mock: {what}")))
    }
}

/// Checks `[{"role", "content"}]`, and returns the user turns and the turn count.
fn chat_messages(
    messages: Option<&Value>,
    allow_system: bool,
) -> Result<(Vec<String>, usize), Response> {
    let list = messages
        .and_then(Value::as_array)
        .ok_or_else(|| reject(StatusCode::BAD_REQUEST, "mock: no messages"))?;
    let mut user = Vec::new();
    for message in list {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let content = message.get("content").and_then(Value::as_str);
        require(content.is_some(), "a message has no string content")?;
        require(
            matches!(role, "user" | "assistant") || (allow_system && role == "system"),
            &format!("bad role `{role}`"),
        )?;
        if role == "user" {
            user.push(content.unwrap().to_string());
        }
    }
    Ok((user, list.len()))
}

async fn openai(State(state): State<Arc<MockState>>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = header(&headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
    let body = match receive(&state, "/v1/chat/completions", &headers, &body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    answered(openai_answer(&state, bearer, &body))
}

/// A live answer, or the refusal that stands for it.
fn answered(answer: Result<Value, Response>) -> Response {
    answer.map_or_else(|r| r, |body| axum::Json(body).into_response())
}

/// What `/v1/chat/completions` answers to `body` once past [`receive`]: the checks of
/// key, model and body, then the answer. A batch line gets the same.
fn openai_answer(state: &MockState, key: Option<&str>, body: &Value) -> Result<Value, Response> {
    check_access(state, key, body["model"].as_str())?;
    require(body["model"].is_string(), "model missing")?;
    require_sent(
        state,
        body["temperature"].is_number() && body["max_tokens"].is_number(),
        "temperature or max_tokens missing",
    )?;
    let (user, turns) = chat_messages(body.get("messages"), true)?;
    let (text, trace) = thought_answer(state, &user, turns);
    let mut message = json!({"role": "assistant", "content": text});
    let mut usage = json!({"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150});
    if let Some(trace) = trace {
        // vLLM, llama.cpp's server and DeepSeek return the trace unasked.
        message["reasoning_content"] = json!(trace);
        usage["completion_tokens"] = json!(80);
        usage["completion_tokens_details"] = json!({"reasoning_tokens": 30});
    }
    Ok(json!({
        "id": "chatcmpl-mock", "object": "chat.completion", "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage,
    }))
}

async fn claude(State(state): State<Arc<MockState>>, headers: HeaderMap, body: Bytes) -> Response {
    let key = header(&headers, "x-api-key").map(str::to_string);
    let versioned = header(&headers, "anthropic-version").is_some();
    let body = match receive(&state, "/v1/messages", &headers, &body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    answered(claude_answer(&state, key.as_deref(), versioned, &body))
}

/// What `/v1/messages` answers to `body` once past [`receive`] (`versioned`: the
/// request had an `anthropic-version` header). A batch line gets the same.
fn claude_answer(
    state: &MockState,
    key: Option<&str>,
    versioned: bool,
    body: &Value,
) -> Result<Value, Response> {
    check_access(state, key, body["model"].as_str())?;
    require(versioned, "anthropic-version header missing")?;
    require(body["max_tokens"].is_number(), "max_tokens is required")?;
    require(
        body["system"].is_string(),
        "the system prompt must be a top-level string",
    )?;
    let (user, turns) = chat_messages(body.get("messages"), false)?;
    let (text, trace) = thought_answer(state, &user, turns);
    let mut content = vec![json!({"type": "text", "text": text})];
    if let Some(trace) = trace.filter(|_| body["thinking"]["type"] == "enabled") {
        let budget = body["thinking"]["budget_tokens"].as_u64().unwrap_or(0);
        require(
            budget >= 1024,
            "thinking.budget_tokens must be at least 1024",
        )?;
        require(
            body["max_tokens"].as_u64().unwrap_or(0) > budget,
            "max_tokens must be greater than thinking.budget_tokens",
        )?;
        require(
            body.get("temperature").is_none(),
            "temperature may not be set with thinking",
        )?;
        content.insert(
            0,
            json!({"type": "thinking", "thinking": trace, "signature": "mock-signature"}),
        );
    }
    Ok(json!({
        "id": "msg_mock", "type": "message", "role": "assistant", "model": body["model"],
        "content": content,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 100, "output_tokens": 50},
    }))
}

async fn gemini(
    State(state): State<Arc<MockState>>,
    Path(model_action): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = header(&headers, "x-goog-api-key").map(str::to_string);
    if let Some(model) = model_action.strip_suffix(":batchGenerateContent") {
        return batches::gemini::create(&state, model, &headers, &body);
    }
    let Some(model) = model_action.strip_suffix(":generateContent") else {
        return reject(StatusCode::NOT_FOUND, "mock: unknown method");
    };
    let body = match receive(
        &state,
        &format!("/v1beta/models/{model_action}"),
        &headers,
        &body,
    )
    .await
    {
        Ok(body) => body,
        Err(response) => return response,
    };
    answered(gemini_answer(&state, key.as_deref(), model, &body))
}

/// What `/v1beta/models/{model}:generateContent` answers to `body` once past
/// [`receive`]. A batch line gets the same.
fn gemini_answer(
    state: &MockState,
    key: Option<&str>,
    model: &str,
    body: &Value,
) -> Result<Value, Response> {
    check_access(state, key, Some(model))?;
    require(
        body.pointer("/systemInstruction/parts/0/text").is_some(),
        "systemInstruction missing",
    )?;
    require(
        body.pointer("/generationConfig/temperature").is_some(),
        "generationConfig.temperature missing",
    )?;
    require(
        body.pointer("/generationConfig/maxOutputTokens").is_some(),
        "generationConfig.maxOutputTokens missing",
    )?;
    let contents = body["contents"]
        .as_array()
        .ok_or_else(|| reject(StatusCode::BAD_REQUEST, "mock: no contents"))?;
    let mut user = Vec::new();
    for content in contents {
        let role = content["role"].as_str().unwrap_or_default();
        require(role == "user" || role == "model", "bad role")?;
        let text = content.pointer("/parts/0/text").and_then(Value::as_str);
        require(text.is_some(), "a content has no parts[0].text")?;
        if role == "user" {
            user.push(text.unwrap().to_string());
        }
    }
    let (text, trace) = thought_answer(state, &user, contents.len() + 1);
    let mut parts = vec![json!({"text": text})];
    let mut usage = json!({"promptTokenCount": 100, "candidatesTokenCount": 50});
    let asked =
        body.pointer("/generationConfig/thinkingConfig/includeThoughts") == Some(&json!(true));
    if let Some(trace) = trace.filter(|_| asked) {
        parts.insert(0, json!({"text": trace, "thought": true}));
        usage["thoughtsTokenCount"] = json!(30);
    }
    Ok(json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
        "usageMetadata": usage,
    }))
}

async fn ollama(State(state): State<Arc<MockState>>, headers: HeaderMap, body: Bytes) -> Response {
    let model = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["model"].as_str().map(str::to_string));
    let body = match receive(&state, "/api/chat", &headers, &body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let result = (|| {
        check_access(&state, state.key.as_deref(), model.as_deref())?;
        require_sent(
            &state,
            body["stream"] == json!(false),
            "stream must be false",
        )?;
        require_sent(
            &state,
            body.pointer("/options/temperature").is_some(),
            "options.temperature missing",
        )?;
        require_sent(
            &state,
            body.pointer("/options/num_predict").is_some(),
            "options.num_predict missing",
        )?;
        if body["think"] == json!(true)
            && state
                .refuse_thinking
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err((
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "\"mock-model\" does not support thinking"})),
            )
                .into_response());
        }
        let (user, turns) = chat_messages(body.get("messages"), true)?;
        let (text, trace) = thought_answer(&state, &user, turns);
        let mut message = json!({"role": "assistant", "content": text});
        if let Some(trace) = trace.filter(|_| body["think"] == json!(true)) {
            message["thinking"] = json!(trace);
        }
        Ok(axum::Json(json!({
            "model": body["model"], "created_at": "2026-11-24T00:00:00Z",
            "message": message,
            "done": true, "prompt_eval_count": 100, "eval_count": 50,
        }))
        .into_response())
    })();
    result.unwrap_or_else(|r| r)
}

/// Ollama's single-prompt API: `{"prompt"}` in, `{"response"}` out.
async fn ollama_generate(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match receive(&state, "/api/generate", &headers, &body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let result = (|| {
        check_access(&state, state.key.as_deref(), body["model"].as_str())?;
        let prompt = body["prompt"].as_str();
        require(prompt.is_some(), "prompt missing")?;
        let text = answer(&[prompt.unwrap_or_default().to_string()], 1);
        Ok(axum::Json(json!({
            "model": body["model"], "created_at": "2026-11-24T00:00:00Z",
            "response": text, "done": true, "prompt_eval_count": 100, "eval_count": 50,
        }))
        .into_response())
    })();
    result.unwrap_or_else(|r| r)
}

async fn openai_models(State(state): State<Arc<MockState>>) -> Response {
    let models = state.models.clone().unwrap_or_default();
    axum::Json(json!({"object": "list", "data": models.iter().map(|m| json!({"id": m, "object": "model"})).collect::<Vec<_>>()}))
        .into_response()
}

async fn tags(State(state): State<Arc<MockState>>) -> Response {
    let models = state.models.clone().unwrap_or_default();
    axum::Json(json!({"models": models.iter().map(|m| json!({"name": m, "model": m})).collect::<Vec<_>>()})).into_response()
}

/// A judge's answer: low scores for the off-text banana answer, none that can be read
/// for sources marked `MOCK-JUDGE-GARBAGE`, good scores otherwise.
fn judgment(prompt: &str, _turns: usize) -> String {
    let answer = prompt
        .lines()
        .find_map(|line| line.strip_prefix("Answer: "))
        .unwrap_or_default();
    if prompt.contains("MOCK-JUDGE-GARBAGE") {
        return "The answer seems fine to me.".into();
    }
    if answer.contains("Bananas") {
        return r#"{"accuracy": 2, "completeness": 4, "consistency": 5, "explanation": "Not in the text."}"#.into();
    }
    r#"Verdict: {"accuracy": 9, "completeness": 8, "consistency": 10, "explanation": "Supported."}"#
        .into()
}

/// The chunk text of a prompt: between the default template's `"""` lines, or the
/// whole first user message.
pub fn chunk_text(prompt: &str) -> String {
    let mut parts = prompt.split("\"\"\"\n");
    match (parts.next(), parts.next()) {
        (Some(_), Some(inner)) => inner
            .trim_end_matches('\n')
            .trim_end_matches("\"\"\"")
            .trim_end()
            .to_string(),
        _ => prompt.to_string(),
    }
}

/// The number of questions asked for ("Generate N ...").
fn asked_for(prompt: &str) -> usize {
    prompt
        .split_whitespace()
        .skip_while(|word| *word != "Generate")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

/// The pairs the mock makes for a chunk: deterministic in its text.
pub fn pairs_for(text: &str, count: usize) -> Vec<(String, String)> {
    // Topics are words that carry content, as a model's would: tdg's gate drops a
    // question none of whose content words is in the chunk.
    const FUNCTION_WORDS: &[&str] = &[
        "about",
        "above",
        "after",
        "also",
        "been",
        "being",
        "could",
        "does",
        "each",
        "from",
        "have",
        "into",
        "might",
        "more",
        "most",
        "must",
        "other",
        "shall",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "under",
        "were",
        "what",
        "when",
        "where",
        "which",
        "whom",
        "will",
        "with",
        "would",
        "your",
        // Words any question uses, which tdg's gate does not count as a question's topic.
        "used",
        "using",
        "make",
        "made",
        "making",
        "mean",
        "means",
        "meaning",
        "purpose",
        "significance",
        "main",
        "difference",
        "different",
        "example",
        "ways",
        "type",
        "kind",
        "kinds",
        "thing",
        "things",
        "important",
        "importance",
        "role",
        "text",
        "passage",
        "following",
        "state",
        "states",
        "says",
        "explain",
        "describe",
        "give",
        "best",
        "good",
        "many",
        "much",
        "like",
        "need",
        "want",
        "know",
    ];
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| {
            w.chars().all(char::is_alphanumeric)
                && w.len() > 3
                && !FUNCTION_WORDS.contains(&w.to_lowercase().as_str())
        })
        .collect();
    // The answer: the chunk's first twelve words, ended as a sentence (a capable
    // model does not stop on "the" or "of"; tdg's gate drops an answer that does).
    let mut summary: Vec<&str> = text.split_whitespace().take(12).collect();
    while summary.len() > 1
        && summary.last().is_some_and(|word| {
            let bare = word.trim_end_matches(|c: char| !c.is_alphanumeric());
            bare.len() < 4 || FUNCTION_WORDS.contains(&bare.to_lowercase().as_str())
        })
    {
        summary.pop();
    }
    let mut summary = summary
        .join(" ")
        .trim_end_matches([',', ';', ':', '-', '('])
        .to_string();
    if !summary.ends_with(['.', '!', '?']) {
        summary.push('.');
    }
    // A tag from the text keeps questions of different chunks apart.
    let tag = text
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        & 0xffff;
    (0..count)
        .map(|i| {
            let topic = words
                .get(i * 7 % words.len().max(1))
                .copied()
                .or_else(|| {
                    // No plain word (a chunk of code or links): a run of letters in it.
                    text.split(|c: char| !c.is_alphanumeric()).find(|w| {
                        w.len() > 3 && !FUNCTION_WORDS.contains(&w.to_lowercase().as_str())
                    })
                })
                .unwrap_or("this");
            (
                format!(
                    "What does the passage say about {topic} (point {}, ref {tag:04x})?",
                    i + 1
                ),
                format!("It says: {summary}"),
            )
        })
        .collect()
}

/// The answer for a conversation whose user turns are `user` (`turns` messages).
/// [`answer`], as the mock's reasoning model gives it: the text, and the trace to put
/// apart (with [`Thinking::Apart`]); with [`Thinking::InText`], the trace is in the
/// text.
fn thought_answer(state: &MockState, user: &[String], turns: usize) -> (String, Option<String>) {
    let text = answer(user, turns);
    let thinking = Thinking::from_u8(state.thinking.load(std::sync::atomic::Ordering::SeqCst));
    let chunk = chunk_text(user.first().map(String::as_str).unwrap_or_default());
    match thinking {
        Thinking::None => (text, None),
        Thinking::Apart => (text, Some(tasks::trace_for(&chunk))),
        Thinking::InText => (
            format!("<think>\n{}\n</think>\n{text}", tasks::trace_for(&chunk)),
            None,
        ),
    }
}

fn answer(user: &[String], turns: usize) -> String {
    let prompt = user.first().map(String::as_str).unwrap_or_default();
    if prompt.contains("Score the answer against the source text") {
        return judgment(prompt, turns);
    }
    let text = chunk_text(prompt);
    if let Some(follow_ups) = tasks::follow_ups_asked(prompt) {
        return tasks::conversations(&text, tasks::conversations_asked(prompt), follow_ups);
    }
    let pairs = pairs_for(&text, asked_for(prompt));
    let array = serde_json::to_string_pretty(
        &pairs
            .iter()
            .map(|(q, a)| json!({"question": q, "answer": a}))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let asked_again = turns > 2;
    if text.contains("MOCK-GARBAGE-ONCE") && !asked_again
        || text.contains("MOCK-GARBAGE") && !text.contains("MOCK-GARBAGE-ONCE")
    {
        return "I am sorry, but I would rather talk about the weather.".into();
    }
    if text.contains("MOCK-ECHO")
        || text.contains("MOCK-REPEAT")
        || text.contains("MOCK-UNGROUNDED")
    {
        let mut items: Vec<Value> = pairs
            .iter()
            .map(|(q, a)| json!({"question": q, "answer": a}))
            .collect();
        if text.contains("MOCK-ECHO") {
            // The example pair of the test template, copied back as small models do.
            items.push(json!({"question": "What is the main purpose of this policy?", "answer": "To protect all information and systems."}));
        }
        if text.contains("MOCK-REPEAT") {
            let first = &pairs[0].0;
            items.push(json!({"question": first.to_lowercase().replace(" (", ", ").replace(')', ""), "answer": "Said again, differently."}));
            items.push(json!({"question": "Is the sky blue over the harbour today?", "answer": "The sky is blue over the harbour today."}));
            // An answer cut off mid-sentence, as small models close the string early.
            items.push(json!({"question": "When do the boats come back to port?", "answer": "Fishing boats return at dawn with their"}));
        }
        if text.contains("MOCK-UNGROUNDED") {
            items.push(json!({"question": "Which fruit is rich in potassium?", "answer": "Bananas, grown in tropical climates."}));
        }
        return serde_json::to_string(&items).unwrap();
    }
    if text.contains("MOCK-TYPED") {
        let items: Vec<Value> = pairs
            .iter()
            .enumerate()
            .map(|(i, (q, a))| match i % 4 {
                0 => json!({"question": q, "answer": a, "type": "Factual"}),
                1 => json!({"question": q, "answer": a, "question_type": "inferential"}),
                2 => json!({"question": q, "answer": a, "type": "opinion"}),
                _ => json!({"question": q, "answer": a, "type": "analytical"}),
            })
            .collect();
        return serde_json::to_string(&items).unwrap();
    }
    if text.contains("MOCK-QA-LINES") {
        let lines: Vec<String> = pairs
            .iter()
            .enumerate()
            .map(|(i, (q, a))| format!("Q{}: {q}\nA{}: {a}", i + 1, i + 1))
            .collect();
        return format!("Here are the pairs:\n\n{}\n", lines.join("\n\n"));
    }
    if text.contains("MOCK-FENCED") {
        return format!(
            "Sure! Here are the pairs:\n```json\n{array}\n```\nLet me know if you need more."
        );
    }
    if text.contains("MOCK-THINK") {
        return format!(
            "<think>\nThe user wants [{{\"question\": \"not this\"}}]. Let me write them.\n</think>\n{array}"
        );
    }
    if text.contains("MOCK-WRAPPED") {
        return json!({"qa_pairs": pairs.iter().map(|(q, a)| json!({"question": q, "answer": a})).collect::<Vec<_>>()}).to_string();
    }
    if text.contains("MOCK-TRUNCATED") {
        let cut = array
            .rfind("\"answer\"")
            .map(|at| at + 14)
            .unwrap_or(array.len());
        return array[..cut].to_string();
    }
    array
}
