//! What made the data, for the dataset card: the run's settings as the checkpoint
//! recorded them (through [`CheckpointStore`]'s readers), the plugins with their
//! SHA-256, the prompt template, the quality gate's settings and results, and the
//! source documents with their chunk counts. Without a checkpoint (a directory the
//! original tool wrote, or a combined file) the card says so and gives what the Q&A
//! files hold.

use std::collections::BTreeMap;

use serde::Serialize;

use super::source::Source;
use super::{ExportError, ExportRequest};
use crate::checkpoint::{Access, CheckpointStore, DocumentFigures, RunRecord, StoreError};
use crate::plugin::{PluginSource, builtin};

/// The default prompt template and system message, as the default-prompt plugin embeds them.
const DEFAULT_TEMPLATE: &str = include_str!("../../templates/qa_prompt.jinja");
const DEFAULT_SYSTEM_MESSAGE: &str = include_str!("../../templates/system_message.txt");
const DEFAULT_PROMPT_PLUGIN: &str = "default-prompt";

/// A plugin named in the card, with the SHA-256 of its component.
#[derive(Debug, Clone, Serialize)]
pub struct PluginDigest {
    pub role: &'static str,
    pub name: String,
    /// The SHA-256 of the component this tdg holds (a built-in) or of the file found at
    /// export time; none when it could not be read.
    pub sha256: Option<String>,
}

/// The prompt template and system message.
#[derive(Debug, Clone, Serialize)]
pub struct PromptDigest {
    pub template: String,
    pub template_sha256: Option<String>,
    pub system_message_sha256: Option<String>,
}

/// The quality gate's results over the run's pairs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QualityResults {
    pub kept: u64,
    pub dropped: BTreeMap<String, u64>,
    /// Kept pairs per fifth of the grounding scale (0–0.2, …, 0.8–1).
    pub grounding: [u64; 5],
    /// Pairs the judge scored, of them passing, and judgments that failed.
    pub judged: u64,
    pub judge_passed: u64,
    pub judge_failed: u64,
}

/// Everything the card records of how the data was made.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The run's settings (the latest recorded by tdg), when there is a checkpoint.
    pub run: Option<RunRecord>,
    /// Why there is no run record, when there is none.
    pub no_run_note: Option<String>,
    pub plugins: Vec<PluginDigest>,
    pub prompt: Option<PromptDigest>,
    pub quality_filter: Option<serde_json::Value>,
    pub quality: Option<QualityResults>,
    /// Per document: chunks by outcome and pairs, from the checkpoint.
    pub documents: Vec<DocumentFigures>,
    /// Kept pairs by question type, over all documents.
    pub question_types: BTreeMap<String, u64>,
}

use crate::digest::sha256_hex;

/// The SHA-256 of the component `source` names: a built-in's embedded bytes or the file.
pub fn plugin_sha256(source: &PluginSource) -> Option<String> {
    match source {
        PluginSource::Builtin(name) => builtin::find(name).map(|plugin| sha256_hex(plugin.bytes)),
        PluginSource::File(path) => std::fs::read(path).ok().map(|bytes| sha256_hex(&bytes)),
    }
}

/// The digest of the plugin named `name` (as the run recorded it) in `role`.
fn digest_named(role: &'static str, name: &str) -> PluginDigest {
    PluginDigest {
        role,
        name: name.to_string(),
        sha256: PluginSource::parse(name)
            .ok()
            .and_then(|source| plugin_sha256(&source)),
    }
}

impl Provenance {
    /// Gathers what made the data of `source` (read from its checkpoint, never changed).
    pub fn gather(source: &Source, request: &ExportRequest) -> Result<Provenance, ExportError> {
        let mut provenance = Provenance {
            plugins: vec![PluginDigest {
                role: "format",
                name: request.format.display_name(),
                sha256: plugin_sha256(&request.format),
            }],
            ..Default::default()
        };
        let Some(qa_dir) = source.qa_dir() else {
            provenance.no_run_note = Some(format!(
                "exported from the combined file {}, which does not record the run's settings",
                source.path().display()
            ));
            return Ok(provenance);
        };
        let store = match CheckpointStore::open_existing(qa_dir, Access::ReadOnly) {
            Ok(store) => store,
            Err(StoreError::NoCheckpoint { .. }) => {
                provenance.no_run_note = Some(format!(
                    "{} holds no tdg checkpoint (it was written by the original tool, or copied without it): the run's settings are not known",
                    qa_dir.display()
                ));
                return Ok(provenance);
            }
            Err(error) => return Err(error.into()),
        };
        provenance.run = store.latest_run_record()?;
        if let Some(run) = &provenance.run {
            let prompt_plugin = run
                .prompt_plugin
                .as_deref()
                .unwrap_or(DEFAULT_PROMPT_PLUGIN);
            let parser = run.parser.as_deref().unwrap_or(DEFAULT_PROMPT_PLUGIN);
            provenance.plugins.insert(0, digest_named("parser", parser));
            provenance
                .plugins
                .insert(0, digest_named("prompt", prompt_plugin));
            let default_prompt = prompt_plugin == DEFAULT_PROMPT_PLUGIN;
            provenance.prompt = Some(PromptDigest {
                template: match &run.template {
                    Some(name) => format!("{name} (the user's; its text is not recorded)"),
                    None if default_prompt => "templates/qa_prompt.jinja (the default)".into(),
                    None => format!("the {prompt_plugin} plugin's own"),
                },
                template_sha256: (run.template.is_none() && default_prompt)
                    .then(|| sha256_hex(DEFAULT_TEMPLATE.as_bytes())),
                system_message_sha256: match &run.system_message {
                    Some(text) => Some(sha256_hex(text.as_bytes())),
                    None if default_prompt => Some(sha256_hex(DEFAULT_SYSTEM_MESSAGE.as_bytes())),
                    None => None,
                },
            });
        } else {
            provenance.no_run_note = Some(
                "the checkpoint holds only pairs imported from the original tool: their settings are in the Q&A files' qa_generation_info".into(),
            );
        }
        provenance.quality_filter = serde_json::to_value(store.quality_filter()).ok();
        let summary = store.quality_summary()?;
        let (judged, judge_passed, judge_failed) = store.judge_figures()?;
        let mut results = QualityResults {
            dropped: summary
                .dropped
                .iter()
                .map(|(reason, count)| (reason.name().to_string(), *count))
                .collect(),
            grounding: summary.grounding,
            judged,
            judge_passed,
            judge_failed,
            ..Default::default()
        };
        for kinds in summary.question_types_per_document.values() {
            for (kind, count) in kinds {
                results.kept += count;
                *provenance.question_types.entry(kind.clone()).or_insert(0) += count;
            }
        }
        provenance.quality = Some(results);
        provenance.documents = store.document_figures()?;
        Ok(provenance)
    }
}
