//! Anthropic's Message Batches API: `/v1/messages/batches` takes `{"requests":
//! [{"custom_id", "params"}]}`; a batch is polled and cancelled there, and its results
//! read as JSON lines from its `results_url` until it is archived (`archived_at`;
//! Anthropic keeps results 29 days), after which the results answer 404.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Api, Job, Outcome, admit, error, jsonl, message_of, now, record, rfc3339};
use crate::{MockState, check_access, header};

/// Anthropic's error type for a status.
pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// Checks `x-api-key` as the live endpoint does, and that `anthropic-version` is sent.
fn access(state: &MockState, headers: &HeaderMap) -> Result<(), Response> {
    check_access(state, header(headers, "x-api-key"), None)?;
    match header(headers, "anthropic-version") {
        Some(_) => Ok(()),
        None => Err(bad("mock: anthropic-version header missing")),
    }
}

fn bad(message: impl Into<String>) -> Response {
    error(Api::Anthropic, StatusCode::BAD_REQUEST, message)
}

fn not_found(id: &str) -> Response {
    error(
        Api::Anthropic,
        StatusCode::NOT_FOUND,
        format!("mock: no message batch {id}"),
    )
}

/// Whether `id` matches `^[a-zA-Z0-9_-]{1,64}$`.
fn valid_custom_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `POST /v1/messages/batches`.
pub(crate) async fn create(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let body = super::parse(Api::Anthropic, &body);
        let recorded = body.as_ref().map_or(Value::Null, Clone::clone);
        record(&state, "/v1/messages/batches", &headers, recorded);
        access(&state, &headers)?;
        let body = body?;
        let requests = body["requests"]
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| bad("mock: requests: must be a non-empty list"))?;
        let mut lines: Vec<(String, Value)> = Vec::new();
        for (i, request) in requests.iter().enumerate() {
            let custom_id = request["custom_id"].as_str().unwrap_or_default();
            if !valid_custom_id(custom_id) {
                return Err(bad(format!(
                    "mock: requests.{i}.custom_id: must match ^[a-zA-Z0-9_-]{{1,64}}$"
                )));
            }
            if lines.iter().any(|(id, _)| id == custom_id) {
                return Err(bad(format!(
                    "mock: requests.{i}.custom_id: {custom_id} is not unique in the batch"
                )));
            }
            if !request["params"].is_object() {
                return Err(bad(format!("mock: requests.{i}.params: must be an object")));
            }
            lines.push((custom_id.to_string(), request["params"].clone()));
        }
        let key = header(&headers, "x-api-key");
        let id = super::create(
            &state,
            Api::Anthropic,
            "msgbatch_",
            key,
            "",
            json!({}),
            lines,
        );
        Ok(with(&state, &id, |job| object(job, &id, &headers)).unwrap())
    })();
    result.unwrap_or_else(|r| r)
}

/// `f`'s JSON of the batch `id`, as a response.
fn with(state: &MockState, id: &str, f: impl FnOnce(&mut Job) -> Value) -> Option<Response> {
    super::with_job(state, Api::Anthropic, id, f).map(|v| axum::Json(v).into_response())
}

/// `GET /v1/messages/batches/{id}`: the batch, ended unless held.
pub(crate) async fn get(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(
        &state,
        &format!("/v1/messages/batches/{id}"),
        &headers,
        access,
    ) {
        return refusal;
    }
    super::poll(&state, Api::Anthropic, &id, |batches, id| {
        axum::Json(object(&batches.jobs[id], id, &headers)).into_response()
    })
    .unwrap_or_else(|| not_found(&id))
}

/// `POST /v1/messages/batches/{id}/cancel`: the batch, `canceling` until its next
/// status request; an ended batch stays as it is.
pub(crate) async fn cancel(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(
        &state,
        &format!("/v1/messages/batches/{id}/cancel"),
        &headers,
        access,
    ) {
        return refusal;
    }
    with(&state, &id, |job| {
        if job.ended.is_none() {
            job.cancel_at.get_or_insert_with(now);
        }
        object(job, &id, &headers)
    })
    .unwrap_or_else(|| not_found(&id))
}

/// `GET /v1/messages/batches/{id}/results`: one JSON line per request, in the
/// reverse of the input order (clients must match lines by `custom_id`).
pub(crate) async fn results(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(
        &state,
        &format!("/v1/messages/batches/{id}/results"),
        &headers,
        access,
    ) {
        return refusal;
    }
    let lines = super::with_job(&state, Api::Anthropic, &id, |job| {
        if job.archived.is_some() {
            return Err(());
        }
        let Some(ended) = job.ended.as_ref() else {
            return Ok(None);
        };
        let lines: Vec<Value> = job
            .lines
            .iter()
            .zip(&ended.outcomes)
            .rev()
            .map(|(line, outcome)| json!({"custom_id": line.id, "result": result(outcome)}))
            .collect();
        Ok(Some(lines))
    });
    match lines {
        None => not_found(&id),
        Some(Err(())) => error(
            Api::Anthropic,
            StatusCode::NOT_FOUND,
            format!(
                "mock: the results of message batch {id} are no longer available: it was archived"
            ),
        ),
        Some(Ok(None)) => bad(format!("mock: batch {id} is still processing")),
        Some(Ok(Some(lines))) => {
            ([("content-type", "application/x-jsonl")], jsonl(&lines)).into_response()
        }
    }
}

/// A line's `result`.
fn result(outcome: &Outcome) -> Value {
    let errored = |status: u16, message: &str| json!({"type": "errored", "error": {"type": "error", "error": {"type": error_type(status), "message": message}}});
    match outcome {
        Outcome::Answered(message) => json!({"type": "succeeded", "message": message}),
        Outcome::Refused { status, body } => errored(*status, &message_of(body)),
        Outcome::Failed => errored(500, "mock: batch line failed"),
        Outcome::Expired => json!({"type": "expired"}),
        Outcome::Cancelled => json!({"type": "canceled"}),
    }
}

/// The message batch object.
fn object(job: &Job, id: &str, headers: &HeaderMap) -> Value {
    let ended = job.ended.as_ref();
    let count = |test: fn(&Outcome) -> bool| {
        ended.map_or(0, |e| e.outcomes.iter().filter(|o| test(o)).count())
    };
    let status = match ended {
        Some(_) => "ended",
        None if job.cancel_at.is_some() => "canceling",
        None => "in_progress",
    };
    let host = header(headers, "host").unwrap_or("127.0.0.1");
    json!({
        "id": id, "type": "message_batch", "processing_status": status,
        "request_counts": {
            "processing": if ended.is_some() { 0 } else { job.lines.len() },
            "succeeded": count(Outcome::answered),
            "errored": count(Outcome::errored),
            "canceled": count(|o| matches!(o, Outcome::Cancelled)),
            "expired": count(|o| matches!(o, Outcome::Expired)),
        },
        "ended_at": ended.map(|e| rfc3339(e.at)),
        "created_at": rfc3339(job.created),
        "expires_at": rfc3339(job.created + 24 * 3600),
        "archived_at": job.archived.map(rfc3339),
        "cancel_initiated_at": job.cancel_at.map(rfc3339),
        "results_url": ended.map(|_| format!("http://{host}/v1/messages/batches/{id}/results")),
    })
}
