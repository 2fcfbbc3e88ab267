//! Building the prompt for a chunk: the chunk, its document and the user's settings
//! (the mix of question types among them) go to the prompt plugin, which returns the
//! chat messages. It owns its settings ([`PromptSettings`]): how prompts are built
//! and answers parsed.

use serde_json::Value;

use crate::chat::Message;
use crate::chunks::{Chunk, ChunkFile};
use crate::plugin::{PluginError, PluginSource, PromptPlugin, prompt, types};
use crate::question_types::QuestionMix;

/// Pairs asked for per chunk, when not given.
pub const DEFAULT_QUESTIONS_PER_CHUNK: u32 = 3;
/// How often a chunk whose answer held no pair is asked again, when not given.
pub const DEFAULT_PARSE_RETRIES: u32 = 1;
/// The prompt plugin and the parser, when not given.
pub const DEFAULT_PROMPT_PLUGIN: &str = "default-prompt";
/// How prompts are built and answers parsed.
#[derive(Debug, Clone)]
pub struct PromptSettings {
    /// Pairs asked for per chunk; with a mix of question types, the mix's total.
    pub questions_per_chunk: u32,
    /// The mix of question types asked for (empty: diverse types).
    pub question_types: QuestionMix,
    pub system_message: Option<String>,
    pub extra_instructions: Option<String>,
    /// A user template replacing the default prompt: (file name, source).
    pub template: Option<(String, String)>,
    pub vars: Vec<(String, String)>,
    pub prompt_plugin: PluginSource,
    pub parser: PluginSource,
    /// How often a chunk whose answer held no pair is asked again.
    pub parse_retries: u32,
    /// What kind of example to ask for (`--task`).
    pub task: crate::task::Task,
    /// Exchanges per conversation, the first included (`--turns`); 1 for the other
    /// tasks.
    pub turns: u32,
}

/// Added to the prompt's extra instructions when answers are quoted from the chunk
/// (`--quote-answers`), so that the model knows what the grammar will hold it to. On
/// SmolLM2-135M it raised the pairs worth keeping on 20 GPL-3 chunks from 1 in 5 kept
/// to 2 in 4 (BENCHMARKS.md).
pub const QUOTED_ANSWERS_INSTRUCTION: &str = "Each answer will be one sentence copied from the text. Its question must be a real question, ending with a question mark, that this sentence answers.";

/// The prompt stage: a prompt plugin and the settings it is fed.
pub struct PromptBuilder {
    plugin: PromptPlugin,
    settings: types::Settings,
}

impl PromptBuilder {
    /// The prompt of `settings`; with `quoted_answers`, the instructions say that each
    /// answer is a sentence of the text ([`QUOTED_ANSWERS_INSTRUCTION`], after the
    /// user's own).
    pub fn new(plugin: PromptPlugin, settings: &PromptSettings, quoted_answers: bool) -> Self {
        let (template_name, template) = match &settings.template {
            Some((name, source)) => (Some(name.clone()), Some(source.clone())),
            None => (None, None),
        };
        let settings = types::Settings {
            questions_per_chunk: settings.questions_per_chunk,
            task: settings.task.into(),
            turns: settings.turns,
            question_types: settings
                .question_types
                .counts()
                .iter()
                .map(|(name, count)| types::QuestionCount {
                    name: name.clone(),
                    count: *count,
                })
                .collect(),
            extra_instructions: match (&settings.extra_instructions, quoted_answers) {
                (Some(own), true) => Some(format!("{own}\n{QUOTED_ANSWERS_INSTRUCTION}")),
                (None, true) => Some(QUOTED_ANSWERS_INSTRUCTION.to_string()),
                (own, false) => own.clone(),
            },
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

/// Why a prompt cannot be previewed.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("cannot read {}: {source}", path.display())]
    List {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no chunk file matches `{0}` in the chunks directory: give a file name or stem, such as GPL-3 or GPL-3_chunks.json"
    )]
    NoSuchFile(String),
    #[error("no *_chunks.json files in {}", .0.display())]
    NoFiles(std::path::PathBuf),
    #[error("{file} has {count} chunks: --chunk takes a position from 0 to {}", count.saturating_sub(1))]
    NoSuchChunk { file: String, count: usize },
    #[error("{0} has no chunk with text")]
    NoText(String),
    #[error(transparent)]
    Chunks(#[from] crate::chunks::ChunkFileError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// A previewed prompt: where it comes from, and the messages.
pub struct Preview {
    pub file: String,
    pub position: u32,
    pub chunk_id: String,
    /// The chunk's page and heading path, when its chunker recorded them.
    pub place: crate::chunk_place::ChunkPlace,
    pub messages: Vec<Message>,
}

/// Builds the exact messages `generate` would send for one chunk: of the file
/// `file` (a name or stem; by default the first), at position `chunk` (by default the
/// first with text).
pub fn preview(
    builder: &PromptBuilder,
    chunks_dir: &std::path::Path,
    file: Option<&str>,
    chunk: Option<u32>,
) -> Result<Preview, PreviewError> {
    let files =
        crate::chunks::list_chunk_files(chunks_dir).map_err(|source| PreviewError::List {
            path: chunks_dir.to_path_buf(),
            source,
        })?;
    let path = match file {
        Some(wanted) => files
            .iter()
            .find(|path| {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                name == wanted || crate::chunks::stem_of(path) == wanted
            })
            .ok_or_else(|| PreviewError::NoSuchFile(wanted.to_string()))?,
        None => files
            .first()
            .ok_or_else(|| PreviewError::NoFiles(chunks_dir.to_path_buf()))?,
    };
    let doc = crate::chunks::load_chunk_file(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let chunk = match chunk {
        Some(position) => doc
            .chunks
            .get(position as usize)
            .ok_or(PreviewError::NoSuchChunk {
                file: name.clone(),
                count: doc.chunks.len(),
            })?,
        None => doc
            .chunks
            .iter()
            .find(|c| !c.text.trim().is_empty())
            .ok_or_else(|| PreviewError::NoText(name.clone()))?,
    };
    let messages = builder.build(&doc, chunk)?;
    Ok(Preview {
        file: name,
        position: chunk.position,
        chunk_id: chunk.chunk_id.clone(),
        place: chunk.place(),
        messages,
    })
}

/// A preview as text: a heading per message, then its content exactly.
pub fn render_preview(preview: &Preview) -> String {
    let mut out = format!(
        "# {} · chunk {} (id {})",
        preview.file, preview.position, preview.chunk_id
    );
    if let Some(place) = preview.place.describe() {
        out.push_str(&format!(" · {place}"));
    }
    out.push('\n');
    for message in &preview.messages {
        out.push_str(&format!("\n## {}\n{}\n", message.role, message.content));
    }
    out
}
