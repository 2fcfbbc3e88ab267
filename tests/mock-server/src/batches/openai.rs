//! OpenAI's Batch API: JSONL files uploaded to `/v1/files` (multipart), batches made
//! of them at `/v1/batches`, polled and cancelled there, and their output and error
//! files read back from `/v1/files/{id}/content`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Api, Batches, Outcome, admit, error, jsonl, now, record};
use crate::{MockState, check_access, header};

/// A file of the Files API.
pub(crate) struct File {
    name: String,
    purpose: String,
    created: u64,
    bytes: Vec<u8>,
    /// An input file's requests: custom id and body.
    lines: Vec<(String, Value)>,
}

impl File {
    fn object(&self, id: &str) -> Value {
        json!({
            "id": id, "object": "file", "bytes": self.bytes.len(), "created_at": self.created,
            "filename": self.name, "purpose": self.purpose,
        })
    }
}

/// Checks the `Authorization: Bearer` key as the live endpoint does.
fn access(state: &MockState, headers: &HeaderMap) -> Result<(), Response> {
    let bearer = header(headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
    check_access(state, bearer, None)
}

fn bad(message: impl Into<String>) -> Response {
    error(Api::OpenAi, StatusCode::BAD_REQUEST, message)
}

fn not_found(message: impl Into<String>) -> Response {
    error(Api::OpenAi, StatusCode::NOT_FOUND, message)
}

/// `POST /v1/files`: a multipart form with `purpose` (`batch`) and `file` (JSONL).
pub(crate) async fn upload(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let parts = multipart(&headers, &body);
        let field = |name: &str| {
            let parts = parts.as_deref().unwrap_or_default();
            parts.iter().find(|p| p.name == name)
        };
        let purpose = field("purpose").map(|p| String::from_utf8_lossy(&p.data).to_string());
        let file = field("file");
        let name = file.and_then(|f| f.filename.clone());
        let name = name.unwrap_or_else(|| "file".into());
        let lines = file.map(|f| batch_lines(&name, &f.data));
        let count = lines
            .as_ref()
            .and_then(|l| l.as_ref().ok())
            .map_or(0, Vec::len);
        let summary = json!({"purpose": purpose, "filename": name, "lines": count});
        record(&state, "/v1/files", &headers, summary);
        access(&state, &headers)?;
        parts.as_ref().map_err(|e| bad(e.as_str()))?;
        let file = file.ok_or_else(|| bad("mock: the form has no `file` field"))?;
        let lines = lines.unwrap_or_else(|| Ok(Vec::new()));
        if purpose.as_deref() != Some("batch") {
            return Err(bad("mock: `purpose` must be `batch`"));
        }
        let file = File {
            name,
            purpose: "batch".into(),
            created: now(),
            bytes: file.data.clone(),
            lines: lines.map_err(bad)?,
        };
        let mut batches = state.batches.lock().unwrap();
        let id = format!("file-{}", batches.number());
        let object = file.object(&id);
        batches.files.insert(id, file);
        Ok(axum::Json(object).into_response())
    })();
    result.unwrap_or_else(|r| r)
}

/// The requests of a batch input file, or why it is not one (naming the line).
fn batch_lines(name: &str, data: &[u8]) -> Result<Vec<(String, Value)>, String> {
    let text = std::str::from_utf8(data).map_err(|_| format!("mock: {name} is not UTF-8"))?;
    let mut lines: Vec<(String, Value)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let what = |what: &str| format!("mock: line {} of {name}: {what}", n + 1);
        let line: Value =
            serde_json::from_str(line).map_err(|e| what(&format!("not JSON: {e}")))?;
        let custom_id = line["custom_id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| what("`custom_id` must be a non-empty string"))?;
        if lines.iter().any(|(id, _)| id == custom_id) {
            return Err(what(&format!("`custom_id` {custom_id} is not unique")));
        }
        if line["method"] != "POST" {
            return Err(what("`method` must be POST"));
        }
        if line["url"] != "/v1/chat/completions" {
            return Err(what("`url` must be /v1/chat/completions"));
        }
        if !line["body"].is_object() {
            return Err(what("`body` must be an object"));
        }
        lines.push((custom_id.to_string(), line["body"].clone()));
    }
    if lines.is_empty() {
        return Err(format!("mock: {name} has no requests"));
    }
    Ok(lines)
}

