//! What a run records of itself: the typed [`RunRecord`] every chunk outcome keeps
//! (never the key), and the original tool's `qa_generation_info` for the Q&A files.

use serde_json::{Map, Value, json};

use super::settings::GenerateSettings;
use crate::checkpoint::{OllamaRecord, RunRecord};

/// The original's `qa_generation_info`, without `generated_at`.
pub(super) fn generation_info(settings: &GenerateSettings) -> Map<String, Value> {
    let mut info = Map::new();
    info.insert("provider".into(), json!(settings.model.provider.name()));
    info.insert("model".into(), json!(settings.model.model));
    info.insert(
        "questions_per_chunk".into(),
        json!(settings.prompt.questions_per_chunk),
    );
    info.insert("temperature".into(), json!(settings.model.temperature));
    info.insert("max_tokens".into(), json!(settings.model.max_tokens));
    info
}

/// The record of the settings this run's chunks are made with (never the key).
pub(super) fn run_record(settings: &GenerateSettings) -> RunRecord {
    let model = &settings.model;
    let prompt = &settings.prompt;
    RunRecord {
        imported_from: None,
        provider: model.provider.name().to_string(),
        model: model.model.clone(),
        base_urls: model
            .base_urls
            .iter()
            .map(|url| crate::redact::url(url))
            .collect(),
        temperature: Some(model.temperature),
        max_tokens: Some(model.max_tokens),
        structured: model.structured,
        quote_answers: model.quote_answers,
        ollama: OllamaRecord {
            top_k: model.ollama.top_k,
            top_p: model.ollama.top_p,
            repeat_penalty: model.ollama.repeat_penalty,
            num_predict: model.ollama.num_predict,
            stop: model.ollama.stop.clone(),
        },
        questions_per_chunk: prompt.questions_per_chunk,
        question_types: prompt.question_types.counts().to_vec(),
        system_message: prompt.system_message.clone(),
        extra_instructions: prompt.extra_instructions.clone(),
        template: prompt.template.as_ref().map(|(name, _)| name.clone()),
        vars: prompt.vars.clone(),
        prompt_plugin: Some(prompt.prompt_plugin.display_name()),
        parser: Some(prompt.parser.display_name()),
        task: prompt.task,
        turns: (prompt.task == crate::task::Task::Conversation).then_some(prompt.turns),
    }
}
