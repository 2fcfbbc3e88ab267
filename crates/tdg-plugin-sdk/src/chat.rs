//! An example as chat turns, the shape every chat format writes (ShareGPT, OpenAI
//! messages): the user's and the assistant's messages in order, with the reasoning
//! where the user asked for it (`--reasoning-style`). Here once, so that each chat
//! format only names its keys.

use crate::{Options, PluginError, ReasoningStyle, TrainingExample, Turn};

/// An example's exchanges in order: the first (`question`, `answer`), then the
/// follow-ups. [`crate::Example`] and [`TrainingExample`] both walk theirs so.
pub(crate) fn exchanges<'a>(
    question: &'a str,
    answer: &'a str,
    follow_ups: &'a [Turn],
) -> impl Iterator<Item = (&'a str, &'a str)> {
    std::iter::once((question, answer)).chain(
        follow_ups
            .iter()
            .map(|turn| (turn.question.as_str(), turn.answer.as_str())),
    )
}

/// A training example with empty provenance, for the SDK's own tests.
#[cfg(test)]
pub(crate) fn test_example(question: &str, answer: &str) -> TrainingExample {
    TrainingExample {
        question: question.into(),
        answer: answer.into(),
        reasoning: None,
        reasoning_style: ReasoningStyle::Think,
        follow_ups: Vec::new(),
        source_text: String::new(),
        provenance: crate::Provenance {
            source_file: String::new(),
            file_name: String::new(),
            file_type: String::new(),
            chunk_id: String::new(),
            chunk_index: 0,
            chunk_start: 0,
            chunk_end: 0,
        },
    }
}

/// One message of an example written as a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    /// `true` for the assistant's message, `false` for the user's.
    pub assistant: bool,
    /// The message's text: with [`ReasoningStyle::Think`], the first answer starts
    /// with its reasoning in a `<think>` block.
    pub content: String,
    /// With [`ReasoningStyle::Field`], the first answer's reasoning, for a field of
    /// its own (`reasoning_content`).
    pub reasoning: Option<String>,
}

impl TrainingExample {
    /// Every exchange of the example in order: the first, then the follow-ups.
    pub fn exchanges(&self) -> impl Iterator<Item = (&str, &str)> {
        exchanges(&self.question, &self.answer, &self.follow_ups)
    }

    /// The answer with the reasoning before it in a `<think>` block, when the example
    /// has reasoning: how the Qwen3 and DeepSeek-R1 chat templates write a reasoning
    /// turn.
    pub fn answer_with_thinking(&self) -> String {
        match &self.reasoning {
            Some(reasoning) => format!("<think>\n{reasoning}\n</think>\n\n{}", self.answer),
            None => self.answer.clone(),
        }
    }

    /// The answer as a one-text format (Alpaca) writes it: alone, or with
    /// `--format-opt reasoning=think` after its reasoning in a `<think>` block. Any
    /// other `reasoning=` value is refused in `format`'s name.
    pub fn answer_as_asked(&self, format: &str, options: &Options) -> Result<String, PluginError> {
        match options.last("reasoning") {
            Some("think") => Ok(self.answer_with_thinking()),
            Some(other) => Err(PluginError::new(format!(
                "unknown value `reasoning={other}`; the {format} format accepts `reasoning=think`"
            ))),
            None => Ok(self.answer.clone()),
        }
    }

    /// The example as chat messages: the user's question, the assistant's answer
    /// (with its reasoning as [`TrainingExample::reasoning_style`] says), then each
    /// follow-up exchange.
    pub fn chat_turns(&self) -> Vec<ChatTurn> {
        let mut turns = Vec::with_capacity(2 + 2 * self.follow_ups.len());
        for (index, (question, answer)) in self.exchanges().enumerate() {
            turns.push(ChatTurn {
                assistant: false,
                content: question.to_string(),
                reasoning: None,
            });
            let (content, reasoning) = match (index, self.reasoning_style) {
                (0, ReasoningStyle::Think) => (self.answer_with_thinking(), None),
                (0, ReasoningStyle::Field) => (answer.to_string(), self.reasoning.clone()),
                _ => (answer.to_string(), None),
            };
            turns.push(ChatTurn {
                assistant: true,
                content,
                reasoning,
            });
        }
        turns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(style: ReasoningStyle) -> TrainingExample {
        TrainingExample {
            reasoning: Some("R".into()),
            reasoning_style: style,
            follow_ups: vec![Turn {
                question: "Q2".into(),
                answer: "A2".into(),
            }],
            ..test_example("Q1", "A1")
        }
    }

    #[test]
    fn the_reasoning_goes_where_the_style_says_and_only_on_the_first_answer() {
        let think = example(ReasoningStyle::Think).chat_turns();
        let contents: Vec<_> = think.iter().map(|t| t.content.as_str()).collect();
        assert_eq!(contents, ["Q1", "<think>\nR\n</think>\n\nA1", "Q2", "A2"]);
        assert!(think.iter().all(|t| t.reasoning.is_none()));
        let field = example(ReasoningStyle::Field).chat_turns();
        let contents: Vec<_> = field.iter().map(|t| t.content.as_str()).collect();
        assert_eq!(contents, ["Q1", "A1", "Q2", "A2"]);
        assert_eq!(field[1].reasoning.as_deref(), Some("R"));
        assert_eq!(field[3].reasoning, None);
        let roles: Vec<_> = field.iter().map(|t| t.assistant).collect();
        assert_eq!(roles, [false, true, false, true]);
    }
}
