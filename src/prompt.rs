//! Building the prompt for a chunk: the chunk, its document and the user's settings
//! go to the prompt plugin, which returns the chat messages.

use serde_json::Value;

use crate::chunks::{Chunk, ChunkFile};
use crate::generate::settings::PromptSettings;
use crate::plugin::{PluginError, PromptPlugin, prompt, types};
use crate::provider::Message;

/// The prompt stage: a prompt plugin and the settings it is fed.
pub struct PromptBuilder {
    plugin: PromptPlugin,
    settings: types::Settings,
}

impl PromptBuilder {
    pub fn new(plugin: PromptPlugin, settings: &PromptSettings) -> Self {
        let (template_name, template) = match &settings.template {
            Some((name, source)) => (Some(name.clone()), Some(source.clone())),
            None => (None, None),
        };
        let settings = types::Settings {
            questions_per_chunk: settings.questions_per_chunk,
            extra_instructions: settings.extra_instructions.clone(),
            system_message: settings.system_message.clone(),
            user_template: template,
            user_template_name: template_name,
            vars: settings
                .vars
                .iter()
                .map(|(key, value)| types::KeyValue {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        };
        PromptBuilder { plugin, settings }
    }

    /// The messages for one chunk of `doc`.
    pub fn build(&self, doc: &ChunkFile, chunk: &Chunk) -> Result<Vec<Message>, PluginError> {
        let request = prompt::PromptRequest {
            chunk: types::Chunk {
                text: chunk.text.clone(),
                id: chunk.chunk_id.clone(),
                position: chunk.position,
                index: chunk.chunk_index,
                start: chunk.start_char,
                end: chunk.end_char,
                metadata_json: Value::Object(chunk.metadata.clone()).to_string(),
            },
            document: types::Document {
                file_name: doc.metadata_text("file_name").to_string(),
                source_file: doc.metadata_text("source_file").to_string(),
                file_type: doc.metadata_text("file_type").to_string(),
                metadata_json: Value::Object(doc.metadata.clone()).to_string(),
            },
            settings: self.settings.clone(),
        };
        let messages = self.plugin.build_prompt(&request)?;
        Ok(messages
            .into_iter()
            .map(|m| Message {
                role: m.role,
                content: m.content,
            })
            .collect())
    }
}
