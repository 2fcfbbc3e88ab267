//! OpenAI's Batch API: the lines go up as a JSONL file (`POST /v1/files`, purpose
//! `batch`), a batch is created on it (`POST /v1/batches`, endpoint
//! `/v1/chat/completions`, window `24h`), polled (`GET /v1/batches/{id}`), and its
//! output and error files read (`GET /v1/files/{id}/content`).

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
    let created = match client.api_call_once("/v1/batches", &create).await {
        Ok(created) => created,
        Err(error) => {
            return match find(client, tag).await {
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

/// The batch created with `tag` in its metadata, among the latest 100; none if there
/// is none.
pub async fn find(client: &ModelClient, tag: &str) -> Result<Option<String>, ModelError> {
    let path = "/v1/batches?limit=100";
    let body = client.api_call(path, &ApiRequest::Get).await?;
    let list = json_of(client, path, &body)?;
    Ok(list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|batch| batch.pointer("/metadata/tdg_tag").and_then(Value::as_str) == Some(tag))
        .and_then(|batch| batch["id"].as_str())
        .map(str::to_string))
}

pub async fn cancel(client: &ModelClient, id: &str) -> Result<(), ModelError> {
    let path = format!("/v1/batches/{id}/cancel");
    client.api_call(&path, &ApiRequest::Post(json!({}))).await?;
    Ok(())
}
