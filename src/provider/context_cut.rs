//! What the embedded engine says when a chunk's prompt leaves its answer less room
//! than `--max-tokens`: the tokens on each side, and what to change (a larger
//! `--context-size` where the model's trained context allows it, smaller chunks where
//! it does not). A record beside the answer, so that the pipeline says it per chunk.

use std::fmt;

/// An answer given less room than `--max-tokens` because its prompt took the rest of
/// a sequence's context (the embedded engine). Its grammar was made for the room
/// left, so the answer still parses; what it says tells what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextCut {
    pub prompt_tokens: u32,
    /// The answer tokens the context left.
    pub answer_tokens: u32,
    pub max_tokens: u32,
    /// A sequence's context, in tokens.
    pub context: u32,
    /// The context the model was trained on: the most `--context-size` can give.
    pub trained_context: u32,
}

impl ContextCut {
    /// The `--context-size` that fits a prompt of `prompt_tokens` and an answer of
    /// `max_tokens`, if the model's trained context allows it.
    pub fn context_needed(prompt_tokens: u32, max_tokens: u32, trained: u32) -> Option<u32> {
        let needed = (prompt_tokens + max_tokens + 1).div_ceil(256) * 256;
        (needed <= trained).then_some(needed)
    }

    /// What to change, for a prompt of `prompt_tokens` in a context of `context`.
    pub fn advice(prompt_tokens: u32, max_tokens: u32, trained: u32) -> String {
        match Self::context_needed(prompt_tokens, max_tokens, trained) {
            Some(needed) => format!(
                "give --context-size {needed} (the model was trained on {trained}) or make smaller chunks"
            ),
            None => format!(
                "the model was trained on {trained} tokens, too few for this prompt and --max-tokens {max_tokens}: make smaller chunks or lower --max-tokens"
            ),
        }
    }
}

impl fmt::Display for ContextCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "its prompt is {} tokens, which leaves {} of --max-tokens {} for the answer in a sequence's context of {} tokens; {}",
            self.prompt_tokens,
            self.answer_tokens,
            self.max_tokens,
            self.context,
            Self::advice(self.prompt_tokens, self.max_tokens, self.trained_context)
        )
    }
}
