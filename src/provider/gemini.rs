//! Google Gemini (`POST {base}/v1beta/models/{model}:generateContent`): the system
//! prompt goes in `systemInstruction`, sampling in `generationConfig`.

use serde_json::{Value, json};

use super::{ChatResponse, HttpCall, Message};
use crate::provider::settings::ModelSettings;

pub(super) fn request(
    settings: &ModelSettings,
    messages: &[Message],
    structured: bool,
) -> HttpCall {
    let system: Vec<Value> = messages
        .iter()
        .filter(|m| m.role == "system")
        .map(|m| json!({"text": m.content}))
        .collect();
    let contents: Vec<Value> = messages
        .iter()
        .filter(|m| m.role != "system")
        .map(|m| {
            let role = if m.role == "assistant" {
                "model"
            } else {
                "user"
            };
            json!({"role": role, "parts": [{"text": m.content}]})
        })
        .collect();
    let mut generation_config = json!({
        "temperature": settings.temperature,
        "maxOutputTokens": settings.max_tokens,
    });
    if structured {
        generation_config["responseMimeType"] = json!("application/json");
        generation_config["responseSchema"] = settings.answer.json();
    }
    let mut body = json!({"contents": contents, "generationConfig": generation_config});
    if !system.is_empty() {
        body["systemInstruction"] = json!({"parts": system});
    }
    let mut headers = Vec::new();
    if let Some(key) = &settings.api_key {
        headers.push(("x-goog-api-key", key.expose().to_string()));
    }
    HttpCall {
        path: format!("/v1beta/models/{}:generateContent", settings.model),
        headers,
        body,
    }
}

pub(super) fn response(body: &Value) -> Result<ChatResponse, String> {
    let parts = body
        .pointer("/candidates/0/content/parts")
        .and_then(Value::as_array)
        .ok_or("the answer has no candidates[0].content.parts")?;
    let text: String = parts
        .iter()
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .collect();
    Ok(ChatResponse {
        text,
        tokens_in: body
            .pointer("/usageMetadata/promptTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        tokens_out: body
            .pointer("/usageMetadata/candidatesTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        context_cut: None,
    })
}
