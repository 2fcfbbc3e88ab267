//! OpenAI's Files API as the Batch API uses it: JSONL input files uploaded to
//! `/v1/files` (multipart, purpose `batch`), a batch's output and error files read
//! back from `/v1/files/{id}/content`, and files deleted (`DELETE /v1/files/{id}`) or
//! expired (a batch's `output_expires_after`), after which they answer 404 as files
//! that never existed. Also the OpenAI key check and error shapes the batch routes
//! ([`super::openai`]) share.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Api, admit, error, now, record};
use crate::{MockState, check_access, header};

/// A file of the Files API.
pub(crate) struct File {
    name: String,
    pub(super) purpose: String,
    created: u64,
    bytes: Vec<u8>,
    /// An input file's requests: custom id and body.
    pub(super) lines: Vec<(String, Value)>,
    /// Unix seconds from which the file is gone (a batch's `output_expires_after`, or
    /// [`crate::MockServer::let_batch_results_expire`]).
    pub(super) expires_at: Option<u64>,
}

impl File {
    /// A batch's output or error file.
    pub(super) fn output(name: String, bytes: Vec<u8>, expires_at: Option<u64>) -> Self {
        File {
            name,
            purpose: "batch_output".into(),
            created: now(),
            bytes,
            lines: Vec::new(),
            expires_at,
        }
    }

    fn object(&self, id: &str) -> Value {
        json!({
            "id": id, "object": "file", "bytes": self.bytes.len(), "created_at": self.created,
            "expires_at": self.expires_at, "filename": self.name, "purpose": self.purpose,
        })
    }

    /// Whether it has expired: then it is answered as a file that does not exist.
    fn expired(&self) -> bool {
        self.expires_at.is_some_and(|at| now() >= at)
    }
}

/// The file `id`, unless it was deleted or has expired.
fn live<'a>(batches: &'a super::Batches, id: &str) -> Option<&'a File> {
    batches.files.get(id).filter(|file| !file.expired())
}

/// Checks the `Authorization: Bearer` key as the live endpoint does.
pub(super) fn access(state: &MockState, headers: &HeaderMap) -> Result<(), Response> {
    let bearer = header(headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
    check_access(state, bearer, None)
}

pub(super) fn bad(message: impl Into<String>) -> Response {
    error(Api::OpenAi, StatusCode::BAD_REQUEST, message)
}

pub(super) fn not_found(message: impl Into<String>) -> Response {
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
            expires_at: None,
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
    match live(&batches, &id) {
        Some(file) => axum::Json(file.object(&id)).into_response(),
        None => not_found(format!("No such File object: {id}")),
    }
}

/// `DELETE /v1/files/{id}`: the file is gone; `{"id", "object": "file", "deleted": true}`.
pub(crate) async fn delete(
    State(state): State<Arc<MockState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(&state, &format!("DELETE /v1/files/{id}"), &headers, access) {
        return refusal;
    }
    let mut batches = state.batches.lock().unwrap();
    if live(&batches, &id).is_none() {
        return not_found(format!("No such File object: {id}"));
    }
    batches.files.remove(&id);
    axum::Json(json!({"id": id, "object": "file", "deleted": true})).into_response()
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
    match live(&batches, &id) {
        Some(file) => (
            [("content-type", "application/octet-stream")],
            file.bytes.clone(),
        )
            .into_response(),
        None => not_found(format!("No such File object: {id}")),
    }
}
