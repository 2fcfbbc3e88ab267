//! The `alpaca` format plugin: one `{"text": ...}` record per pair, in the Alpaca
//! prompt layout the original tool's converter wrote, byte for byte.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `preamble`: replaces the opening sentence ("Below is an instruction ...").

wit_bindgen::generate!({
    world: "format-plugin",
    path: "../../wit",
});

use exports::tdg::plugin::format::{FormatInfo, Guest, TrainingExample};
use tdg::plugin::types::{KeyValue, PluginError};

/// The Alpaca preamble, exactly as the original converter wrote it.
const PREAMBLE: &str = "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

struct Alpaca;

impl Guest for Alpaca {
    fn info() -> FormatInfo {
        FormatInfo {
            description:
                "Alpaca prompt layout in a single \"text\" field (the original tool's format)"
                    .into(),
            file_suffix: "_trainingdata".into(),
            extension: "jsonl".into(),
        }
    }

    fn format_example(
        example: TrainingExample,
        options: Vec<KeyValue>,
    ) -> Result<String, PluginError> {
        let mut preamble = PREAMBLE;
        for option in &options {
            match option.key.as_str() {
                "preamble" => preamble = &option.value,
                other => {
                    return Err(PluginError {
                        message: format!(
                            "unknown option `{other}`; the alpaca format accepts `preamble`"
                        ),
                    });
                }
            }
        }
        let text = format!(
            "{preamble}\n\n### Instruction:\n{}\n\n### Response:\n{}",
            example.question, example.answer
        );
        Ok(serde_json::json!({ "text": text }).to_string())
    }
}

export!(Alpaca);
