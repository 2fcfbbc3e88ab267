//! Gemini's Batch API with inlined requests: `models/{model}:batchGenerateContent`
//! makes a batch and answers a long-running Operation; `batches/{id}` polls it (the
//! inlined responses in the Operation's `response`, in input order) and
//! `batches/{id}:cancel` cancels it. As Google's JSON does, the Operation leaves out
//! `done` while it is false and every count that is zero (`requestCount` is never).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Api, Job, Outcome, admit, error, message_of, now, record, rfc3339};
use crate::{MockState, check_access, header};

/// The gRPC status name of an HTTP status.
pub(crate) fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// The gRPC code of an HTTP status.
fn code(status: u16) -> u16 {
    match status {
        400 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        429 => 8,
        503 => 14,
        504 => 4,
        _ => 13,
    }
}

fn bad(message: impl Into<String>) -> Response {
    error(Api::Gemini, StatusCode::BAD_REQUEST, message)
}

fn not_found(id: &str) -> Response {
    error(
        Api::Gemini,
        StatusCode::NOT_FOUND,
        format!("mock: no batch batches/{id}"),
    )
}

/// `POST /v1beta/models/{model}:batchGenerateContent` (routed by the live handler).
pub(crate) fn create(
    state: &MockState,
    model: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let result = (|| {
        let body = super::parse(Api::Gemini, body);
        let recorded = body.as_ref().map_or(Value::Null, Clone::clone);
        let path = format!("/v1beta/models/{model}:batchGenerateContent");
        record(state, &path, headers, recorded);
        let key = header(headers, "x-goog-api-key");
        check_access(state, key, Some(model))?;
        let body = body?;
        let batch = &body["batch"];
        require(batch.is_object(), "batch is required")?;
        let display_name = batch["displayName"].as_str();
        require(display_name.is_some(), "batch.displayName is required")?;
        if let Some(named) = batch["model"].as_str() {
            let same = named == model || named.strip_prefix("models/") == Some(model);
            require(same, "batch.model is not the model of the URL")?;
        }
        let requests = batch
            .pointer("/inputConfig/requests/requests")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                bad("mock: batch.inputConfig.requests.requests must be a non-empty list (inlined requests only)")
            })?;
        let mut lines: Vec<(String, Value)> = Vec::new();
        for (i, item) in requests.iter().enumerate() {
            let at = format!("batch.inputConfig.requests.requests[{i}]");
            require(
                item["request"].is_object(),
                &format!("{at}.request must be an object"),
            )?;
            let key = item.pointer("/metadata/key").and_then(Value::as_str);
            let key = key.filter(|k| !k.is_empty()).ok_or_else(|| {
                bad(format!(
                    "mock: {at}.metadata.key must be a non-empty string"
                ))
            })?;
            // Google does not insist on it, but a client that cannot tell lines apart is wrong.
            if lines.iter().any(|(k, _)| k == key) {
                return Err(bad(format!("mock: {at}.metadata.key {key} is not unique")));
            }
            lines.push((key.to_string(), item["request"].clone()));
        }
        let info = json!({"displayName": display_name});
        let id = super::create(state, Api::Gemini, "batches/", key, model, info, lines);
        let batches = state.batches.lock().unwrap();
        Ok(axum::Json(operation(&batches.jobs[&id], &id)).into_response())
    })();
    result.unwrap_or_else(|r| r)
}

fn require(condition: bool, what: &str) -> Result<(), Response> {
    if condition {
        Ok(())
    } else {
        Err(bad(format!("mock: {what}")))
    }
}

fn access(state: &MockState, headers: &HeaderMap) -> Result<(), Response> {
    check_access(state, header(headers, "x-goog-api-key"), None)
}

/// `GET /v1beta/batches/{id}`: the Operation, ended unless held.
pub(crate) async fn get(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if id.contains(':') {
        return error(Api::Gemini, StatusCode::NOT_FOUND, "mock: unknown method");
    }
    if let Err(refusal) = admit(&state, &format!("/v1beta/batches/{id}"), &headers, access) {
        return refusal;
    }
    let name = format!("batches/{id}");
    super::poll(&state, Api::Gemini, &name, |batches, name| {
        axum::Json(operation(&batches.jobs[name], name)).into_response()
    })
    .unwrap_or_else(|| not_found(&id))
}

