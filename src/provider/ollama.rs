//! Ollama's native chat API (`POST {base}/api/chat`, `stream: false`), with its
//! sampling `options` from the `--ollama-*` flags.

use serde_json::{Map, Value, json};

use super::{ChatResponse, HttpCall, Message};
use crate::provider::settings::ModelSettings;

pub(super) fn request(
    settings: &ModelSettings,
    messages: &[Message],
    structured: bool,
) -> HttpCall {
    let ollama = &settings.ollama;
    let mut options = Map::new();
    options.insert("temperature".into(), json!(settings.temperature));
    if let Some(top_k) = ollama.top_k {
        options.insert("top_k".into(), json!(top_k));
    }
    if let Some(top_p) = ollama.top_p {
        options.insert("top_p".into(), json!(top_p));
    }
    if let Some(penalty) = ollama.repeat_penalty {
        options.insert("repeat_penalty".into(), json!(penalty));
    }
    options.insert(
        "num_predict".into(),
        json!(ollama.num_predict.unwrap_or(settings.max_tokens as i32)),
    );
    if !ollama.stop.is_empty() {
        options.insert("stop".into(), json!(ollama.stop));
    }
    let mut body = json!({
        "model": settings.model,
        "messages": messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect::<Vec<_>>(),
        "stream": false,
        "options": options,
    });
    if structured {
        body["format"] = settings.answer.json();
    }
    if settings.reasoning {
        // A thinking model's trace then comes apart, in `message.thinking`.
        body["think"] = json!(true);
    }
    HttpCall {
        path: "/api/chat".into(),
        headers: Vec::new(),
        body,
    }
}

pub(super) fn response(body: &Value) -> Result<ChatResponse, String> {
    let text = body
        .pointer("/message/content")
        .and_then(Value::as_str)
        .ok_or("the answer has no message.content")?;
    Ok(ChatResponse {
        text: text.to_string(),
        reasoning: super::trace(body.pointer("/message/thinking").and_then(Value::as_str)),
        tokens_reasoning: None,
        tokens_in: body
            .get("prompt_eval_count")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        tokens_out: body.get("eval_count").and_then(Value::as_u64).unwrap_or(0),
        context_cut: None,
    })
}