/// A part of a multipart form.
struct Part {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

/// The parts of a `multipart/form-data` body.
fn multipart(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Part>, String> {
    let content_type = header(headers, "content-type").unwrap_or_default();
    let boundary = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| parameter(rest, "boundary"))
        .ok_or("mock: the body must be multipart/form-data with a boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let broken = || "mock: the multipart body is malformed".to_string();
    let mut rest = &body[find(body, &delimiter).ok_or_else(broken)? + delimiter.len()..];
    let mut parts = Vec::new();
    while !rest.starts_with(b"--") {
        rest = rest.strip_prefix(b"\r\n").ok_or_else(broken)?;
        let end = find(rest, b"\r\n\r\n").ok_or_else(broken)?;
        let head = String::from_utf8_lossy(&rest[..end]).to_string();
        rest = &rest[end + 4..];
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let stop = find(rest, &closing).ok_or_else(broken)?;
        let disposition = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-disposition")
                    .then(|| value.to_string())
            })
            .ok_or_else(broken)?;
        parts.push(Part {
            name: parameter(&disposition, "name").ok_or_else(broken)?,
            filename: parameter(&disposition, "filename"),
            data: rest[..stop].to_vec(),
        });
        rest = &rest[stop + closing.len()..];
    }
    Ok(parts)
}

/// A `; name=value` (or `name="value"`) parameter of a header value.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `GET /v1/files/{id}`: the file object.
pub(crate) async fn file(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(&state, &format!("/v1/files/{id}"), &headers, access) {
        return refusal;
    }
    let batches = state.batches.lock().unwrap();
    match batches.files.get(&id) {
        Some(file) => axum::Json(file.object(&id)).into_response(),
        None => not_found(format!("No such File object: {id}")),
    }
}

/// `GET /v1/files/{id}/content`: the file's bytes.
pub(crate) async fn content(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(&state, &format!("/v1/files/{id}/content"), &headers, access) {
        return refusal;
    }
    let batches = state.batches.lock().unwrap();
    match batches.files.get(&id) {
        Some(file) => (
            [("content-type", "application/octet-stream")],
            file.bytes.clone(),
        )
            .into_response(),
        None => not_found(format!("No such File object: {id}")),
    }
}

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
        let bearer = header(&headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
        let info = json!({
            "endpoint": body["endpoint"], "input_file_id": file_id,
            "completion_window": body["completion_window"], "metadata": metadata,
            "output_file_id": null, "error_file_id": null,
        });
        let id = super::create(&state, Api::OpenAi, "batch_", bearer, "", info, lines);
        let mut batches = state.batches.lock().unwrap();
        if batches.lose_create_answers > 0 {
            batches.lose_create_answers -= 1;
            return Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": {"message": "mock: the answer was lost", "type": "server_error"}})),
            )
                .into_response());
        }
        Ok(axum::Json(object(&batches, &id)).into_response())
    })();
    result.unwrap_or_else(|r| r)
}

/// `GET /v1/batches`: every OpenAI batch, newest first, as one page.
pub(crate) async fn list(State(state): State<Arc<MockState>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = admit(&state, "/v1/batches", &headers, access) {
        return refusal;
    }
    let batches = state.batches.lock().unwrap();
    let mut ids: Vec<&String> = batches
        .jobs
        .iter()
        .filter(|(_, job)| job.api == Api::OpenAi)
        .map(|(id, _)| id)
        .collect();
    ids.sort_by_key(|id| {
        std::cmp::Reverse(
            id[id.rfind('_').map_or(0, |i| i + 1)..]
                .parse::<u64>()
                .unwrap_or(0),
        )
    });
    let data: Vec<Value> = ids.iter().map(|id| object(&batches, id)).collect();
    axum::Json(json!({"object": "list", "data": data, "has_more": false})).into_response()
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
        let file = File {
            name: format!("{id}_{kind}.jsonl"),
            purpose: "batch_output".into(),
            created: now(),
            bytes: jsonl(&lines).into_bytes(),
            lines: Vec::new(),
        };
        batches.files.insert(file_id.clone(), file);
        Value::String(file_id)
    };
    let output = store("output", output);
    let errors = store("error", errors);
    let info = &mut batches.jobs.get_mut(id).unwrap().info;
    info["output_file_id"] = output;
    info["error_file_id"] = errors;
}
