//! The answer's JSON schema: what `--structured` asks servers for (OpenAI
//! `response_format`, Ollama `format`, Gemini `responseSchema`) and what the embedded
//! engine's grammar is made from, so that every path bounds the answer the same way.
//! Generation asks for question-answer pairs; `validate`'s judge asks for scores.

use serde_json::{Value, json};

use crate::question_types::QUESTION_TYPES;

/// The question types a schema lets a pair be labelled with: a set of
/// [`QUESTION_TYPES`], by their place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeSet(u8);

impl TypeSet {
    /// Every known type: what a run without `--question-types` may get.
    pub const ALL: TypeSet = TypeSet((1 << QUESTION_TYPES.len()) - 1);

    /// The known types among `names`; every known type when none of them is one.
    pub fn of<S: AsRef<str>>(names: &[S]) -> TypeSet {
        let bits = QUESTION_TYPES
            .iter()
            .enumerate()
            .filter(|(_, known)| names.iter().any(|name| name.as_ref() == **known))
            .fold(0, |bits, (i, _)| bits | 1 << i);
        if bits == 0 {
            TypeSet::ALL
        } else {
            TypeSet(bits)
        }
    }

    /// The names in the set, in [`QUESTION_TYPES`] order.
    pub fn names(self) -> Vec<&'static str> {
        QUESTION_TYPES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & 1 << i != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

/// What shape of answer a run asks the model for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnswerSchema {
    /// `{"qa_pairs": [{"question", "answer", "type"}, ...]}`, with exactly this many pairs
    /// when the number asked is known (unbounded, a small model writes many
    /// near-repeats).
    #[default]
    Pairs,
    /// The same, bounded to the pairs asked, each labelled with one of the types asked
    /// (`--question-types`), so that a model decoding under the schema cannot label a
    /// pair with a type nobody asked for.
    PairsExactly(u32, TypeSet, ExampleShape),
    /// The judge's `{"accuracy", "completeness", "consistency", "explanation"}`, each
    /// score an integer from 0 to 10.
    JudgeScores,
}

impl AnswerSchema {
    /// The JSON schema of this answer.
    pub fn json(self) -> Value {
        match self {
            AnswerSchema::Pairs => qa_schema(None, TypeSet::ALL),
            AnswerSchema::PairsExactly(pairs, types, shape) => {
                shape.extend(qa_schema(Some(pairs), types))
            }
            AnswerSchema::JudgeScores => judge_schema(),
        }
    }
}

/// What each item of the answer holds besides its question, answer and type: the
/// task's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExampleShape {
    /// Nothing more (`--task qa`).
    #[default]
    Pair,
    /// A `reasoning` string, written before the answer (`--task reasoning`).
    Reasoning,
    /// `follow_ups`: exactly this many more `{"question", "answer"}` exchanges
    /// (`--task conversation`, `--turns` less the first).
    FollowUps(u32),
}

impl ExampleShape {
    /// The shape of `task`'s examples, `turns` exchanges long.
    pub fn of(task: crate::task::Task, turns: u32) -> Self {
        match task {
            crate::task::Task::Qa => ExampleShape::Pair,
            crate::task::Task::Reasoning => ExampleShape::Reasoning,
            crate::task::Task::Conversation => ExampleShape::FollowUps(turns.saturating_sub(1)),
        }
    }

    /// How many question-answer exchanges each item holds.
    pub fn exchanges(self) -> u32 {
        match self {
            ExampleShape::FollowUps(more) => 1 + more,
            ExampleShape::Pair | ExampleShape::Reasoning => 1,
        }
    }

    /// `schema` (a [`qa_schema`]) with this shape's fields in its items.
    fn extend(self, mut schema: Value) -> Value {
        let item = &mut schema["properties"]["qa_pairs"]["items"];
        match self {
            ExampleShape::Pair => {}
            ExampleShape::Reasoning => {
                // Reasoning before the answer: decoded in order, the answer follows it.
                let properties = json!({
                    "question": {"type": "string"},
                    "reasoning": {"type": "string"},
                    "answer": {"type": "string"},
                    "type": item["properties"]["type"].clone(),
                });
                item["properties"] = properties;
                item["required"] = json!(["question", "reasoning", "answer", "type"]);
            }
            ExampleShape::FollowUps(more) => {
                item["properties"]["follow_ups"] = json!({
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "question": {"type": "string"},
                            "answer": {"type": "string"},
                        },
                        "required": ["question", "answer"],
                        "additionalProperties": false,
                    },
                    "minItems": more,
                    "maxItems": more,
                });
                item["required"] = json!(["question", "answer", "type", "follow_ups"]);
            }
        }
        schema
    }
}