/// `POST /v1beta/batches/{id}:cancel`: `{}`; the batch is cancelled at its next status
/// request (an ended batch stays as it is).
pub(crate) async fn cancel(
    State(state): State<Arc<MockState>>,
    Path(id_action): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(id) = id_action.strip_suffix(":cancel") else {
        return error(Api::Gemini, StatusCode::NOT_FOUND, "mock: unknown method");
    };
    if let Err(refusal) = admit(
        &state,
        &format!("/v1beta/batches/{id_action}"),
        &headers,
        access,
    ) {
        return refusal;
    }
    super::with_job(&state, Api::Gemini, &format!("batches/{id}"), |job| {
        if job.ended.is_none() {
            job.cancel_at.get_or_insert_with(now);
        }
    })
    .map(|()| axum::Json(json!({})).into_response())
    .unwrap_or_else(|| not_found(id))
}

/// The Operation of the batch `name`.
fn operation(job: &Job, name: &str) -> Value {
    let ended = job.ended.as_ref();
    let state = match ended {
        Some(e) if e.cancelled => "BATCH_STATE_CANCELLED",
        Some(_) => "BATCH_STATE_SUCCEEDED",
        None if job.started.is_some() => "BATCH_STATE_RUNNING",
        None => "BATCH_STATE_PENDING",
    };
    let total = job.lines.len();
    let count = |test: fn(&Outcome) -> bool| {
        ended.map_or(0, |e| e.outcomes.iter().filter(|o| test(o)).count())
    };
    let mut stats = json!({"requestCount": total.to_string()});
    let succeeded = count(Outcome::answered);
    let failed = count(|o| {
        matches!(
            o,
            Outcome::Refused { .. } | Outcome::Failed | Outcome::Expired
        )
    });
    let pending = if ended.is_some() { 0 } else { total };
    for (field, n) in [
        ("successfulRequestCount", succeeded),
        ("failedRequestCount", failed),
        ("pendingRequestCount", pending),
    ] {
        if n > 0 {
            stats[field] = json!(n.to_string());
        }
    }
    let updated = ended
        .map(|e| e.at)
        .or(job.cancel_at)
        .or(job.started)
        .unwrap_or(job.created);
    let mut metadata = json!({
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        "name": name, "displayName": job.info["displayName"],
        "model": format!("models/{}", job.model),
        "createTime": rfc3339(job.created), "updateTime": rfc3339(updated),
        "batchStats": stats, "state": state,
    });
    let mut operation = json!({"name": name});
    if let Some(ended) = ended {
        metadata["endTime"] = json!(rfc3339(ended.at));
        operation["done"] = json!(true);
        if !ended.cancelled {
            let responses: Vec<Value> = job
                .lines
                .iter()
                .zip(&ended.outcomes)
                .map(|(line, outcome)| inlined(&line.id, outcome))
                .collect();
            operation["response"] = json!({
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
                "inlinedResponses": {"inlinedResponses": responses},
            });
        }
    }
    operation["metadata"] = metadata;
    operation
}

/// A line's inlined response.
fn inlined(key: &str, outcome: &Outcome) -> Value {
    let metadata = json!({"key": key});
    let failed = |code: u16, message: &str, status: &str| json!({"error": {"code": code, "message": message, "status": status}, "metadata": metadata});
    match outcome {
        Outcome::Answered(response) => json!({"response": response, "metadata": metadata}),
        Outcome::Refused { status, body } => {
            failed(code(*status), &message_of(body), status_name(*status))
        }
        Outcome::Failed => failed(13, "mock: batch line failed", "INTERNAL"),
        Outcome::Expired => failed(4, "mock: batch line expired", "DEADLINE_EXCEEDED"),
        Outcome::Cancelled => failed(1, "mock: batch cancelled", "CANCELLED"),
    }
}
