//! OpenAI Chat Completions (`POST {base}/v1/chat/completions`), which every
//! OpenAI-compatible server (vLLM, llama.cpp server, LM Studio) speaks too.

use serde_json::{Value, json};

use super::{ChatResponse, HttpCall, Message, qa_schema};
use crate::generate::settings::ModelSettings;

pub(super) fn request(
    settings: &ModelSettings,
    messages: &[Message],
    structured: bool,
) -> HttpCall {
    let mut body = json!({
        "model": settings.model,
        "messages": messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect::<Vec<_>>(),
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
    });
    if structured {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": {"name": "qa_pairs", "strict": true, "schema": qa_schema(settings.pairs_asked)},
        });
    }
    let mut headers = Vec::new();
    if let Some(key) = &settings.api_key {
        headers.push(("authorization", format!("Bearer {}", key.expose())));
    }
    HttpCall {
        path: "/v1/chat/completions".into(),
        headers,
        body,
    }
}

pub(super) fn response(body: &Value) -> Result<ChatResponse, String> {
    let text = body
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or("the answer has no choices[0].message.content")?;
    Ok(ChatResponse {
        text: text.to_string(),
        tokens_in: body
            .pointer("/usage/prompt_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        tokens_out: body
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    })
}
