//! What one document's Q&A file shows, gathered from the store as typed data: the
//! document's record, which chunks completed and failed, and the pairs the run's
//! quality filter keeps, in chunk order, with the reviewer's decisions applied (a
//! rejected pair is left out, an edited one shows its new text, an accepted one is
//! kept whatever the gate says). Rendering and writing the file is
//! [`crate::outputs::qa_files`]' job.

use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value};

use super::{CheckpointStore, ChunkStatus, DocumentRecord, StoreError, StoredPair, Verdict};

/// A pair the filter keeps, with the chunk it came from.
#[derive(Debug, Clone)]
pub struct KeptPair {
    pub position: u32,
    pub chunk_id: String,
    pub chunk_index: i64,
    pub chunk_start: i64,
    pub chunk_end: i64,
    pub source_text: Arc<str>,
    pub pair: StoredPair,
}

/// One document as its Q&A file shows it.
#[derive(Debug, Clone)]
pub struct DocumentView {
    pub record: DocumentRecord,
    /// When every chunk had an outcome, if that happened.
    pub completed_at: Option<String>,
    pub completed_positions: Vec<u32>,
    pub failed_positions: Vec<u32>,
    pub kept: Vec<KeptPair>,
    /// Whether the files carry each pair's quality figures (`--with-quality`).
    pub with_quality: bool,
}

impl CheckpointStore {
    /// The document `stem` as its Q&A file shows it under the run's quality filter;
    /// `None` if the document is unknown.
    pub fn document_view(&self, stem: &str) -> Result<Option<DocumentView>, StoreError> {
        let doc = self
            .conn
            .query_row(
                "SELECT chunks_file, metadata, processing_info, total_chunks, generation_info, completed_at
                 FROM documents WHERE stem = ?1",
                params![stem],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, u32>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some((
            chunks_file,
            metadata,
            processing_info,
            total_chunks,
            generation_info,
            completed_at,
        )) = doc
        else {
            return Ok(None);
        };
        let object =
            |text: &str| serde_json::from_str::<Map<String, Value>>(text).unwrap_or_default();
        let record = DocumentRecord {
            stem: stem.to_string(),
            chunks_file: chunks_file.into(),
            metadata: object(&metadata),
            processing_info: object(&processing_info),
            total_chunks,
            generation_info: object(&generation_info),
        };
        let filter = self.quality_filter();
        let mut gate = self.gate_for(stem, &filter)?;
        let judged = self.judged_scores(stem)?;
        let decided = self.decisions_of(stem)?;
        let mut view = DocumentView {
            record,
            completed_at,
            completed_positions: Vec::new(),
            failed_positions: Vec::new(),
            kept: Vec::new(),
            with_quality: filter.with_quality,
        };
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT position, chunk_id, chunk_index, chunk_start, chunk_end, source_text, status, pairs
                 FROM chunks WHERE stem = ?1 ORDER BY position",
            )
            .map_err(|e| self.fail(e))?;
        let mut rows = statement.query(params![stem]).map_err(|e| self.fail(e))?;
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let position: u32 = row.get(0).map_err(|e| self.fail(e))?;
            let status: String = row.get(6).map_err(|e| self.fail(e))?;
            match ChunkStatus::parse(&status) {
                ChunkStatus::Completed => view.completed_positions.push(position),
                ChunkStatus::Failed => {
                    view.failed_positions.push(position);
                    continue;
                }
                ChunkStatus::Skipped => continue,
            }
            let pairs: Vec<StoredPair> =
                serde_json::from_str(&row.get::<_, String>(7).map_err(|e| self.fail(e))?)
                    .unwrap_or_default();
            let source_text: Arc<str> = row.get::<_, String>(5).map_err(|e| self.fail(e))?.into();
            for mut pair in pairs {
                let key = (position, pair.question.clone());
                let score = judged.get(&key).copied();
                // The gate sees every pair, decided or not, so that its duplicate
                // index is the same either way; the reviewer's decision then wins.
                let dropped = super::replay::gate_pair(&mut gate, &mut pair, score).is_some();
                match decided.get(&key) {
                    Some(Verdict::Rejected) => continue,
                    Some(Verdict::Accepted) => {}
                    Some(Verdict::Edited {
                        question,
                        answer,
                        follow_ups,
                    }) => {
                        pair.question.clone_from(question);
                        pair.answer.clone_from(answer);
                        if let Some(turns) = follow_ups {
                            pair.follow_ups = turns
                                .iter()
                                .map(|turn| super::StoredTurn {
                                    question: turn.question.clone(),
                                    answer: turn.answer.clone(),
                                    quality: None,
                                })
                                .collect();
                        }
                    }
                    None if dropped => continue,
                    None => {}
                }
                view.kept.push(KeptPair {
                    position,
                    chunk_id: row.get(1).map_err(|e| self.fail(e))?,
                    chunk_index: row.get(2).map_err(|e| self.fail(e))?,
                    chunk_start: row.get(3).map_err(|e| self.fail(e))?,
                    chunk_end: row.get(4).map_err(|e| self.fail(e))?,
                    source_text: source_text.clone(),
                    pair,
                });
            }
        }
        Ok(Some(view))
    }
}
