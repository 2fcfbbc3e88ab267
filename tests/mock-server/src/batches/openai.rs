//! OpenAI's Batch API: batches made of uploaded JSONL files ([`super::openai_files`])
//! at `/v1/batches`, listed there a page at a time (newest first, `limit` and
//! `after`), polled and cancelled; an ended batch's output and error files are
//! written then, to expire with its `output_expires_after`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::openai_files::{File, access, bad, not_found};
use super::{Api, Batches, Outcome, admit, jsonl, now, record};
use crate::{MockState, header};

/// `POST /v1/batches`: a batch of an uploaded file's requests.
pub(crate) async fn create(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let body = super::parse(Api::OpenAi, &body);
        let recorded = body.as_ref().map_or(Value::Null, Clone::clone);
        record(&state, "/v1/batches", &headers, recorded);
        access(&state, &headers)?;
        let body = body?;
        let file_id = body["input_file_id"]
            .as_str()
            .ok_or_else(|| bad("mock: `input_file_id` is required"))?;
        if body["endpoint"] != "/v1/chat/completions" {
            return Err(bad("mock: `endpoint` must be /v1/chat/completions"));
        }
        if body["completion_window"] != "24h" {
            return Err(bad("mock: `completion_window` must be 24h"));
        }
        let output_ttl = match &body["output_expires_after"] {
            Value::Null => None,
            policy => Some(expiry(policy)?),
        };
        let metadata = &body["metadata"];
        let strings =
            |m: &serde_json::Map<String, Value>| m.len() <= 16 && m.values().all(Value::is_string);
        if !metadata.is_null() && !metadata.as_object().is_some_and(strings) {
            return Err(bad(
                "mock: `metadata` must be at most 16 string values by key",
            ));
        }
        let lines = {
            let batches = state.batches.lock().unwrap();
            match batches.files.get(file_id) {
                Some(file) if file.purpose == "batch" => file.lines.clone(),
                Some(_) => return Err(bad(format!("mock: {file_id} is not a batch input file"))),
                None => return Err(not_found(format!("No such File object: {file_id}"))),
            }
        };
        if state.batches.lock().unwrap().fail_creates > 0 {
            state.batches.lock().unwrap().fail_creates -= 1;
            return Err(server_error("mock: the batch could not be created"));
        }
        let bearer = header(&headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
        let info = json!({
            "endpoint": body["endpoint"], "input_file_id": file_id,
            "completion_window": body["completion_window"], "metadata": metadata,
            "output_file_id": null, "error_file_id": null,
        });
        let id = super::create(&state, Api::OpenAi, "batch_", bearer, "", info, lines);
        let mut batches = state.batches.lock().unwrap();
        if let Some(job) = batches.jobs.get_mut(&id) {
            job.output_ttl = output_ttl;
        }
        if batches.lose_create_answers > 0 {
            batches.lose_create_answers -= 1;
            return Err(server_error("mock: the answer was lost"));
        }
        Ok(axum::Json(object(&batches, &id)).into_response())
    })();
    result.unwrap_or_else(|r| r)
}

fn server_error(message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({"error": {"message": message, "type": "server_error"}})),
    )
        .into_response()
}

/// The seconds of an `output_expires_after` policy: `{"anchor": "created_at",
/// "seconds"}`, between an hour and 30 days.
fn expiry(policy: &Value) -> Result<u64, Response> {
    if policy["anchor"] != "created_at" {
        return Err(bad(
            "mock: output_expires_after.anchor must be `created_at`",
        ));
    }
    policy["seconds"]
        .as_u64()
        .filter(|seconds| (3600..=2_592_000).contains(seconds))
        .ok_or_else(|| bad("mock: output_expires_after.seconds must be between 3600 and 2592000"))
}

/// `GET /v1/batches?limit&after`: the OpenAI batches, newest first, `limit` (1 to
/// 100, 20 if not given) at a time, from just after the batch `after`; with
/// `first_id`, `last_id` and `has_more`.
pub(crate) async fn list(
    State(state): State<Arc<MockState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    // Recorded with its query, so that tests count the pages asked for.
    let asked: Vec<String> = ["limit", "after"]
        .into_iter()
        .filter_map(|name| Some(format!("{name}={}", query.get(name)?)))
        .collect();
    let path = format!("/v1/batches?{}", asked.join("&"));
    if let Err(refusal) = admit(&state, &path, &headers, access) {
        return refusal;
    }
    let limit = match query.get("limit").map(|n| n.parse::<usize>()) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return bad("mock: limit must be an integer from 1 to 100"),
    };
    let batches = state.batches.lock().unwrap();
    if batches.fail_lists {
        return server_error("mock: the batches cannot be listed now");
    }
    let number = |id: &str| {
        id[id.rfind('_').map_or(0, |i| i + 1)..]
            .parse::<u64>()
            .unwrap_or(0)
    };
    let mut ids: Vec<&String> = batches
        .jobs
        .iter()
        .filter(|(_, job)| job.api == Api::OpenAi)
        .map(|(id, _)| id)
        .collect();
    ids.sort_by_key(|id| std::cmp::Reverse((batches.jobs[*id].created, number(id))));
    let start = match query.get("after") {
        None => 0,
        Some(after) => match ids.iter().position(|id| *id == after) {
            Some(at) => at + 1,
            None => return not_found(format!("No such Batch object: {after}")),
        },
    };
    let page = &ids[start.min(ids.len())..(start + limit).min(ids.len())];
    let data: Vec<Value> = page.iter().map(|id| object(&batches, id)).collect();
    axum::Json(json!({
        "object": "list", "data": data,
        "first_id": page.first(), "last_id": page.last(),
        "has_more": start + page.len() < ids.len(),
    }))
    .into_response()
}

