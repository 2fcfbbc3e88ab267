//! Anthropic's Message Batches: the lines go in one request
//! (`POST /v1/messages/batches`, each `{custom_id, params}`), the batch is polled
//! (`GET /v1/messages/batches/{id}`), and its `results_url` streams one JSON line per
//! request once `processing_status` is `ended`, until the batch is archived
//! (`archived_at`, 29 days on): its results are gone then, and its `results_url`
//! answers 404.

use serde_json::{Value, json};

use super::lines::{
    BatchStatus, LineResult, Phase, RequestLine, Results, count, json_of, missing, results_file,
};
use crate::provider::batch_calls::ApiRequest;
use crate::provider::{ModelClient, ModelError};

const BATCHES: &str = "/v1/messages/batches";

pub async fn submit(client: &ModelClient, lines: &[RequestLine]) -> Result<String, ModelError> {
    let requests: Vec<Value> = lines
        .iter()
        .map(|line| json!({"custom_id": line.custom_id, "params": line.body}))
        .collect();
    let body = client
        .api_call(BATCHES, &ApiRequest::Post(json!({"requests": requests})))
        .await?;
    let created = json_of(client, BATCHES, &body)?;
    created["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| missing(BATCHES, "id"))
}

pub async fn status(client: &ModelClient, id: &str) -> Result<BatchStatus, ModelError> {
    let path = format!("{BATCHES}/{id}");
    let body = client.api_call(&path, &ApiRequest::Get).await?;
    let batch = json_of(client, &path, &body)?;
    let state = batch["processing_status"]
        .as_str()
        .ok_or_else(|| missing(&path, "processing_status"))?
        .to_string();
    let counts = |field: &str| count(batch.pointer(&format!("/request_counts/{field}")));
    let failed = counts("errored") + counts("expired") + counts("canceled");
    let succeeded = counts("succeeded");
    let phase = if state == "ended" {
        Phase::Ended
    } else {
        Phase::Running
    };
    let results = match (phase, batch["results_url"].as_str()) {
        (Phase::Ended, Some(url)) => Results::Url(url.to_string()),
        // Ended without results: the batch expired or was cancelled before any ran.
        _ => Results::None,
    };
    // `archived_at`: when the batch was archived and its results became unavailable.
    let gone = batch["archived_at"].as_str().map(|at| {
        format!(
            "it was archived at {at} and its results are no longer available: Anthropic keeps a batch's results for 29 days"
        )
    });
    Ok(BatchStatus {
        id: id.to_string(),
        phase,
        state,
        total: succeeded + failed + counts("processing"),
        succeeded,
        failed,
        results,
        gone,
    })
}

pub async fn results(client: &ModelClient, url: &str) -> Result<Vec<LineResult>, ModelError> {
    results_file(client, url, line_result).await
}

/// `{"custom_id", "result": {"type": "succeeded" | "errored" | "expired" | "canceled", ...}}`.
fn line_result(line: &Value) -> Option<LineResult> {
    let custom_id = line["custom_id"].as_str()?.to_string();
    let result = &line["result"];
    let answer = match result["type"].as_str() {
        Some("succeeded") => Ok(result["message"].clone()),
        Some("errored") => Err(result
            .pointer("/error/error/message")
            .or_else(|| result.pointer("/error/message"))
            .and_then(Value::as_str)
            .unwrap_or("the request failed, with no reason given")
            .to_string()),
        Some("expired") => Err("expired: the batch ended before this request ran".to_string()),
        Some("canceled") => Err("cancelled before this request ran".to_string()),
        other => Err(format!("an unknown result type {other:?}")),
    };
    Some(LineResult { custom_id, answer })
}

pub async fn cancel(client: &ModelClient, id: &str) -> Result<(), ModelError> {
    let path = format!("{BATCHES}/{id}/cancel");
    client.api_call(&path, &ApiRequest::Post(json!({}))).await?;
    Ok(())
}
