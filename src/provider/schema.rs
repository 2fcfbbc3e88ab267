//! The answer's JSON schema: what `--structured` asks servers for (OpenAI
//! `response_format`, Ollama `format`, Gemini `responseSchema`) and what the embedded
//! engine's grammar is made from, so that every path bounds the answer the same way.
//! Generation asks for question-answer pairs; `validate`'s judge asks for scores.

use serde_json::{Value, json};

use crate::generate::settings::QUESTION_TYPES;

/// What shape of answer a run asks the model for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnswerSchema {
    /// `{"qa_pairs": [{"question", "answer", "type"}, ...]}`, with exactly this many pairs
    /// when the number asked is known (unbounded, a small model writes many
    /// near-repeats).
    #[default]
    Pairs,
    /// The same, bounded to the pairs asked.
    PairsExactly(u32),
    /// The judge's `{"accuracy", "completeness", "consistency", "explanation"}`, each
    /// score an integer from 0 to 10.
    JudgeScores,
}

impl AnswerSchema {
    /// The JSON schema of this answer.
    pub fn json(self) -> Value {
        match self {
            AnswerSchema::Pairs => qa_schema(None),
            AnswerSchema::PairsExactly(pairs) => qa_schema(Some(pairs)),
            AnswerSchema::JudgeScores => judge_schema(),
        }
    }
}

/// The JSON schema of an answer holding question-answer pairs, each labelled with its
/// question type, with the array bounded to `pairs` items when given.
pub fn qa_schema(pairs: Option<u32>) -> Value {
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
                        "type": {"type": "string", "enum": QUESTION_TYPES},
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
        let bounded = AnswerSchema::PairsExactly(3).json();
        assert_eq!(bounded["properties"]["qa_pairs"]["minItems"], 3);
        assert_eq!(bounded["properties"]["qa_pairs"]["maxItems"], 3);
        let open = AnswerSchema::Pairs.json();
        assert!(open["properties"]["qa_pairs"].get("maxItems").is_none());
    }

    #[test]
    fn each_pair_is_asked_for_its_question_type() {
        let schema = AnswerSchema::PairsExactly(2).json();
        let item = &schema["properties"]["qa_pairs"]["items"];
        assert_eq!(
            item["properties"]["type"],
            json!({"type": "string", "enum": ["factual", "analytical", "explanatory", "inferential"]})
        );
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
