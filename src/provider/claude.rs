//! Anthropic's Messages API (`POST {base}/v1/messages`): the system prompt is a
//! top-level field, and `max_tokens` is required.

use serde_json::{Value, json};

use super::{ChatResponse, HttpCall, Message};
use crate::provider::settings::ModelSettings;

/// The API version tdg speaks.
const ANTHROPIC_VERSION: &str = "2023-06-01";

pub(super) fn request(settings: &ModelSettings, messages: &[Message]) -> HttpCall {
    let system: Vec<&str> = messages
        .iter()
        .filter(|m| m.role == "system")
        .map(|m| m.content.as_str())
        .collect();
    let turns: Vec<Value> = messages
        .iter()
        .filter(|m| m.role != "system")
        .map(|m| json!({"role": m.role, "content": m.content}))
        .collect();
    let mut body = json!({
        "model": settings.model,
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "messages": turns,
    });
    if settings.reasoning {
        // Extended thinking: the budget comes on top of the answer's tokens, and
        // Anthropic refuses a temperature other than its own with it.
        let budget = settings
            .thinking_budget
            .unwrap_or(crate::provider::settings::DEFAULT_THINKING_BUDGET);
        body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
        body["max_tokens"] = json!(settings.max_tokens.saturating_add(budget));
        if let Some(body) = body.as_object_mut() {
            body.remove("temperature");
        }
    }
    if !system.is_empty() {
        body["system"] = json!(system.join("\n\n"));
    }
    let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_string())];
    if let Some(key) = &settings.api_key {
        headers.push(("x-api-key", key.expose().to_string()));
    }
    HttpCall {
        path: "/v1/messages".into(),
        headers,
        body,
    }
}

pub(super) fn response(body: &Value) -> Result<ChatResponse, String> {
    let blocks = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or("the answer has no `content` list")?;
    let text: String = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect();
    let thinking: Vec<&str> = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("thinking"))
        .filter_map(|block| block.get("thinking").and_then(Value::as_str))
        .collect();
    Ok(ChatResponse {
        text,
        reasoning: super::trace(Some(&thinking.join("\n\n"))),
        tokens_reasoning: None,
        tokens_in: body
            .pointer("/usage/input_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        tokens_out: body
            .pointer("/usage/output_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        context_cut: None,
    })
}
