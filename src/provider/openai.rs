//! OpenAI Chat Completions (`POST {base}/v1/chat/completions`), which every
//! OpenAI-compatible server (vLLM, llama.cpp server, LM Studio) speaks too.
//!
//! `--structured` asks for `response_format: json_schema`. Servers that refuse it
//! (llama-cpp-python answers HTTP 500 with a validation error) get `json_object` with
//! a `schema`, which llama.cpp servers take, and then plain output ([`StructuredForm`]).

use serde_json::{Value, json};

use super::{AnswerSchema, ChatResponse, HttpCall, Message};
use crate::provider::settings::ModelSettings;

/// The form structured output is asked in, from the strictest to none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum StructuredForm {
    /// `response_format: {"type": "json_schema", "json_schema": {...}}`.
    JsonSchema = 0,
    /// `response_format: {"type": "json_object", "schema": {...}}`.
    JsonObject = 1,
    /// No `response_format`: the parser alone reads the answer.
    Plain = 2,
}

impl StructuredForm {
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => StructuredForm::JsonSchema,
            1 => StructuredForm::JsonObject,
            _ => StructuredForm::Plain,
        }
    }

    /// The next form to try when a server refuses this one.
    pub fn fallback(self) -> Self {
        match self {
            StructuredForm::JsonSchema => StructuredForm::JsonObject,
            StructuredForm::JsonObject | StructuredForm::Plain => StructuredForm::Plain,
        }
    }

    /// The form, for the message that says a server refused it.
    pub fn describe(self) -> &'static str {
        match self {
            StructuredForm::JsonSchema => "response_format json_schema",
            StructuredForm::JsonObject => "response_format json_object with a schema",
            StructuredForm::Plain => "plain output",
        }
    }
}

pub(super) fn request(
    settings: &ModelSettings,
    messages: &[Message],
    form: StructuredForm,
) -> HttpCall {
    let mut body = json!({
        "model": settings.model,
        "messages": messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect::<Vec<_>>(),
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
    });
    match form {
        StructuredForm::JsonSchema => {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": schema_name(settings.answer), "strict": true, "schema": settings.answer.json()},
            });
        }
        StructuredForm::JsonObject => {
            body["response_format"] =
                json!({"type": "json_object", "schema": settings.answer.json()});
        }
        StructuredForm::Plain => {}
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

/// The `json_schema` name OpenAI asks for.
fn schema_name(answer: AnswerSchema) -> &'static str {
    match answer {
        AnswerSchema::Pairs | AnswerSchema::PairsExactly(..) => "qa_pairs",
        AnswerSchema::JudgeScores => "judgment",
    }
}

pub(super) fn response(body: &Value) -> Result<ChatResponse, String> {
    let text = body
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or("the answer has no choices[0].message.content")?;
    // vLLM, llama.cpp's server and DeepSeek return the trace as
    // `reasoning_content`; newer vLLM and OpenRouter as `reasoning`.
    let message = body.pointer("/choices/0/message");
    let reasoning = ["reasoning_content", "reasoning"]
        .iter()
        .find_map(|key| super::trace(message?.get(*key).and_then(Value::as_str)));
    Ok(ChatResponse {
        text: text.to_string(),
        reasoning,
        tokens_reasoning: body
            .pointer("/usage/completion_tokens_details/reasoning_tokens")
            .and_then(Value::as_u64),
        tokens_in: body
            .pointer("/usage/prompt_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        tokens_out: body
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        context_cut: None,
    })
}
