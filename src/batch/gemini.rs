//! Gemini's batch mode: the lines go inline in one request
//! (`POST /v1beta/models/{model}:batchGenerateContent`, each `{request, metadata:
//! {key}}`), which answers with a long-running operation `batches/{id}`; it is polled
//! (`GET /v1beta/batches/{id}`) until `done`, and the answers come inline in its
//! response, each with its key.

use serde_json::{Value, json};

use super::lines::{BatchStatus, LineResult, Phase, RequestLine, Results, count, json_of, missing};
use crate::provider::batch_calls::ApiRequest;
use crate::provider::{ModelClient, ModelError};

pub async fn submit(client: &ModelClient, lines: &[RequestLine]) -> Result<String, ModelError> {
    let model = &client.settings().model;
    let path = format!("/v1beta/models/{model}:batchGenerateContent");
    let requests: Vec<Value> = lines
        .iter()
        .map(|line| json!({"request": line.body, "metadata": {"key": line.custom_id}}))
        .collect();
    let body = json!({"batch": {
        "displayName": "tdg",
        "model": format!("models/{model}"),
        "inputConfig": {"requests": {"requests": requests}},
    }});
    let answer = client.api_call(&path, &ApiRequest::Post(body)).await?;
    let operation = json_of(client, &path, &answer)?;
    operation["name"]
        .as_str()
        .map(|name| name.trim_start_matches("batches/").to_string())
        .ok_or_else(|| missing(&path, "name"))
}

pub async fn status(client: &ModelClient, id: &str) -> Result<BatchStatus, ModelError> {
    let path = format!("/v1beta/batches/{id}");
    let body = client.api_call(&path, &ApiRequest::Get).await?;
    let operation = json_of(client, &path, &body)?;
    let metadata = &operation["metadata"];
    let state = metadata["state"]
        .as_str()
        .unwrap_or("BATCH_STATE_UNSPECIFIED")
        .to_string();
    let ended = operation["done"].as_bool().unwrap_or(false)
        || matches!(
            state.as_str(),
            "BATCH_STATE_SUCCEEDED"
                | "BATCH_STATE_FAILED"
                | "BATCH_STATE_CANCELLED"
                | "BATCH_STATE_EXPIRED"
        );
    let answers = operation
        .pointer("/response/inlinedResponses/inlinedResponses")
        .or_else(|| metadata.pointer("/output/inlinedResponses/inlinedResponses"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let stats = |field: &str| count(metadata.pointer(&format!("/batchStats/{field}")));
    Ok(BatchStatus {
        id: id.to_string(),
        phase: if ended { Phase::Ended } else { Phase::Running },
        state,
        total: stats("requestCount"),
        succeeded: stats("successfulRequestCount"),
        failed: stats("failedRequestCount"),
        results: if ended {
            Results::Inline(answers)
        } else {
            Results::None
        },
        gone: None,
    })
}

/// `{"response": {...}, "metadata": {"key"}}` or `{"error": {"code", "message"}, ...}`.
pub fn results(answers: &[Value]) -> Vec<LineResult> {
    answers
        .iter()
        .filter_map(|answer| {
            let custom_id = answer.pointer("/metadata/key")?.as_str()?.to_string();
            let result = match (answer.get("response"), answer.get("error")) {
                (Some(response), None) => Ok(response.clone()),
                (_, error) => Err(error
                    .and_then(|e| e["message"].as_str())
                    .unwrap_or("no answer and no reason given")
                    .to_string()),
            };
            Some(LineResult {
                custom_id,
                answer: result,
            })
        })
        .collect()
}

pub async fn cancel(client: &ModelClient, id: &str) -> Result<(), ModelError> {
    let path = format!("/v1beta/batches/{id}:cancel");
    client.api_call(&path, &ApiRequest::Post(json!({}))).await?;
    Ok(())
}
