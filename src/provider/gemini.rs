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
    if settings.reasoning {
        let mut thinking = json!({"includeThoughts": true});
        if let Some(budget) = settings.thinking_budget {
            thinking["thinkingBudget"] = json!(budget);
        }
        generation_config["thinkingConfig"] = thinking;
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
    // Thought summaries are parts marked `"thought": true`.
    let is_thought = |part: &&Value| part.get("thought").and_then(Value::as_bool) == Some(true);
    let text_of = |part: &Value| part.get("text").and_then(Value::as_str).map(str::to_string);
    let text: String = parts
        .iter()
        .filter(|part| !is_thought(part))
        .filter_map(text_of)
        .collect();
    let thoughts: Vec<String> = parts
        .iter()
        .filter(is_thought)
        .filter_map(text_of)
        .collect();
    let thought_tokens = body
        .pointer("/usageMetadata/thoughtsTokenCount")
        .and_then(Value::as_u64);
    Ok(ChatResponse {
        text,
        reasoning: super::trace(Some(&thoughts.join("\n\n"))),
        tokens_reasoning: thought_tokens,
        tokens_in: body
            .pointer("/usageMetadata/promptTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        // Thinking is billed as output, but counted apart from the candidates.
        tokens_out: body
            .pointer("/usageMetadata/candidatesTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            + thought_tokens.unwrap_or(0),
        context_cut: None,
    })
}
