//! Dataset pushes as the Hub's API takes them: repository creation, branches, the
//! pre-upload check (Parquet files go by LFS), the Git LFS batch API with uploads
//! to a separate storage address and their verification, and NDJSON commits.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Commit, Shared};

/// Records the request; the 401 to answer when `authorised` and it lacks the token
/// the hub requires.
fn record(
    state: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    authorised: bool,
) -> Option<Response> {
    super::record(state, method, uri, headers, body);
    {
        let mut hub = state.lock().unwrap();
        if hub.failures.0 > 0 {
            hub.failures.0 -= 1;
            let status = StatusCode::from_u16(hub.failures.1).unwrap();
            return Some(error(status, "the Hub is having trouble"));
        }
    }
    let token = state.lock().unwrap().token.clone();
    let expected = token.map(|token| format!("Bearer {token}"));
    let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
    if authorised && expected.is_some() && sent != expected.as_deref() {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "Invalid credentials in Authorization header"})),
            )
                .into_response(),
        );
    }
    None
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

pub(super) async fn create_repo(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = record(&state, &method, &uri, &headers, &body, true) {
        return response;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    if body["type"] != "dataset" {
        return error(StatusCode::BAD_REQUEST, "type must be dataset here");
    }
    let repo = format!(
        "{}/{}",
        body["organization"].as_str().unwrap_or(""),
        body["name"].as_str().unwrap_or("")
    );
    let mut hub = state.lock().unwrap();
    if hub.repos.contains_key(&repo) {
        return error(
            StatusCode::CONFLICT,
            "You already created this dataset repo",
        );
    }
    hub.repos
        .insert(repo.clone(), body["private"].as_bool().unwrap_or(false));
    hub.branches.insert(format!("{repo}@main"));
    let url = format!("{}/datasets/{repo}", hub.url);
    axum::Json(json!({"url": url})).into_response()
}

pub(super) async fn branch(
    State(state): State<Shared>,
    Path((org, name, revision)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = record(&state, &method, &uri, &headers, &body, true) {
        return response;
    }
    let mut hub = state.lock().unwrap();
    if !hub.branches.insert(format!("{org}/{name}@{revision}")) {
        return error(StatusCode::CONFLICT, "Reference already exists");
    }
    axum::Json(json!({})).into_response()
}

pub(super) async fn preupload(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = record(&state, &method, &uri, &headers, &body, true) {
        return response;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let files: Vec<Value> = body["files"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|file| {
            let path = file["path"].as_str().unwrap_or("");
            let lfs = path.ends_with(".parquet");
            json!({"path": path, "uploadMode": if lfs { "lfs" } else { "regular" }, "shouldIgnore": false})
        })
        .collect();
    axum::Json(json!({"files": files, "commitOid": "0"})).into_response()
}

pub(super) async fn batch(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = record(&state, &method, &uri, &headers, &body, true) {
        return response;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let hub = state.lock().unwrap();
    let objects: Vec<Value> = body["objects"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|object| {
            let oid = object["oid"].as_str().unwrap_or("").to_string();
            if hub.lfs.contains_key(&oid) {
                json!({"oid": oid, "size": object["size"]})
            } else {
                json!({"oid": oid, "size": object["size"], "actions": {
                    "upload": {"href": format!("{}/storage/{oid}?X-Signature=signed", hub.url), "header": {"x-upload-ticket": "ticket"}},
                    "verify": {"href": format!("{}/verify/{oid}", hub.url), "header": {}},
                }})
            }
        })
        .collect();
    axum::Json(json!({"transfer": "basic", "objects": objects})).into_response()
}

pub(super) async fn storage(
    State(state): State<Shared>,
    Path(oid): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Storage takes no token: the signed address and the ticket are its credentials.
    let _ = record(&state, &method, &uri, &headers, &body, false);
    if headers.get("x-upload-ticket").is_none() {
        return error(StatusCode::FORBIDDEN, "no ticket");
    }
    let digest: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != oid {
        return error(StatusCode::BAD_REQUEST, "the body's SHA-256 is not the oid");
    }
    state.lock().unwrap().lfs.insert(oid, body.to_vec());
    StatusCode::OK.into_response()
}

pub(super) async fn verify(
    State(state): State<Shared>,
    Path(oid): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = record(&state, &method, &uri, &headers, &body, true) {
        return response;
    }
    if state.lock().unwrap().lfs.contains_key(&oid) {
        axum::Json(json!({})).into_response()
    } else {
        error(StatusCode::NOT_FOUND, "object not uploaded")
    }
}

pub(super) async fn commit(
    State(state): State<Shared>,
    Path((org, name, revision)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = record(&state, &method, &uri, &headers, &body, true) {
        return response;
    }
    let repo = format!("{org}/{name}");
    let mut hub = state.lock().unwrap();
    if !hub.branches.contains(&format!("{repo}@{revision}")) {
        return error(StatusCode::NOT_FOUND, "Invalid rev id");
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-ndjson") {
        return error(StatusCode::BAD_REQUEST, "expected application/x-ndjson");
    }
    let mut commit = Commit {
        repo: repo.clone(),
        revision,
        summary: String::new(),
        files: BTreeMap::new(),
        lfs: Vec::new(),
    };
    for line in String::from_utf8_lossy(&body).lines() {
        let Ok(line) = serde_json::from_str::<Value>(line) else {
            return error(StatusCode::BAD_REQUEST, "a line is not JSON");
        };
        let value = &line["value"];
        let path = value["path"].as_str().unwrap_or("").to_string();
        match line["key"].as_str() {
            Some("header") => commit.summary = value["summary"].as_str().unwrap_or("").into(),
            Some("file") => {
                let content = base64::engine::general_purpose::STANDARD
                    .decode(value["content"].as_str().unwrap_or(""))
                    .unwrap_or_default();
                commit.files.insert(path, content);
            }
            Some("lfsFile") => {
                let oid = value["oid"].as_str().unwrap_or("");
                let Some(bytes) = hub.lfs.get(oid) else {
                    return error(StatusCode::BAD_REQUEST, "LFS object not found");
                };
                commit.files.insert(path.clone(), bytes.clone());
                commit.lfs.push(path);
            }
            _ => return error(StatusCode::BAD_REQUEST, "unknown key"),
        }
    }
    let url = format!("{}/datasets/{repo}/commit/abc123", hub.url);
    hub.commits.push(commit);
    axum::Json(json!({"commitUrl": url, "commitOid": "abc123"})).into_response()
}
