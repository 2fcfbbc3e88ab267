//! The `openai-chat` format plugin: `{"messages": [{"role", "content"}]}` records,
//! the chat layout of OpenAI fine-tuning and of TRL's `SFTTrainer`.
//!
//! A conversation's every exchange is a message pair; an example's reasoning is
//! written in a `<think>` block before the first answer (`--reasoning-style think`)
//! or in that message's `reasoning_content` field (`--reasoning-style field`, which
//! the Qwen3 chat template and vLLM read).
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
    const WRITES_TURNS: bool = true;

    fn format_example(example: TrainingExample, options: &Options) -> Result<String, PluginError> {
        let system = options.all("system");
        let mut messages: Vec<_> = system
            .map(|text| json!({"role": "system", "content": text}))
            .collect();
        for turn in example.chat_turns() {
            let role = if turn.assistant { "assistant" } else { "user" };
            let mut message = json!({"role": role, "content": turn.content});
            if let Some(reasoning) = turn.reasoning {
                message["reasoning_content"] = json!(reasoning);
            }
            messages.push(message);
        }
        Ok(json!({"messages": messages}).to_string())
    }
}

tdg_plugin_sdk::export_plugin!(format: OpenAiChat);
