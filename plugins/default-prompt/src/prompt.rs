//! The prompt role: build the system and user messages for one chunk.

use crate::DefaultPrompt;
use tdg_plugin_sdk::{Message, PluginError, Prompt, PromptRequest, Task, render_template};

/// The built-in user prompts, minijinja templates: one per task.
const QA_TEMPLATE: &str = include_str!("../../../templates/qa_prompt.jinja");
const REASONING_TEMPLATE: &str = include_str!("../../../templates/reasoning_prompt.jinja");
const CONVERSATION_TEMPLATE: &str = include_str!("../../../templates/conversation_prompt.jinja");
/// The built-in system message.
const DEFAULT_SYSTEM_MESSAGE: &str = include_str!("../../../templates/system_message.txt");

/// The built-in template of `task`, with the name it is known by in messages.
fn builtin_template(task: Task) -> (&'static str, &'static str) {
    match task {
        Task::Qa => ("templates/qa_prompt.jinja", QA_TEMPLATE),
        Task::Reasoning => ("templates/reasoning_prompt.jinja", REASONING_TEMPLATE),
        Task::Conversation => ("templates/conversation_prompt.jinja", CONVERSATION_TEMPLATE),
    }
}

/// The task's name, as `--task` spells it and templates read it.
fn task_name(task: Task) -> &'static str {
    match task {
        Task::Qa => "qa",
        Task::Reasoning => "reasoning",
        Task::Conversation => "conversation",
    }
}

/// Parses a JSON object text handed over by the host; anything else becomes `{}`.
fn json_object(text: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Object(_)) => value,
        _ => serde_json::Value::Object(Default::default()),
    }
}

impl Prompt for DefaultPrompt {
    fn build_prompt(request: PromptRequest) -> Result<Vec<Message>, PluginError> {
        let PromptRequest {
            chunk,
            document,
            settings,
        } = request;
        let vars: serde_json::Map<String, serde_json::Value> = settings
            .vars
            .iter()
            .map(|kv| (kv.key.clone(), serde_json::Value::String(kv.value.clone())))
            .collect();
        let context = serde_json::json!({
            "text": chunk.text,
            "num_questions": settings.questions_per_chunk,
            "task": task_name(settings.task),
            "turns": settings.turns,
            "question_types": settings
                .question_types
                .iter()
                .map(|kind| serde_json::json!({"name": kind.name, "count": kind.count}))
                .collect::<Vec<_>>(),
            "extra_instructions": settings.extra_instructions.clone().unwrap_or_default(),
            "chunk": {
                "id": chunk.id,
                "position": chunk.position,
                "index": chunk.index,
                "start": chunk.start,
                "end": chunk.end,
                "metadata": json_object(&chunk.metadata_json),
            },
            "document": {
                "file_name": document.file_name,
                "source_file": document.source_file,
                "file_type": document.file_type,
                "metadata": json_object(&document.metadata_json),
            },
            "vars": vars,
        });
        let (name, source) = match (&settings.user_template, &settings.user_template_name) {
            (Some(source), name) => (
                name.clone().unwrap_or_else(|| "user template".into()),
                source.as_str(),
            ),
            (None, _) => {
                let (name, source) = builtin_template(settings.task);
                (name.to_string(), source)
            }
        };
        let user = render_template(&name, source, &context.to_string()).map_err(|error| {
            PluginError::new(match error.line {
                Some(line) => format!("template {}:{line}: {}", error.name, error.message),
                None => format!("template {}: {}", error.name, error.message),
            })
        })?;
        let system = settings
            .system_message
            .unwrap_or_else(|| DEFAULT_SYSTEM_MESSAGE.to_string());
        Ok(vec![
            Message::new("system", system),
            Message::new("user", user),
        ])
    }
}
