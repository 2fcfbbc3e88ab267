//! The `openai-chat` format plugin: `{"messages": [{"role", "content"}]}` records,
//! the chat layout of OpenAI fine-tuning and of TRL's `SFTTrainer`.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `system=TEXT`: a system message first.

wit_bindgen::generate!({
    world: "format-plugin",
    path: "../../wit",
});

use exports::tdg::plugin::format::{FormatInfo, Guest, TrainingExample};
use serde_json::json;
use tdg::plugin::types::{KeyValue, PluginError};

struct OpenAiChat;

impl Guest for OpenAiChat {
    fn info() -> FormatInfo {
        FormatInfo {
            description:
                "chat {\"messages\": [{\"role\", \"content\"}]} records (OpenAI fine-tuning, TRL)"
                    .into(),
            file_suffix: "_chat".into(),
            extension: "jsonl".into(),
        }
    }

    fn format_example(
        example: TrainingExample,
        options: Vec<KeyValue>,
    ) -> Result<String, PluginError> {
        let mut messages = Vec::new();
        for option in options {
            match option.key.as_str() {
                "system" => messages.push(json!({"role": "system", "content": option.value})),
                other => {
                    return Err(PluginError {
                        message: format!(
                            "unknown option `{other}`; the openai-chat format accepts `system=TEXT`"
                        ),
                    });
                }
            }
        }
        messages.push(json!({"role": "user", "content": example.question}));
        messages.push(json!({"role": "assistant", "content": example.answer}));
        Ok(json!({"messages": messages}).to_string())
    }
}

export!(OpenAiChat);
