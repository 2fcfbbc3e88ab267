//! The `alpaca-json` format plugin: `{"instruction", "input", "output"}` records, the
//! Alpaca dataset layout that LLaMA-Factory and Axolotl read.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `input=source`: put the chunk's text in `input` (default: `input` is empty);
//! - `input=TEXT`: any other value is used as `input` for every record.

wit_bindgen::generate!({
    world: "format-plugin",
    path: "../../wit",
});

use exports::tdg::plugin::format::{FormatInfo, Guest, TrainingExample};
use tdg::plugin::types::{KeyValue, PluginError};

struct AlpacaJson;

impl Guest for AlpacaJson {
    fn info() -> FormatInfo {
        FormatInfo {
            description:
                "Alpaca {\"instruction\", \"input\", \"output\"} records (LLaMA-Factory, Axolotl)"
                    .into(),
            file_suffix: "_alpaca".into(),
            extension: "jsonl".into(),
        }
    }

    fn format_example(
        example: TrainingExample,
        options: Vec<KeyValue>,
    ) -> Result<String, PluginError> {
        let mut input = String::new();
        for option in options {
            match option.key.as_str() {
                "input" if option.value == "source" => input = example.source_text.clone(),
                "input" => input = option.value,
                other => {
                    return Err(PluginError {
                        message: format!(
                            "unknown option `{other}`; the alpaca-json format accepts `input=source` or `input=TEXT`"
                        ),
                    });
                }
            }
        }
        Ok(serde_json::json!({
            "instruction": example.question,
            "input": input,
            "output": example.answer,
        })
        .to_string())
    }
}

export!(AlpacaJson);
