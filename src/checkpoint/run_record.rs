//! The run record: the settings a chunk was made with, one typed shape for every
//! writer of the checkpoint (a tdg run, or an import of the original tool's files).
//!
//! It is stored once per distinct value in the `settings` table and read back by
//! `reparse` (the questions asked for) and `validate` (the run's provider, model and
//! servers, to judge with the same model by default). It never holds a key.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::task::{Asked, Task};

/// The original tool's default of pairs asked for per chunk.
const DEFAULT_QUESTIONS: u32 = 3;

/// The settings a run's chunks were made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunRecord {
    /// Set when the chunks were imported from a Q&A file of the original tool: the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
    pub provider: String,
    pub model: String,
    pub base_urls: Vec<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub structured: bool,
    /// Answers were quoted from the chunk (`--quote-answers`); absent (false) in
    /// records made before the option.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub quote_answers: bool,
    pub ollama: OllamaRecord,
    pub questions_per_chunk: u32,
    /// The mix of question types asked for (`--question-types`), in the order given;
    /// empty (and not stored) when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub question_types: Vec<(String, u32)>,
    pub system_message: Option<String>,
    pub extra_instructions: Option<String>,
    /// The name of the prompt template file, if one replaced the default.
    pub template: Option<String>,
    pub vars: Vec<(String, String)>,
    pub prompt_plugin: Option<String>,
    pub parser: Option<String>,
    /// The task (`--task`); absent (and not stored) for `qa`, so that a record made
    /// before there were tasks reads, and hashes, the same.
    #[serde(skip_serializing_if = "is_qa")]
    pub task: Task,
    /// The exchanges of each conversation (`--turns`); absent for the other tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turns: Option<u32>,
}

fn is_qa(task: &Task) -> bool {
    *task == Task::Qa
}

/// Ollama's sampling options, as the run set them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OllamaRecord {
    pub top_k: Option<u32>,
    pub top_p: Option<f64>,
    pub repeat_penalty: Option<f64>,
    pub num_predict: Option<i32>,
    pub stop: Vec<String>,
}

impl Default for RunRecord {
    fn default() -> Self {
        RunRecord {
            imported_from: None,
            provider: String::new(),
            model: String::new(),
            base_urls: Vec::new(),
            temperature: None,
            max_tokens: None,
            structured: false,
            quote_answers: false,
            ollama: OllamaRecord::default(),
            questions_per_chunk: DEFAULT_QUESTIONS,
            question_types: Vec::new(),
            system_message: None,
            extra_instructions: None,
            template: None,
            vars: Vec::new(),
            prompt_plugin: None,
            parser: None,
            task: Task::Qa,
            turns: None,
        }
    }
}

impl RunRecord {
    /// The record of chunks imported from the original tool's Q&A file `path`, whose
    /// `qa_generation_info` says how they were made.
    pub fn imported(path: impl Into<String>, generation_info: &Map<String, Value>) -> Self {
        let text = |key: &str| {
            generation_info
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let number = |key: &str| generation_info.get(key).and_then(Value::as_u64);
        RunRecord {
            imported_from: Some(path.into()),
            provider: text("provider"),
            model: text("model"),
            temperature: generation_info.get("temperature").and_then(Value::as_f64),
            max_tokens: number("max_tokens").and_then(|n| u32::try_from(n).ok()),
            questions_per_chunk: number("questions_per_chunk")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(DEFAULT_QUESTIONS),
            ..Default::default()
        }
    }

    /// Reads a stored record, including the shape schema 1 gave imports
    /// (`{"imported_from": …, "qa_generation_info": {…}}`).
    pub fn from_stored(json: &str) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_str(json)?;
        if let (Some(path), Some(Value::Object(info))) = (
            value.get("imported_from").and_then(Value::as_str),
            value.get("qa_generation_info"),
        ) {
            return Ok(RunRecord::imported(path, info));
        }
        serde_json::from_value(value)
    }

    /// The stored form: one line of JSON.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("a run record serializes")
    }

    /// The names of the question types asked for, in the order given (empty when no
    /// mix was asked): what the parser checks each pair's type against.
    pub fn question_type_names(&self) -> Vec<String> {
        self.question_types
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// What the chunks' prompts asked for: what their answers' parser is told.
    pub fn asked(&self) -> Asked {
        Asked {
            examples: self.questions_per_chunk,
            question_types: self.question_type_names(),
            task: self.task,
            turns: self.turns.unwrap_or(1).max(1),
        }
    }

    /// Whether the chunks were imported rather than generated by tdg.
    pub fn is_imported(&self) -> bool {
        self.imported_from.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_schema_1_shapes_read_as_one_record() {
        let generated = RunRecord::from_stored(
            r#"{"provider":"openai","model":"m","base_urls":["http://x"],"temperature":0.7,"max_tokens":2000,
                "structured":false,"ollama":{"top_k":null,"top_p":null,"repeat_penalty":null,"num_predict":null,"stop":[]},
                "questions_per_chunk":5,"system_message":null,"extra_instructions":null,"template":null,"vars":[],
                "prompt_plugin":"default-prompt","parser":"default-prompt"}"#,
        )
        .unwrap();
        assert_eq!(generated.provider, "openai");
        assert_eq!(generated.questions_per_chunk, 5);
        assert_eq!(generated.base_urls, ["http://x"]);
        assert!(!generated.is_imported());
        // The stored form reads back as the same record, and a run without a mix of
        // question types stores the same text as before there was one.
        assert_eq!(
            RunRecord::from_stored(&generated.to_stored()).unwrap(),
            generated
        );
        assert!(generated.question_types.is_empty());
        assert!(!generated.to_stored().contains("question_types"));

        let imported = RunRecord::from_stored(
            &json!({"imported_from": "qa/A_qa.json", "qa_generation_info": {"provider": "local", "model": "qwen3:14b", "questions_per_chunk": 4}})
                .to_string(),
        )
        .unwrap();
        assert!(imported.is_imported());
        assert_eq!(
            (
                imported.provider.as_str(),
                imported.model.as_str(),
                imported.questions_per_chunk
            ),
            ("local", "qwen3:14b", 4)
        );
    }

    #[test]
    fn the_mix_of_question_types_is_stored_and_read_back() {
        let record = RunRecord {
            questions_per_chunk: 3,
            question_types: vec![("factual".into(), 2), ("inferential".into(), 1)],
            ..Default::default()
        };
        let stored = record.to_stored();
        assert!(
            stored.contains(r#""question_types":[["factual",2],["inferential",1]]"#),
            "{stored}"
        );
        let read = RunRecord::from_stored(&stored).unwrap();
        assert_eq!(read, record);
        assert_eq!(read.question_type_names(), ["factual", "inferential"]);
    }
}
