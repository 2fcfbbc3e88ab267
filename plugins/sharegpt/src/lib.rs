//! The `sharegpt` format plugin: `{"conversations": [{"from", "value"}]}` records,
//! with `from` one of `system`, `human` and `gpt`, as LLaMA-Factory, Axolotl and
//! FastChat read ShareGPT data.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `system=TEXT`: a system turn first (repeat it for several).

use serde_json::json;
use tdg_plugin_sdk::{Format, Options, PluginError, TrainingExample};

struct ShareGpt;

impl Format for ShareGpt {
    const NAME: &str = "sharegpt";
    const DESCRIPTION: &str = "ShareGPT {\"conversations\": [{\"from\", \"value\"}]} records";
    const FILE_SUFFIX: &str = "_sharegpt";
    const OPTIONS: &[&str] = &["system=TEXT"];

    fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError> {
        let system = options.all("system");
        let mut conversation: Vec<_> = system
            .map(|text| json!({"from": "system", "value": text}))
            .collect();
        conversation.push(json!({"from": "human", "value": example.question}));
        conversation.push(json!({"from": "gpt", "value": example.answer}));
        Ok(json!({"conversations": conversation}).to_string())
    }
}

tdg_plugin_sdk::export_plugin!(format: ShareGpt);
