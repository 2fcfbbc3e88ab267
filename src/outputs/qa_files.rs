//! Every `<stem>_qa.json` is rendered here, and only here, from the
//! checkpoint's typed [`DocumentView`] into a typed [`QaFile`], and written atomically
//! in the original tool's layout. `generate`, `validate` and `reparse` all call it, so
//! a file looks the same whichever command wrote it last.

use std::path::{Path, PathBuf};

use crate::checkpoint::{CheckpointStore, DocumentView, StoreError};
use crate::qa_file::{DocumentStatus, QA_FILE_SUFFIX, QaFile, QaSummary, TrainingPair};
use crate::{atomic_file, pyjson};

/// Why a view could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A view written: the file's name and the pairs it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenView {
    pub name: String,
    pub pairs: u64,
}

/// The Q&A file of `view`, with `status`.
pub fn render(view: DocumentView, status: DocumentStatus) -> QaFile {
    let metadata = &view.record.metadata;
    let text = |key: &str| {
        metadata
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (source_file, file_name, file_type) =
        (text("source_file"), text("file_name"), text("file_type"));
    let training_pairs: Vec<TrainingPair> = view
        .kept
        .into_iter()
        .map(|kept| TrainingPair {
            conversation: kept.pair.conversation(),
            quality: match (&kept.pair.quality, view.with_quality) {
                (Some(quality), true) => Some(serde_json::json!({
                    "grounding": (quality.grounding * 1000.0).round() / 1000.0,
                    "evidence": quality.evidence.map(|(start, end)| serde_json::json!({"start": start, "end": end})),
                    "reasons": [],
                })),
                _ => None,
            },
            question_type: kept.pair.question_type.filter(|_| view.with_quality),
            reasoning: kept.pair.reasoning,
            question: kept.pair.question,
            answer: kept.pair.answer,
            source_file: source_file.clone(),
            file_name: file_name.clone(),
            file_type: file_type.clone(),
            chunk_id: kept.chunk_id,
            chunk_index: kept.chunk_index,
            chunk_start: kept.chunk_start,
            chunk_end: kept.chunk_end,
            source_text: kept.source_text.to_string(),
        })
        .collect();
    let summary = QaSummary {
        total_chunks: view.record.total_chunks.into(),
        completed_chunks: view.completed_positions.len() as u64,
        failed_chunks: view.failed_positions.len() as u64,
        total_qa_pairs: training_pairs.len() as u64,
    };
    QaFile {
        metadata: view.record.metadata,
        processing_info: view.record.processing_info,
        qa_generation_info: view.record.generation_info,
        chunks: Vec::new(),
        training_pairs,
        status,
        completed_chunks: view.completed_positions,
        failed_chunks: view.failed_positions,
        completion_time: view
            .completed_at
            .filter(|_| status == DocumentStatus::Completed),
        summary,
    }
}

/// The Q&A file of `stem` as the store holds it now; `None` if the document is unknown.
pub fn qa_file(
    store: &CheckpointStore,
    stem: &str,
    status: DocumentStatus,
) -> Result<Option<QaFile>, StoreError> {
    Ok(store.document_view(stem)?.map(|view| render(view, status)))
}

/// Writes the Q&A file of `stem` into `qa_dir` atomically, with `status`; `None` if
/// the store does not know the document.
pub fn write(
    store: &CheckpointStore,
    qa_dir: &Path,
    stem: &str,
    status: DocumentStatus,
) -> Result<Option<WrittenView>, ViewError> {
    let Some(file) = qa_file(store, stem, status)? else {
        return Ok(None);
    };
    let name = format!("{stem}{QA_FILE_SUFFIX}");
    let path = qa_dir.join(&name);
    atomic_file::write_with(&path, |out| pyjson::write_pretty(out, &file))
        .map_err(|source| ViewError::Write { path, source })?;
    Ok(Some(WrittenView {
        name,
        pairs: file.summary.total_qa_pairs,
    }))
}

/// Rewrites the Q&A file of `stem` after a re-parse or a judgment changed what it
/// keeps: `completed` if each of its chunks has an outcome, `in_progress` otherwise.
pub fn rewrite(
    store: &CheckpointStore,
    qa_dir: &Path,
    stem: &str,
) -> Result<Option<WrittenView>, ViewError> {
    let status = if store.is_document_finished(stem)? {
        DocumentStatus::Completed
    } else {
        DocumentStatus::InProgress
    };
    write(store, qa_dir, stem, status)
}

/// [`rewrite`]s every document's Q&A file; returns the files written.
pub fn rewrite_all(store: &CheckpointStore, qa_dir: &Path) -> Result<Vec<WrittenView>, ViewError> {
    let mut written = Vec::new();
    for stem in store.document_stems()? {
        written.extend(rewrite(store, qa_dir, &stem)?);
    }
    Ok(written)
}
