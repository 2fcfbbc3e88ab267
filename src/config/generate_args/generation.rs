//! How prompts are built and answers parsed: the questions asked, the system message and template, the prompt and parser plugins.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde::{Deserialize, Serialize};

use super::parse_key_value;
use crate::config::help;
use crate::prompt::{DEFAULT_PARSE_RETRIES, DEFAULT_PROMPT_PLUGIN, DEFAULT_QUESTIONS_PER_CHUNK};
use crate::task::{DEFAULT_TURNS, Task};

/// The prompt options of `tdg generate` (help heading "Generation").
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationArgs {
    /// What kind of example to make: a question and its answer, the same with the reasoning that leads to the answer, or a multi-turn conversation.
    #[arg(long, value_enum, env = "GENERATOR_TASK", help_heading = "Generation",
          help = help::with_default("What kind of example to make: a question and its answer, the same with the reasoning that leads to the answer, or a multi-turn conversation", help::value_name(Task::default())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,

    /// Exchanges (a user message and the reply) per conversation, the first included (`--task conversation`).
    #[arg(long, env = "GENERATOR_TURNS", value_name = "N", help_heading = "Generation",
          help = help::with_default("Exchanges (a user message and the reply) per conversation, the first included, 1 to 20 (--task conversation)", DEFAULT_TURNS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turns: Option<u32>,

    /// Tokens a reasoning model may think for (Anthropic's extended thinking `budget_tokens`, at least 1024; Gemini's `thinkingBudget`), with `--task reasoning`.
    #[arg(
        long,
        env = "GENERATOR_THINKING_BUDGET",
        value_name = "TOKENS",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<u32>,

    /// Number of questions per chunk.
    #[arg(long, env = "GENERATOR_QUESTIONS_PER_CHUNK", help_heading = "Generation",
          help = help::with_default("Number of questions per chunk", DEFAULT_QUESTIONS_PER_CHUNK))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions_per_chunk: Option<u32>,

    /// The mix of question types to ask for per chunk, as TYPE=COUNT pairs.
    #[arg(long, env = "GENERATOR_QUESTION_TYPES", value_name = "TYPE=N,...", help_heading = "Generation",
          help = help::question_types())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question_types: Option<String>,

    /// Custom system message.
    #[arg(
        long,
        env = "GENERATOR_QA_SYSTEM_MESSAGE",
        value_name = "TEXT",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_system_message: Option<String>,

    /// Additional instructions for Q&A generation.
    #[arg(
        long,
        env = "GENERATOR_QA_EXTRA_INSTRUCTIONS",
        value_name = "TEXT",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_extra_instructions: Option<String>,

    /// Custom prompt template file (minijinja; see templates/qa_prompt.jinja).
    #[arg(
        long,
        env = "GENERATOR_QA_PROMPT_TEMPLATE_FILE",
        value_name = "FILE",
        help_heading = "Generation"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_prompt_template_file: Option<PathBuf>,

    /// A template variable, available as `vars.KEY` (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_key_value, help_heading = "Generation")]
    #[serde(skip)]
    pub var: Vec<(String, String)>,

    /// Template variables (config file only; `--var` overrides).
    #[arg(skip)]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,

    /// The prompt plugin: a built-in name or a component path.
    #[arg(long, env = "GENERATOR_PROMPT_PLUGIN", value_name = "NAME|PATH.wasm", help_heading = "Generation",
          help = help::with_default("The prompt plugin: a built-in name or a component path", DEFAULT_PROMPT_PLUGIN))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_plugin: Option<String>,

    /// The answer parser: a built-in name or a component path.
    #[arg(long, env = "GENERATOR_PARSER", value_name = "NAME|PATH.wasm", help_heading = "Generation",
          help = help::with_default("The answer parser: a built-in name or a component path", DEFAULT_PROMPT_PLUGIN))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parser: Option<String>,

    /// How often a chunk whose answer holds no pair is asked again, with the parser's error.
    #[arg(long, env = "GENERATOR_PARSE_RETRIES", value_name = "N", help_heading = "Generation",
          help = help::with_default("How often a chunk whose answer holds no pair is asked again, with the parser's error", DEFAULT_PARSE_RETRIES))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_retries: Option<u32>,
}
