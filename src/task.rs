//! What kind of example a run makes (`--task qa|reasoning|conversation`), the
//! exchanges a conversation holds, and how its reasoning and turns are written out.
//! Ground-floor vocabulary: the settings, the prompt, the answer schema, the parser
//! call, the checkpoint, the gate and the output formats all read it, so it imports
//! none of them.

use serde::{Deserialize, Serialize};

/// What kind of example a run asks the model for.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// A question and its answer: the original tool's pairs.
    #[default]
    Qa,
    /// A question, the reasoning from the chunk to the answer, and the answer.
    Reasoning,
    /// A conversation of `--turns` exchanges, each follow-up building on the earlier
    /// answers.
    Conversation,
}

impl Task {
    /// The task's name, as `--task` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Task::Qa => "qa",
            Task::Reasoning => "reasoning",
            Task::Conversation => "conversation",
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One exchange of a conversation: the user's message and the assistant's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub question: String,
    pub answer: String,
}

/// Where chat formats write an example's reasoning (`--reasoning-style`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningStyle {
    /// In a `<think>…</think>` block before the answer, in the assistant's turn (the
    /// Qwen3 and DeepSeek-R1 chat templates).
    #[default]
    Think,
    /// In a `reasoning_content` field of the assistant's turn.
    Field,
}

/// What the quality gate does with a conversation one of whose turns fails it
/// (`--conversation-cut`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ConversationCut {
    /// Keep the exchanges before the first bad one (none, if it is the first).
    #[default]
    Cut,
    /// Drop the whole conversation.
    Drop,
}

/// What a chunk's prompt asked the model for: what its answer's parser is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The examples asked for (pairs, or conversations).
    pub examples: u32,
    /// The names of the question types asked for (empty when no mix was asked).
    pub question_types: Vec<String>,
    pub task: Task,
    /// The exchanges of each conversation, the first included; 1 for the other tasks.
    pub turns: u32,
}

/// Conversations' exchanges when `--turns` is not given.
pub const DEFAULT_TURNS: u32 = 3;

impl Asked {
    /// `examples` question-answer pairs of no particular type: what the original
    /// tool asked.
    pub fn pairs(examples: u32) -> Self {
        Asked {
            examples,
            question_types: Vec::new(),
            task: Task::Qa,
            turns: 1,
        }
    }
}
