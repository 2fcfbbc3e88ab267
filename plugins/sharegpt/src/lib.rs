//! The `sharegpt` format plugin: `{"conversations": [{"from", "value"}]}` records,
//! with `from` one of `system`, `human` and `gpt`, as LLaMA-Factory, Axolotl and
//! FastChat read ShareGPT data.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `system=TEXT`: a system turn first.

wit_bindgen::generate!({
    world: "format-plugin",
    path: "../../wit",
});

use exports::tdg::plugin::format::{FormatInfo, Guest, TrainingExample};
use serde_json::json;
use tdg::plugin::types::{KeyValue, PluginError};

struct ShareGpt;

impl Guest for ShareGpt {
    fn info() -> FormatInfo {
        FormatInfo {
            description: "ShareGPT {\"conversations\": [{\"from\", \"value\"}]} records".into(),
            file_suffix: "_sharegpt".into(),
            extension: "jsonl".into(),
        }
    }

    fn format_example(
        example: TrainingExample,
        options: Vec<KeyValue>,
    ) -> Result<String, PluginError> {
        let mut conversation = Vec::new();
        for option in options {
            match option.key.as_str() {
                "system" => conversation.push(json!({"from": "system", "value": option.value})),
                other => {
                    return Err(PluginError {
                        message: format!(
                            "unknown option `{other}`; the sharegpt format accepts `system=TEXT`"
                        ),
                    });
                }
            }
        }
        conversation.push(json!({"from": "human", "value": example.question}));
        conversation.push(json!({"from": "gpt", "value": example.answer}));
        Ok(json!({"conversations": conversation}).to_string())
    }
}

export!(ShareGpt);
