//! Resuming what the original Python tool left half-done.
//!
//! The original kept its progress in the `_qa.json` itself: `completed_chunks` holds
//! the positions of the finished chunks, and `training_pairs` their pairs (with
//! `chunk_id`). On `--resume`, a document that has such a file but no entry in the
//! checkpoint is imported: its completed chunks become checkpoint records, so they
//! are not asked again, and its failed chunks are asked again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::checkpoint::{CheckpointStore, ChunkOutcome, ChunkStatus, DocumentRecord, StoredPair};
use crate::chunks;
use crate::qa_file::QA_FILE_SUFFIX;

/// Imports every original-tool Q&A file in `qa_dir` whose document the checkpoint
/// does not know yet. A file that cannot be imported is reported, and its document
/// is generated again from the start; nothing is deleted.
pub fn import_original_runs(store: &mut CheckpointStore, qa_dir: &Path, chunk_files: &[PathBuf]) {
    let known: HashSet<String> = store
        .document_stems()
        .unwrap_or_default()
        .into_iter()
        .collect();
    for chunks_path in chunk_files {
        let stem = chunks::stem_of(chunks_path);
        let qa_path = qa_dir.join(format!("{stem}{QA_FILE_SUFFIX}"));
        if known.contains(&stem) || !qa_path.is_file() {
            continue;
        }
        match import_one(store, chunks_path, &qa_path) {
            Ok(count) => tracing::info!(
                "resuming {}: {count} chunks were completed by an earlier run of the original tool",
                qa_path.display()
            ),
            Err(message) => tracing::warn!("{message}; its chunks will be generated again"),
        }
    }
}

fn import_one(
    store: &mut CheckpointStore,
    chunks_path: &Path,
    qa_path: &Path,
) -> Result<usize, String> {
    let chunk_file = chunks::load_chunk_file(chunks_path).map_err(|e| e.to_string())?;
    let bytes =
        std::fs::read(qa_path).map_err(|e| format!("cannot read {}: {e}", qa_path.display()))?;
    let qa: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "cannot resume from {}: it is not valid JSON ({e})",
            qa_path.display()
        )
    })?;
    let completed: Vec<u32> = qa
        .get("completed_chunks")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            format!(
                "cannot resume from {}: it has no `completed_chunks` list",
                qa_path.display()
            )
        })?
        .iter()
        .filter_map(Value::as_u64)
        .filter_map(|position| u32::try_from(position).ok())
        .filter(|&position| (position as usize) < chunk_file.chunks.len())
        .collect();
    let mut pairs_by_chunk: HashMap<String, Vec<StoredPair>> = HashMap::new();
    for pair in qa
        .get("training_pairs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |key: &str| {
            pair.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (question, answer) = (text("question"), text("answer"));
        if !question.is_empty() && !answer.is_empty() {
            pairs_by_chunk
                .entry(text("chunk_id"))
                .or_default()
                .push(StoredPair::new(question, answer));
        }
    }
    let object = |key: &str, fallback: &Map<String, Value>| match qa.get(key) {
        Some(Value::Object(map)) => map.clone(),
        _ => fallback.clone(),
    };
    let generation_info = object("qa_generation_info", &Map::new());
    store
        .put_document(&DocumentRecord {
            stem: chunk_file.stem.clone(),
            chunks_file: chunks_path.to_path_buf(),
            metadata: object("metadata", &chunk_file.metadata),
            processing_info: object("processing_info", &chunk_file.processing_info),
            total_chunks: chunk_file.chunks.len() as u32,
            generation_info: generation_info.clone(),
        })
        .map_err(|e| e.to_string())?;
    let settings = std::sync::Arc::new(
        json!({"imported_from": qa_path.display().to_string(), "qa_generation_info": generation_info}),
    );
    let outcomes: Vec<ChunkOutcome> = completed
        .iter()
        .map(|&position| {
            let chunk = &chunk_file.chunks[position as usize];
            ChunkOutcome {
                stem: chunk_file.stem.clone(),
                position,
                chunk_id: chunk.chunk_id.clone(),
                chunk_index: chunk.chunk_index,
                chunk_start: chunk.start_char,
                chunk_end: chunk.end_char,
                source_text: chunk.text.clone(),
                status: ChunkStatus::Completed,
                pairs: pairs_by_chunk.remove(&chunk.chunk_id).unwrap_or_default(),
                error: None,
                raw_response: None,
                prompt: None,
                settings: settings.clone(),
                tokens_in: 0,
                tokens_out: 0,
                duration_ms: 0,
                attempts: 0,
            }
        })
        .collect();
    store.record(&outcomes).map_err(|e| e.to_string())?;
    Ok(outcomes.len())
}
