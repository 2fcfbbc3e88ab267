//! Writing a training file: pairs through a format plugin into one file, a JSON
//! record a line or one JSON array, atomically. The output stage's shared step:
//! `generate --format` writes each document's file as it finishes, `tdg convert`
//! converts Q&A files, and `tdg export` renders its records the same way.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::atomic_file;
use crate::plugin::{FormatPlugin, PluginError, format, types::KeyValue};
use crate::pyjson;
use crate::qa_file::TrainingPair;
use crate::task::ReasoningStyle;

/// How records are laid out in a training file.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OutputType {
    /// One JSON record a line (`.jsonl`, or the format's extension).
    #[default]
    Jsonl,
    /// One JSON array of records (`.json`).
    Json,
}

/// What [`write_training_file`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub records: usize,
    pub skipped_pairs: usize,
}

/// Writes `pairs` (from `source`, for messages) to `output` through `format`,
/// atomically: one record a line, or one JSON array, with each pair's reasoning
/// where `style` says. Pairs without a question or an answer are skipped with a
/// warning.
pub fn write_training_file(
    pairs: &[TrainingPair],
    source: &str,
    output: &Path,
    format: &FormatPlugin,
    options: &[KeyValue],
    output_type: OutputType,
    style: ReasoningStyle,
) -> Result<Written, String> {
    if !format.info().writes_turns && pairs.iter().any(|pair| !pair.follow_ups().is_empty()) {
        warn_first_exchange_only(format);
    }
    let mut records = Vec::with_capacity(pairs.len());
    let mut skipped_pairs = 0;
    for (index, pair) in pairs.iter().enumerate() {
        if pair.question.is_empty() || pair.answer.is_empty() {
            let missing = if pair.question.is_empty() {
                "question"
            } else {
                "answer"
            };
            tracing::warn!("{source}: skipping training pair {index}: it has no {missing}");
            skipped_pairs += 1;
            continue;
        }
        let record = format
            .format_example(&training_example(pair, style), options)
            .map_err(|e: PluginError| format!("{source}: training pair {index}: {e}"))?;
        records.push(record);
    }
    if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let written = atomic_file::write_with(output, |file| match output_type {
        OutputType::Jsonl => records.iter().try_for_each(|record| {
            file.write_all(pyjson::to_line(record).as_bytes())?;
            file.write_all(b"\n")
        }),
        OutputType::Json => pyjson::write_pretty(file, &records),
    });
    written.map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(Written {
        records: records.len(),
        skipped_pairs,
    })
}

/// Where a format's training file for `stem` goes in `dir`.
pub fn training_file_path(
    dir: &Path,
    stem: &str,
    info: &format::FormatInfo,
    output_type: OutputType,
) -> PathBuf {
    let extension = match output_type {
        OutputType::Jsonl => info.extension.as_str(),
        OutputType::Json => "json",
    };
    dir.join(format!("{stem}{}.{extension}", info.file_suffix))
}

/// The format plugin's view of a pair.
pub fn training_example(pair: &TrainingPair, style: ReasoningStyle) -> format::TrainingExample {
    format::TrainingExample {
        question: pair.question.clone(),
        answer: pair.answer.clone(),
        reasoning: pair.reasoning.clone(),
        reasoning_style: style.into(),
        follow_ups: pair
            .follow_ups()
            .iter()
            .map(|turn| crate::plugin::types::Turn {
                question: turn.question.clone(),
                answer: turn.answer.clone(),
            })
            .collect(),
        source_text: pair.source_text.clone(),
        provenance: format::Provenance {
            source_file: pair.source_file.clone(),
            file_name: pair.file_name.clone(),
            file_type: pair.file_type.clone(),
            chunk_id: pair.chunk_id.clone(),
            chunk_index: pair.chunk_index,
            chunk_start: pair.chunk_start,
            chunk_end: pair.chunk_end,
        },
    }
}

/// Says, once a process, that `format` writes only each conversation's first
/// exchange.
pub fn warn_first_exchange_only(format: &FormatPlugin) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        tracing::warn!(
            "the {} format writes one exchange per record: each conversation's first exchange only (the sharegpt and openai-chat formats write every turn)",
            format.name()
        );
    });
}

/// `--format-opt KEY=VALUE` options as the format plugin takes them.
pub fn plugin_options(options: &[(String, String)]) -> Vec<KeyValue> {
    options
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}
