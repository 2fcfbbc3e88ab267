//! The `sharegpt` format plugin: `{"conversations": [{"from", "value"}]}` records,
//! with `from` one of `system`, `human` and `gpt`, as LLaMA-Factory, Axolotl and
//! FastChat read ShareGPT data.
//!
//! A conversation's every exchange is a turn; an example's reasoning is written in a
//! `<think>` block before the first answer (`--reasoning-style think`, as
//! LLaMA-Factory's Qwen3 and DeepSeek-R1 templates read it) or in a
//! `reasoning_content` field of that turn (`--reasoning-style field`, as Axolotl's
//! `chat_template` reads it).
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
    const WRITES_TURNS: bool = true;

    fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError> {
        let system = options.all("system");
        let mut conversation: Vec<_> = system
            .map(|text| json!({"from": "system", "value": text}))
            .collect();
        for turn in example.chat_turns() {
            let from = if turn.assistant { "gpt" } else { "human" };
            let mut record = json!({"from": from, "value": turn.content});
            if let Some(reasoning) = turn.reasoning {
                record["reasoning_content"] = json!(reasoning);
            }
            conversation.push(record);
        }
        Ok(json!({"conversations": conversation}).to_string())
    }
}

tdg_plugin_sdk::export_plugin!(format: ShareGpt);
