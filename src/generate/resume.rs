//! What a resumed run asks again: chunks without an outcome, failed ones (unless
//! `--skip-failed`), and chunks whose text changed since their outcome was recorded
//! (told by a hash of the text). Outcomes of changed chunks, and of chunks that no
//! longer exist, are stale: the writer forgets them before the document's chunks are
//! queued, so their pairs never sit beside the new text.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::GenerateError;
use super::pipeline::PlannedDocument;
use super::writer::WriterMessage;
use crate::checkpoint::{CheckpointStore, ChunkStatus, DocumentRecord, StoredChunk, text_hash};
use crate::chunks::ChunkFile;
use crate::shard::Shard;
use crate::timestamp;

pub(super) type DoneChunks = std::collections::HashMap<String, Vec<StoredChunk>>;

/// What the store holds of each document, for deciding what a resume asks again.
pub(super) fn done_chunks(store: &CheckpointStore) -> Result<DoneChunks, GenerateError> {
    let mut done = DoneChunks::new();
    for stem in store.document_stems()? {
        let chunks = store.stored_chunks(&stem)?;
        done.insert(stem, chunks);
    }
    Ok(done)
}

/// Decides which chunks of a file still need work, and describes it for the store.
///
/// A chunk is asked (again) unless it has an outcome made from its current text;
/// failed ones are asked again unless `skip_failed`. With a `shard`, only the chunks
/// it holds are asked; the others belong to other processes. Outcomes of chunks whose text
/// changed, or that no longer exist, are stale: the writer forgets them, so their
/// pairs leave the Q&A file even if the run stops before they are asked again.
pub(super) fn plan_document(
    file: ChunkFile,
    done: &DoneChunks,
    skip_failed: bool,
    shard: Option<Shard>,
    generation_info: &Map<String, Value>,
) -> Result<(PlannedDocument, WriterMessage), String> {
    let stored = done.get(&file.stem).map(Vec::as_slice).unwrap_or_default();
    let mut finished = vec![false; file.chunks.len()];
    let (mut changed, mut removed) = (Vec::new(), Vec::new());
    for chunk in stored {
        let Some(current) = file.chunks.get(chunk.position as usize) else {
            removed.push(chunk.position);
            continue;
        };
        if chunk.text_hash.as_deref() != Some(text_hash(&current.text).as_str()) {
            changed.push(chunk.position);
        } else if skip_failed || chunk.status != ChunkStatus::Failed {
            finished[chunk.position as usize] = true;
        }
    }
    if !changed.is_empty() || !removed.is_empty() {
        tracing::warn!(
            "{}: {} chunks changed since the last run and are asked again; {} chunks no longer exist and their pairs leave {}{}",
            file.path.display(),
            changed.len(),
            removed.len(),
            file.stem,
            crate::qa_file::QA_FILE_SUFFIX
        );
    }
    let assigned: Vec<usize> = (0..file.chunks.len())
        .filter(|&index| {
            shard.is_none_or(|shard| shard.holds_chunk(&file.stem, &file.chunks[index]))
        })
        .collect();
    let pending: Vec<usize> = assigned
        .iter()
        .copied()
        .filter(|&index| !finished[index])
        .collect();
    let mut generation_info = generation_info.clone();
    generation_info.insert("generated_at".into(), json!(timestamp::now()));
    let record = DocumentRecord {
        stem: file.stem.clone(),
        chunks_file: file.path.clone(),
        metadata: file.metadata.clone(),
        processing_info: file.processing_info.clone(),
        total_chunks: file.chunks.len() as u32,
        generation_info,
    };
    changed.extend(removed);
    let message = WriterMessage::Document {
        record: Box::new(record),
        pending: pending.len(),
        stale: changed,
    };
    Ok((
        PlannedDocument {
            doc: Arc::new(file),
            assigned: assigned.len(),
            pending,
        },
        message,
    ))
}
