//! The `openai-chat` format plugin: `{"messages": [{"role", "content"}]}` records,
//! the chat layout of OpenAI fine-tuning and of TRL's `SFTTrainer`.
//!
//! Options (`--format-opt KEY=VALUE`):
//! - `system=TEXT`: a system message first (repeat it for several).

use serde_json::json;
use tdg_plugin_sdk::{Format, Options, PluginError, TrainingExample};

struct OpenAiChat;

impl Format for OpenAiChat {
    const NAME: &str = "openai-chat";
    const DESCRIPTION: &str =
        "chat {\"messages\": [{\"role\", \"content\"}]} records (OpenAI fine-tuning, TRL)";
    const FILE_SUFFIX: &str = "_chat";
    const OPTIONS: &[&str] = &["system=TEXT"];

    fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError> {
        let system = options.all("system");
        let mut messages: Vec<_> = system
            .map(|text| json!({"role": "system", "content": text}))
            .collect();
        messages.push(json!({"role": "user", "content": example.question}));
        messages.push(json!({"role": "assistant", "content": example.answer}));
        Ok(json!({"messages": messages}).to_string())
    }
}

tdg_plugin_sdk::export_plugin!(format: OpenAiChat);
