//! Importing what the original Python tool wrote into a checkpoint (for `generate
//! --resume` and `validate` alike).
//!
//! The original kept its progress in the `_qa.json` itself: `completed_chunks` holds
//! the positions of the finished chunks, and `training_pairs` their pairs (with
//! `chunk_id` and the chunk's `source_text`). A document that has such a file but no
//! entry in the checkpoint is imported: its completed chunks become checkpoint
//! records, so they are not asked again (`generate --resume`, with the chunk files),
//! and their pairs can be judged and counted (`validate` and `stats`, from the Q&A
//! files alone).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    CheckpointStore, ChunkOutcome, ChunkStatus, DocumentRecord, RunRecord, StoreError, StoredPair,
};
use crate::chunks;
use crate::qa_file::{self, DocumentStatus, QA_FILE_SUFFIX, QaFile, TrainingPair};

/// Why one original-tool file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot resume from {}: {source}", path.display())]
    QaFile {
        path: PathBuf,
        source: qa_file::QaFileError,
    },
    #[error(transparent)]
    Chunks(#[from] chunks::ChunkFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
        match import_with_chunks(store, chunks_path, &qa_path) {
            Ok(count) => tracing::info!(
                "resuming {}: {count} chunks were completed by an earlier run of the original tool",
                qa_path.display()
            ),
            Err(error) => tracing::warn!("{error}; its chunks will be generated again"),
        }
    }
}

/// Imports every Q&A file in `qa_dir` whose document the checkpoint does not know,
/// from the file alone (no chunk files): each chunk's text is the `source_text` its
/// pairs carry. Returns the documents and pairs imported; a file that cannot be read
/// is reported and left out.
pub fn import_qa_files(
    store: &mut CheckpointStore,
    qa_dir: &Path,
) -> Result<(usize, usize), StoreError> {
    let known: HashSet<String> = store.document_stems()?.into_iter().collect();
    let files = qa_file::list_qa_files(qa_dir).unwrap_or_default();
    let (mut documents, mut pairs) = (0, 0);
    for qa_path in files {
        let stem = qa_file::stem_of(&qa_path);
        if known.contains(&stem) {
            continue;
        }
        let qa = match qa_file::read_qa_file(&qa_path) {
            Ok(qa) => qa,
            Err(error) => {
                tracing::warn!("{error}: its pairs are left out");
                continue;
            }
        };
        pairs += import_alone(store, &stem, &qa_path, qa)?;
        documents += 1;
    }
    Ok((documents, pairs))
}

/// One original file with the chunk file it was made from.
fn import_with_chunks(
    store: &mut CheckpointStore,
    chunks_path: &Path,
    qa_path: &Path,
) -> Result<usize, ImportError> {
    let chunk_file = chunks::load_chunk_file(chunks_path)?;
    let qa = qa_file::read_qa_file(qa_path).map_err(|source| ImportError::QaFile {
        path: qa_path.to_path_buf(),
        source,
    })?;
    let mut pairs_by_chunk = pairs_by_chunk(&qa.training_pairs);
    // The file's own metadata when it has some, else the chunk file's.
    let pick = |from_qa: &serde_json::Map<String, serde_json::Value>, fallback| {
        if from_qa.is_empty() {
            fallback
        } else {
            from_qa.clone()
        }
    };
    store.put_document(&DocumentRecord {
        stem: chunk_file.stem.clone(),
        chunks_file: chunks_path.to_path_buf(),
        metadata: pick(&qa.metadata, chunk_file.metadata.clone()),
        processing_info: pick(&qa.processing_info, chunk_file.processing_info.clone()),
        total_chunks: chunk_file.chunks.len() as u32,
        generation_info: qa.qa_generation_info.clone(),
    })?;
    let settings = Arc::new(RunRecord::imported(
        qa_path.display().to_string(),
        &qa.qa_generation_info,
    ));
    let outcomes: Vec<ChunkOutcome> = qa
        .completed_chunks
        .iter()
        .filter_map(|&position| Some((position, chunk_file.chunks.get(position as usize)?)))
        .map(|(position, chunk)| ChunkOutcome {
            pairs: pairs_by_chunk.remove(&chunk.chunk_id).unwrap_or_default(),
            ..imported_outcome(
                &chunk_file.stem,
                position,
                ImportedChunk {
                    chunk_id: chunk.chunk_id.clone(),
                    chunk_index: chunk.chunk_index,
                    chunk_start: chunk.start_char,
                    chunk_end: chunk.end_char,
                    source_text: chunk.text.clone(),
                },
                &settings,
            )
        })
        .collect();
    store.record(&outcomes)?;
    Ok(outcomes.len())
}

