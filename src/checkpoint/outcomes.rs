//! Chunk outcomes: registering documents, recording each chunk's result (in batches,
//! one transaction each), and reading them back for a resume, a re-parse or the
//! failure log.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::{
    CheckpointStore, ChunkOutcome, ChunkStatus, DocumentRecord, RawAnswer, Reparsed, RunRecord,
    StoreError, text_hash,
};

/// What the store knows of one chunk, for deciding what a resume asks again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunk {
    pub position: u32,
    pub status: ChunkStatus,
    /// The hash of the text the outcome was made from ([`super::text_hash`]).
    pub text_hash: Option<String>,
}

/// A chunk that has failed, as the failure log lists it.
#[derive(Debug, Clone)]
pub struct FailedChunk {
    pub stem: String,
    pub position: u32,
    pub chunk_id: String,
    pub error: Option<String>,
    pub prompt: Option<Value>,
    pub raw_response: Option<String>,
    pub attempts: u32,
    pub failed_at: String,
}

impl CheckpointStore {
    /// How many chunk outcomes and documents the store holds.
    pub fn counts(&self) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM chunks), (SELECT COUNT(*) FROM documents)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| self.fail(e))
    }

    /// Registers (or updates) a document.
    pub fn put_document(&self, doc: &DocumentRecord) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO documents (stem, chunks_file, metadata, processing_info, total_chunks, generation_info)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(stem) DO UPDATE SET chunks_file = ?2, metadata = ?3, processing_info = ?4,
                     total_chunks = ?5, generation_info = ?6, completed_at = NULL",
                params![
                    doc.stem,
                    doc.chunks_file.to_string_lossy(),
                    Value::Object(doc.metadata.clone()).to_string(),
                    Value::Object(doc.processing_info.clone()).to_string(),
                    doc.total_chunks,
                    Value::Object(doc.generation_info.clone()).to_string(),
                ],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// Marks a document finished at `when` (the original's `completion_time`).
    pub fn mark_document_completed(&self, stem: &str, when: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE documents SET completed_at = ?2 WHERE stem = ?1",
                params![stem, when],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// The chunks of a document that have an outcome, in position order.
    pub fn stored_chunks(&self, stem: &str) -> Result<Vec<StoredChunk>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT position, status, text_hash FROM chunks WHERE stem = ?1 ORDER BY position",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok(StoredChunk {
                    position: row.get(0)?,
                    status: ChunkStatus::parse(&row.get::<_, String>(1)?),
                    text_hash: row.get(2)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Forgets the outcomes (and judgments) of a document's chunks at `positions`:
    /// chunks whose text changed, or that no longer exist.
    pub fn forget_chunks(&mut self, stem: &str, positions: &[u32]) -> Result<(), StoreError> {
        if positions.is_empty() {
            return Ok(());
        }
        self.forget_corpus_prefix_if(|last| stem <= last);
        let path = self.path.clone();
        let fail = |source| StoreError::sqlite(&path, source);
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut chunks = tx
                .prepare_cached("DELETE FROM chunks WHERE stem = ?1 AND position = ?2")
                .map_err(fail)?;
            let mut judgments = tx
                .prepare_cached("DELETE FROM judgments WHERE stem = ?1 AND position = ?2")
                .map_err(fail)?;
            for position in positions {
                chunks.execute(params![stem, position]).map_err(fail)?;
                judgments.execute(params![stem, position]).map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// Records outcomes in one transaction: all of them are durable when this returns.
    pub fn record(&mut self, outcomes: &[ChunkOutcome]) -> Result<(), StoreError> {
        self.forget_corpus_prefix_if(|last| outcomes.iter().any(|o| o.stem.as_str() <= last));
        let path = self.path.clone();
        let fail = |source| StoreError::sqlite(&path, source);
        // The cached row counts only once its transaction is committed.
        let mut last_settings = self.last_settings.take();
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut settings_insert = tx
                .prepare_cached("INSERT OR IGNORE INTO settings (json, imported) VALUES (?1, ?2)")
                .map_err(fail)?;
            let mut settings_id = tx
                .prepare_cached("SELECT id FROM settings WHERE json = ?1")
                .map_err(fail)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO chunks (stem, position, chunk_id, chunk_index, chunk_start, chunk_end,
                         source_text, status, pairs, error, raw_response, prompt, settings_id, tokens_in, tokens_out,
                         duration_ms, attempts, finished_at, text_hash, place, tokens_reasoning)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                )
                .map_err(fail)?;
            let now = crate::timestamp::now();
            for outcome in outcomes {
                let id = match &last_settings {
                    Some((settings, id))
                        if Arc::ptr_eq(settings, &outcome.settings)
                            || **settings == *outcome.settings =>
                    {
                        *id
                    }
                    _ => {
                        let stored = outcome.settings.to_stored();
                        settings_insert
                            .execute(params![stored, outcome.settings.is_imported()])
                            .map_err(fail)?;
                        let id: i64 = settings_id
                            .query_row(params![stored], |row| row.get(0))
                            .map_err(fail)?;
                        last_settings = Some((outcome.settings.clone(), id));
                        id
                    }
                };
                insert
                    .execute(params![
                        outcome.stem,
                        outcome.position,
                        outcome.chunk_id,
                        outcome.chunk_index,
                        outcome.chunk_start,
                        outcome.chunk_end,
                        outcome.source_text,
                        outcome.status.as_str(),
                        serde_json::to_string(&outcome.pairs).expect("pairs serialize"),
                        outcome.error,
                        outcome.raw_response,
                        outcome.prompt.as_ref().map(Value::to_string),
                        id,
                        outcome.tokens_in as i64,
                        outcome.tokens_out as i64,
                        outcome.duration_ms as i64,
                        outcome.attempts,
                        now,
                        text_hash(&outcome.source_text),
                        outcome.place.to_stored(),
                        outcome.tokens_reasoning as i64,
                    ])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        self.last_settings = last_settings;
        Ok(())
    }

    /// The settings the latest chunks were made with by tdg (not imported ones).
    pub fn latest_run_record(&self) -> Result<Option<RunRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT json FROM settings WHERE imported = 0 ORDER BY id DESC LIMIT 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()
            .map(|json| json.and_then(|json| RunRecord::from_stored(&json).ok()))
            .map_err(|e| self.fail(e))
    }

    /// Every stored run record, by its id.
    fn run_records(&self) -> Result<HashMap<i64, RunRecord>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT id, json FROM settings")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| self.fail(e))?;
        let mut records = HashMap::new();
        for row in rows {
            let (id, json) = row.map_err(|e| self.fail(e))?;
            records.insert(id, RunRecord::from_stored(&json).unwrap_or_default());
        }
        Ok(records)
    }

    /// Every chunk that has a raw model answer, for re-parsing: its place, the
    /// answer, the questions asked for, and its pairs now.
    pub fn raw_answers(&self) -> Result<Vec<RawAnswer>, StoreError> {
        let records = self.run_records()?;
        let mut statement = self
            .conn
            .prepare(
                "SELECT stem, position, raw_response, settings_id, status, pairs, prompt, source_text
                 FROM chunks WHERE raw_response IS NOT NULL ORDER BY stem, position",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                let settings_id: i64 = row.get(3)?;
                Ok(RawAnswer {
                    stem: row.get(0)?,
                    position: row.get(1)?,
                    raw_response: row.get(2)?,
                    asked: records
                        .get(&settings_id)
                        .map_or_else(|| RunRecord::default().asked(), RunRecord::asked),
                    status: ChunkStatus::parse(&row.get::<_, String>(4)?),
                    pairs: serde_json::from_str(&row.get::<_, String>(5)?).unwrap_or_default(),
                    prompt: row
                        .get::<_, Option<String>>(6)?
                        .and_then(|json| serde_json::from_str(&json).ok())
                        .unwrap_or_default(),
                    source_text: row.get(7)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Replaces chunks' parse results (status, pairs, error), in one transaction.
    pub fn apply_parses(&mut self, parses: &[Reparsed]) -> Result<(), StoreError> {
        self.forget_corpus_prefix_if(|_| true);
        let path = self.path.clone();
        let fail = |source| StoreError::sqlite(&path, source);
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut update = tx
                .prepare_cached("UPDATE chunks SET status = ?3, pairs = ?4, error = ?5 WHERE stem = ?1 AND position = ?2")
                .map_err(fail)?;
            for parse in parses {
                update
                    .execute(params![
                        parse.stem,
                        parse.position,
                        parse.status.as_str(),
                        serde_json::to_string(&parse.pairs).expect("pairs serialize"),
                        parse.error,
                    ])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// The chunks failed now (a failure later retried with success is not one), in
    /// document and position order.
    pub fn failed_chunks(&self) -> Result<Vec<FailedChunk>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT stem, position, chunk_id, error, prompt, raw_response, attempts, finished_at
                 FROM chunks WHERE status = 'failed' ORDER BY stem, position",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(FailedChunk {
                    stem: row.get(0)?,
                    position: row.get(1)?,
                    chunk_id: row.get(2)?,
                    error: row.get(3)?,
                    prompt: row
                        .get::<_, Option<String>>(4)?
                        .and_then(|json| serde_json::from_str(&json).ok()),
                    raw_response: row.get(5)?,
                    attempts: row.get(6)?,
                    failed_at: row.get(7)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Whether every chunk of a document has an outcome.
    pub fn is_document_finished(&self, stem: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM chunks WHERE stem = ?1) >= total_chunks FROM documents WHERE stem = ?1",
                params![stem],
                |row| row.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// The stems of every registered document, sorted.
    pub fn document_stems(&self) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT stem FROM documents ORDER BY stem")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| row.get(0))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }
}
