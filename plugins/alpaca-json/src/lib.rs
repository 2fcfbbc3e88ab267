//! The `alpaca-json` format plugin: `{"instruction", "input", "output"}` records, the
//! Alpaca dataset layout that LLaMA-Factory and Axolotl read.
//!
//! A conversation writes its first exchange only; an example's reasoning is left out
//! unless asked for.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `input=source`: put the chunk's text in `input` (default: `input` is empty);
//! - `input=TEXT`: any other value is used as `input` for every record;
//! - `reasoning=think`: `output` starts with the reasoning in a `<think>` block.

use tdg_plugin_sdk::{Format, Options, PluginError, TrainingExample};

struct AlpacaJson;

impl Format for AlpacaJson {
    const NAME: &str = "alpaca-json";
    const DESCRIPTION: &str =
        "Alpaca {\"instruction\", \"input\", \"output\"} records (LLaMA-Factory, Axolotl)";
    const FILE_SUFFIX: &str = "_alpaca";
    const OPTIONS: &[&str] = &["input=source", "input=TEXT", "reasoning=think"];

    fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError> {
        let input = match options.last("input") {
            Some("source") => example.source_text.as_str(),
            Some(text) => text,
            None => "",
        };
        let output = example.answer_as_asked(Self::NAME, options)?;
        Ok(serde_json::json!({
            "instruction": example.question,
            "input": input,
            "output": output,
        })
        .to_string())
    }
}

tdg_plugin_sdk::export_plugin!(format: AlpacaJson);
