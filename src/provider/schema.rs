//! The answer's JSON schema: what `--structured` asks servers for (OpenAI
//! `response_format`, Ollama `format`, Gemini `responseSchema`) and what the embedded
//! engine's grammar is made from, so that every path bounds the answer the same way.

use serde_json::{Value, json};

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
                    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
                    "required": ["question", "answer"],
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
