//! OpenAI's Batch API: the lines go up as a JSONL file (`POST /v1/files`, purpose
//! `batch`), a batch is created on it (`POST /v1/batches`, endpoint
//! `/v1/chat/completions`, window `24h`), polled (`GET /v1/batches/{id}`), and its
//! output and error files read (`GET /v1/files/{id}/content`). A batch whose creation
//! answer was lost is found by the tag in its metadata, paging through
//! `GET /v1/batches`.

use serde_json::{Value, json};

use super::lines::{
    BatchStatus, LineResult, Phase, RequestLine, Results, count, json_of, missing, results_file,
};
use crate::provider::batch_calls::ApiRequest;
use crate::provider::{ModelClient, ModelError};

pub async fn submit(
    client: &ModelClient,
    lines: &[RequestLine],
    tag: &str,
) -> Result<String, ModelError> {
    let mut file = Vec::new();
    for line in lines {
        let entry = json!({
            "custom_id": line.custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": line.body,
        });
        file.extend_from_slice(entry.to_string().as_bytes());
        file.push(b'\n');
    }
    let upload = ApiRequest::Upload {
        purpose: "batch",
        file_name: "tdg-batch.jsonl".into(),
        bytes: file,
    };
    let uploaded = client.api_call("/v1/files", &upload).await?;
    let uploaded = json_of(client, "/v1/files", &uploaded)?;
    let file_id = uploaded["id"]
        .as_str()
        .ok_or_else(|| missing("/v1/files", "id"))?;
    let create = ApiRequest::Post(json!({
        "input_file_id": file_id,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "metadata": {"made_by": "tdg", "tdg_tag": tag},
    }));
    // Asked once: an answer lost on the way may still have created the batch, and
    // asking again would create a second one. It is looked for by its tag instead.
    let asked_at = chrono::Utc::now().timestamp();
    let created = match client.api_call_once("/v1/batches", &create).await {
        Ok(created) => created,
        Err(error) => {
            return match find(client, tag, Some(asked_at)).await {
                Ok(Some(id)) => {
                    tracing::warn!(
                        "creating a batch answered: {error}; it was created all the same ({id})"
                    );
                    Ok(id)
                }
                _ => Err(error),
            };
        }
    };
    let created = json_of(client, "/v1/batches", &created)?;
    created["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| missing("/v1/batches", "id"))
}

pub async fn status(client: &ModelClient, id: &str) -> Result<BatchStatus, ModelError> {
    let path = format!("/v1/batches/{id}");
    let body = client.api_call(&path, &ApiRequest::Get).await?;
    let batch = json_of(client, &path, &body)?;
    let state = batch["status"]
        .as_str()
        .ok_or_else(|| missing(&path, "status"))?
        .to_string();
    let phase = match state.as_str() {
        "completed" | "failed" | "expired" | "cancelled" => Phase::Ended,
        _ => Phase::Running,
    };
    let file = |field: &str| batch[field].as_str().map(str::to_string);
    let batch_error = batch
        .pointer("/errors/data")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|text| !text.is_empty());
    Ok(BatchStatus {
        id: id.to_string(),
        phase,
        total: count(batch.pointer("/request_counts/total")),
        succeeded: count(batch.pointer("/request_counts/completed")),
        failed: count(batch.pointer("/request_counts/failed")),
        results: match phase {
            Phase::Running => Results::None,
            Phase::Ended => Results::Files {
                output: file("output_file_id"),
                errors: file("error_file_id"),
                batch_error,
            },
        },
        state,
        gone: None,
    })
}

/// The lines of an output or error file.
pub async fn file_lines(
    client: &ModelClient,
    file_id: &str,
) -> Result<Vec<LineResult>, ModelError> {
    let path = format!("/v1/files/{file_id}/content");
    results_file(client, &path, line_result).await
}

/// `{"custom_id", "response": {"status_code", "body"}, "error"}`.
fn line_result(line: &Value) -> Option<LineResult> {
    let custom_id = line["custom_id"].as_str()?.to_string();
    let status = line
        .pointer("/response/status_code")
        .and_then(Value::as_u64);
    let answer = match (status, line.get("response").and_then(|r| r.get("body"))) {
        (Some(200), Some(body)) => Ok(body.clone()),
        (status, body) => {
            let message = line
                .pointer("/error/message")
                .or_else(|| body.and_then(|b| b.pointer("/error/message")))
                .and_then(Value::as_str)
                .unwrap_or("no answer and no reason given");
            let code = line.pointer("/error/code").and_then(Value::as_str);
            Err(match (status, code) {
                (Some(status), _) => format!("HTTP {status}: {message}"),
                (None, Some(code)) => format!("{code}: {message}"),
                (None, None) => message.to_string(),
            })
        }
    };
    Some(LineResult { custom_id, answer })
}

/// How far before the submission was recorded the lookup of its batch reads: the
/// provider's clock and this machine's may differ.
const CLOCK_SLACK_SECS: i64 = 3600;

/// The most pages of 100 batches the lookup reads, wherever `since` falls.
const MOST_PAGES: usize = 1000;

/// The batch created with `tag` in its metadata; none if there is none. The list
/// (`GET /v1/batches`, newest first) is read a page of 100 at a time (`after` the
/// page's `last_id`) until the batch is found, the list ends (`has_more`), or the
/// page reaches batches created before `since` (less [`CLOCK_SLACK_SECS`]): other
/// runs on the same key (shards) may have created any number of batches since.
pub async fn find(
    client: &ModelClient,
    tag: &str,
    since: Option<i64>,
) -> Result<Option<String>, ModelError> {
    let oldest = since.map(|since| since - CLOCK_SLACK_SECS);
    let mut after: Option<String> = None;
    for _ in 0..MOST_PAGES {
        let path = match &after {
            None => "/v1/batches?limit=100".to_string(),
            Some(last) => format!("/v1/batches?limit=100&after={last}"),
        };
        let body = client.api_call(&path, &ApiRequest::Get).await?;
        let list = json_of(client, &path, &body)?;
        let page = list["data"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let tagged = page
            .iter()
            .find(|batch| batch.pointer("/metadata/tdg_tag").and_then(Value::as_str) == Some(tag));
        if let Some(batch) = tagged {
            return Ok(batch["id"].as_str().map(str::to_string));
        }
        let last_id = list["last_id"]
            .as_str()
            .or_else(|| page.last().and_then(|batch| batch["id"].as_str()));
        let older = page
            .last()
            .and_then(|batch| batch["created_at"].as_i64())
            .zip(oldest)
            .is_some_and(|(created, oldest)| created < oldest);
        match last_id {
            Some(last) if list["has_more"] == true && !older && after.as_deref() != Some(last) => {
                after = Some(last.to_string());
            }
            _ => return Ok(None),
        }
    }
    tracing::warn!(
        "looked through the latest {} batches for the one tagged {tag} and stopped",
        MOST_PAGES * 100
    );
    Ok(None)
}

pub async fn cancel(client: &ModelClient, id: &str) -> Result<(), ModelError> {
    let path = format!("/v1/batches/{id}/cancel");
    client.api_call(&path, &ApiRequest::Post(json!({}))).await?;
    Ok(())
}
