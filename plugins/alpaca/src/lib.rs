//! The `alpaca` format plugin: one `{"text": ...}` record per pair, in the Alpaca
//! prompt layout the original tool's converter wrote, byte for byte.
//!
//! A conversation writes its first exchange only; an example's reasoning is left out
//! unless asked for.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `preamble`: replaces the opening sentence ("Below is an instruction ...");
//! - `reasoning=think`: the response starts with the reasoning in a `<think>` block.

use tdg_plugin_sdk::{Format, Options, PluginError, TrainingExample};

/// The Alpaca preamble, exactly as the original converter wrote it.
const PREAMBLE: &str = "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

struct Alpaca;

impl Format for Alpaca {
    const NAME: &str = "alpaca";
    const DESCRIPTION: &str =
        "Alpaca prompt layout in a single \"text\" field (the original tool's format)";
    const FILE_SUFFIX: &str = "_trainingdata";
    const OPTIONS: &[&str] = &["preamble", "reasoning=think"];

    fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError> {
        let preamble = options.last("preamble").unwrap_or(PREAMBLE);
        let answer = example.answer_as_asked(Self::NAME, options)?;
        let question = example.question;
        let text = format!("{preamble}\n\n### Instruction:\n{question}\n\n### Response:\n{answer}");
        Ok(serde_json::json!({ "text": text }).to_string())
    }
}

tdg_plugin_sdk::export_plugin!(format: Alpaca);
