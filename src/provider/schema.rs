//! The answer's JSON schema: what `--structured` asks servers for (OpenAI
//! `response_format`, Ollama `format`, Gemini `responseSchema`) and what the embedded
//! engine's grammar is made from, so that every path bounds the answer the same way.

use serde_json::{Value, json};

use crate::generate::settings::QUESTION_TYPES;

/// The JSON schema of the answer asked for with `--structured`, with the array
/// bounded to `pairs` items when the number asked is known (unbounded, a small model
/// writes many near-repeats).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pair_is_asked_for_its_question_type() {
        let schema = qa_schema(Some(2));
        let item = &schema["properties"]["qa_pairs"]["items"];
        assert_eq!(
            item["properties"]["type"],
            json!({"type": "string", "enum": ["factual", "analytical", "explanatory", "inferential"]})
        );
        assert_eq!(item["required"], json!(["question", "answer", "type"]));
        assert_eq!(item["additionalProperties"], false);
    }
}