/// Characters a token stands for, at the least, in English JSON text.
pub const CHARS_PER_TOKEN: u32 = 3;

/// The most characters a pair's question and its answer may take, in that order, for
/// `pairs` pairs to fit in `max_tokens` together: each pair's share, less the JSON
/// around it (keys, quotes, braces and the longest question type), a quarter for the
/// question and the rest for the answer.
pub fn pair_char_budget(max_tokens: u32, pairs: u32) -> (u32, u32) {
    let per_pair = (max_tokens * CHARS_PER_TOKEN / pairs.max(1)).saturating_sub(65);
    let question = (per_pair / 4).clamp(40, 300);
    let answer = (per_pair - per_pair / 4).clamp(40, 1000);
    (question, answer)
}

/// The JSON schema of an answer holding question-answer pairs, each labelled with one
/// of `types`, with the array bounded to `pairs` items when given.
pub fn qa_schema(pairs: Option<u32>, types: TypeSet) -> Value {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "qa_pairs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "question": {"type": "string"},
                        "answer": {"type": "string"},
                        "type": {"type": "string", "enum": types.names()},
                    },
                    // Every property is required, as OpenAI's strict mode wants; the
                    // parser still reads pairs without a type.
                    "required": ["question", "answer", "type"],
                    "additionalProperties": false,
                },
            },
        },
        "required": ["qa_pairs"],
        "additionalProperties": false,
    });
    if let Some(pairs) = pairs {
        schema["properties"]["qa_pairs"]["minItems"] = json!(pairs);
        schema["properties"]["qa_pairs"]["maxItems"] = json!(pairs);
    }
    schema
}

/// The JSON schema of the judge's answer (`tdg validate`).
pub fn judge_schema() -> Value {
    let score = json!({"type": "integer", "minimum": 0, "maximum": 10});
    json!({
        "type": "object",
        "properties": {
            "accuracy": score,
            "completeness": score,
            "consistency": score,
            "explanation": {"type": "string"},
        },
        "required": ["accuracy", "completeness", "consistency", "explanation"],
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_bounded_only_when_the_number_is_known() {
        let bounded = AnswerSchema::PairsExactly(3, TypeSet::ALL, ExampleShape::Pair).json();
        assert_eq!(bounded["properties"]["qa_pairs"]["minItems"], 3);
        assert_eq!(bounded["properties"]["qa_pairs"]["maxItems"], 3);
        let open = AnswerSchema::Pairs.json();
        assert!(open["properties"]["qa_pairs"].get("maxItems").is_none());
    }

    #[test]
    fn each_pair_is_asked_for_its_question_type() {
        let schema = AnswerSchema::PairsExactly(2, TypeSet::ALL, ExampleShape::Pair).json();
        let item = &schema["properties"]["qa_pairs"]["items"];
        assert_eq!(
            item["properties"]["type"],
            json!({"type": "string", "enum": ["factual", "analytical", "explanatory", "inferential"]})
        );
        // With a mix, only the types asked for, in their canonical order.
        let mix = AnswerSchema::PairsExactly(
            3,
            TypeSet::of(&["inferential", "factual"]),
            ExampleShape::Pair,
        )
        .json();
        assert_eq!(
            mix["properties"]["qa_pairs"]["items"]["properties"]["type"]["enum"],
            json!(["factual", "inferential"])
        );
        assert_eq!(TypeSet::of::<&str>(&[]), TypeSet::ALL);
        assert_eq!(item["required"], json!(["question", "answer", "type"]));
        assert_eq!(item["additionalProperties"], false);
    }

    #[test]
    fn the_judge_schema_asks_for_every_score_the_reader_needs() {
        let schema = AnswerSchema::JudgeScores.json();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key.as_str().unwrap())
            .collect();
        for key in ["accuracy", "completeness", "consistency"] {
            assert!(required.contains(&key));
            assert_eq!(schema["properties"][key]["maximum"], 10);
        }
    }
}