/// `GET /v1/batches/{id}`: the batch, ended (its files written) unless held.
pub(crate) async fn get(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(&state, &format!("/v1/batches/{id}"), &headers, access) {
        return refusal;
    }
    super::poll(&state, Api::OpenAi, &id, |batches, id| {
        write_files(batches, id);
        axum::Json(object(batches, id)).into_response()
    })
    .unwrap_or_else(|| not_found(format!("No such Batch object: {id}")))
}

/// `POST /v1/batches/{id}/cancel`: the batch, `cancelling` until its next status request.
pub(crate) async fn cancel(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(
        &state,
        &format!("/v1/batches/{id}/cancel"),
        &headers,
        access,
    ) {
        return refusal;
    }
    let ended = super::with_job(&state, Api::OpenAi, &id, |job| {
        if job.ended.is_none() {
            job.cancel_at.get_or_insert_with(now);
        }
        job.ended.is_some()
    });
    match ended {
        None => not_found(format!("No such Batch object: {id}")),
        Some(true) => {
            let batches = state.batches.lock().unwrap();
            let status = object(&batches, &id)["status"].clone();
            bad(format!(
                "Cannot cancel a batch with status {status}: it has ended."
            ))
        }
        Some(false) => {
            let batches = state.batches.lock().unwrap();
            axum::Json(object(&batches, &id)).into_response()
        }
    }
}

/// The batch object of `id`.
fn object(batches: &Batches, id: &str) -> Value {
    let job = &batches.jobs[id];
    let total = job.lines.len();
    let count = |test: fn(&Outcome) -> bool| {
        job.ended
            .as_ref()
            .map_or(0, |e| e.outcomes.iter().filter(|o| test(o)).count())
    };
    let expired = count(|o| matches!(o, Outcome::Expired)) > 0;
    let ended = job.ended.as_ref();
    let status = match ended {
        Some(e) if e.cancelled => "cancelled",
        Some(_) if expired => "expired",
        Some(_) => "completed",
        None if job.cancel_at.is_some() => "cancelling",
        None if job.started.is_some() => "in_progress",
        None => "validating",
    };
    let at = |when: bool| ended.filter(|_| when).map(|e| e.at);
    let finished = ended.is_some_and(|e| !e.cancelled);
    let mut object = json!({
        "id": id, "object": "batch", "errors": null, "status": status,
        "created_at": job.created, "in_progress_at": job.started,
        "expires_at": job.created + 24 * 3600,
        "finalizing_at": at(finished), "completed_at": at(status == "completed"),
        "failed_at": null, "expired_at": at(status == "expired"),
        "cancelling_at": job.cancel_at, "cancelled_at": at(status == "cancelled"),
        "request_counts": {"total": total, "completed": count(Outcome::answered), "failed": count(Outcome::errored)},
    });
    for (field, value) in job.info.as_object().into_iter().flatten() {
        object[field] = value.clone();
    }
    object
}

/// Once the batch `id` has ended, writes its output and error files (each line in
/// the reverse of its input order: clients must match lines by `custom_id`).
fn write_files(batches: &mut Batches, id: &str) {
    let job = &batches.jobs[id];
    let Some(ended) = &job.ended else { return };
    if !job.info["output_file_id"].is_null() || !job.info["error_file_id"].is_null() {
        return; // Written already (every batch has a line, so one of them).
    }
    let (mut output, mut errors) = (Vec::new(), Vec::new());
    for (n, (line, outcome)) in job.lines.iter().zip(&ended.outcomes).enumerate().rev() {
        let number = id.trim_start_matches("batch_");
        let request = format!("batch_req_{number}_{}", n + 1);
        let request_id = format!("req_mock_{number}_{}", n + 1);
        let response = |status: u16, body: &Value| json!({"status_code": status, "request_id": request_id, "body": body});
        let (response, error) = match outcome {
            Outcome::Answered(body) => (response(200, body), Value::Null),
            Outcome::Refused { status, body } => (response(*status, body), Value::Null),
            Outcome::Failed => (
                response(
                    500,
                    &json!({"error": {"message": "mock: batch line failed", "type": "server_error"}}),
                ),
                Value::Null,
            ),
            Outcome::Expired => (
                Value::Null,
                json!({"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}),
            ),
            Outcome::Cancelled => (
                Value::Null,
                json!({"code": "batch_cancelled", "message": "This request was not executed because the batch was cancelled."}),
            ),
        };
        let line =
            json!({"id": request, "custom_id": line.id, "response": response, "error": error});
        if outcome.answered() {
            output.push(line);
        } else {
            errors.push(line);
        }
    }
    let mut store = |kind: &str, lines: Vec<Value>| {
        if lines.is_empty() {
            return Value::Null;
        }
        let file_id = format!("file-{}", batches.number());
        let expires_at = batches.jobs[id].output_ttl.map(|ttl| now() + ttl);
        let file = File::output(
            format!("{id}_{kind}.jsonl"),
            jsonl(&lines).into_bytes(),
            expires_at,
        );
        batches.files.insert(file_id.clone(), file);
        Value::String(file_id)
    };
    let output = store("output", output);
    let errors = store("error", errors);
    let info = &mut batches.jobs.get_mut(id).unwrap().info;
    info["output_file_id"] = output;
    info["error_file_id"] = errors;
}