/// One original file without its chunk file: chunks are known by their pairs.
fn import_alone(
    store: &mut CheckpointStore,
    stem: &str,
    qa_path: &Path,
    qa: QaFile,
) -> Result<usize, StoreError> {
    // The chunks that have pairs, in chunk order, with what their pairs say of them.
    let mut places: Vec<ImportedChunk> = Vec::new();
    for pair in &qa.training_pairs {
        if !places.iter().any(|place| place.chunk_id == pair.chunk_id) {
            places.push(ImportedChunk {
                chunk_id: pair.chunk_id.clone(),
                chunk_index: pair.chunk_index,
                chunk_start: pair.chunk_start,
                chunk_end: pair.chunk_end,
                source_text: pair.source_text.clone(),
            });
        }
    }
    places.sort_by_key(|place| place.chunk_index);
    let mut completed = qa.completed_chunks.clone();
    completed.sort_unstable();
    completed.dedup();
    // The original counts positions; its pairs name indexes. When every completed
    // chunk has pairs, the two lists pair up in order; otherwise the index is the
    // position, as the chunker numbers them.
    let positions: Vec<u32> = if completed.len() == places.len() {
        completed.clone()
    } else {
        places
            .iter()
            .map(|place| u32::try_from(place.chunk_index).unwrap_or(u32::MAX))
            .collect()
    };
    let highest = completed
        .iter()
        .chain(&qa.failed_chunks)
        .chain(&positions)
        .map(|&p| u64::from(p) + 1)
        .max()
        .unwrap_or(0);
    let total = qa
        .summary
        .total_chunks
        .max(
            qa.processing_info
                .get("total_chunks")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0),
        )
        .max(highest);
    store.put_document(&DocumentRecord {
        stem: stem.to_string(),
        chunks_file: PathBuf::new(),
        metadata: qa.metadata.clone(),
        processing_info: qa.processing_info.clone(),
        total_chunks: u32::try_from(total).unwrap_or(u32::MAX),
        generation_info: qa.qa_generation_info.clone(),
    })?;
    let settings = Arc::new(RunRecord::imported(
        qa_path.display().to_string(),
        &qa.qa_generation_info,
    ));
    let mut pairs_by_chunk = pairs_by_chunk(&qa.training_pairs);
    let mut outcomes: Vec<ChunkOutcome> = Vec::new();
    let mut imported_pairs = 0;
    for (place, position) in places.into_iter().zip(positions) {
        let pairs = pairs_by_chunk.remove(&place.chunk_id).unwrap_or_default();
        imported_pairs += pairs.len();
        outcomes.push(ChunkOutcome {
            pairs,
            ..imported_outcome(stem, position, place, &settings)
        });
    }
    let seen: HashSet<u32> = outcomes.iter().map(|o| o.position).collect();
    // Completed chunks that kept no pair, and the original's failures.
    for &position in completed.iter().filter(|p| !seen.contains(*p)) {
        outcomes.push(imported_outcome(
            stem,
            position,
            ImportedChunk::default(),
            &settings,
        ));
    }
    for &position in qa.failed_chunks.iter().filter(|p| !seen.contains(*p)) {
        outcomes.push(ChunkOutcome {
            status: ChunkStatus::Failed,
            error: Some("failed in the original tool's run".into()),
            ..imported_outcome(stem, position, ImportedChunk::default(), &settings)
        });
    }
    store.record(&outcomes)?;
    if qa.status == DocumentStatus::Completed
        && let Some(when) = &qa.completion_time
    {
        store.mark_document_completed(stem, when)?;
    }
    Ok(imported_pairs)
}

/// An imported chunk: where it sits in its document, and its text.
#[derive(Debug, Clone, Default)]
struct ImportedChunk {
    chunk_id: String,
    chunk_index: i64,
    chunk_start: i64,
    chunk_end: i64,
    source_text: String,
}

/// A completed chunk as the original recorded it: no prompt, answer, tokens or time.
fn imported_outcome(
    stem: &str,
    position: u32,
    place: ImportedChunk,
    settings: &Arc<RunRecord>,
) -> ChunkOutcome {
    ChunkOutcome {
        stem: stem.to_string(),
        position,
        chunk_id: place.chunk_id,
        chunk_index: place.chunk_index,
        chunk_start: place.chunk_start,
        chunk_end: place.chunk_end,
        source_text: place.source_text,
        place: Default::default(),
        status: ChunkStatus::Completed,
        pairs: Vec::new(),
        error: None,
        raw_response: None,
        prompt: None,
        settings: settings.clone(),
        tokens_in: 0,
        tokens_out: 0,
        tokens_reasoning: 0,
        duration_ms: 0,
        attempts: 0,
    }
}

/// The pairs of a file with a question and an answer, by the chunk they name.
fn pairs_by_chunk(pairs: &[TrainingPair]) -> HashMap<String, Vec<StoredPair>> {
    let mut by_chunk: HashMap<String, Vec<StoredPair>> = HashMap::new();
    for pair in pairs {
        if !pair.question.is_empty() && !pair.answer.is_empty() {
            by_chunk
                .entry(pair.chunk_id.clone())
                .or_default()
                .push(StoredPair::new(pair.question.clone(), pair.answer.clone()));
        }
    }
    by_chunk
}
