//! Joining checkpoints: [`CheckpointStore::absorb`] copies a shard's documents, run
//! records, chunk outcomes, judgments and reviewers' decisions into this store, in one transaction, so that
//! `tdg merge` renders the joined run with the same views a single run uses.

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::{CheckpointStore, StoreError};

/// What one absorbed checkpoint brought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Absorbed {
    pub chunks: u64,
    pub judgments: u64,
}

/// Why two checkpoints cannot be joined.
#[derive(Debug, thiserror::Error)]
pub enum AbsorbError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "chunk {position} of {stem} has an outcome in {} and in a shard merged before it: the shards were not made with the same --shard count",
        path.display()
    )]
    ChunkInTwoShards {
        path: std::path::PathBuf,
        stem: String,
        position: u32,
    },
}

impl CheckpointStore {
    /// Copies everything the checkpoint file at `path` holds into this store. A
    /// document already registered keeps its record (the shards' records differ only
    /// in when they were made); a chunk outcome already present is an error.
    pub fn absorb(&mut self, path: &Path) -> Result<Absorbed, AbsorbError> {
        self.with_attached(path, |store| store.absorb_attached(path))
    }

    /// Runs `work` with the checkpoint file at `path` attached as `shard`, detaching
    /// it afterwards whatever `work` returned.
    fn with_attached<T, E: From<StoreError>>(
        &mut self,
        path: &Path,
        work: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, E> {
        let fail = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        self.conn
            .execute(
                "ATTACH DATABASE ?1 AS shard",
                params![path.to_string_lossy()],
            )
            .map_err(fail)?;
        let result = work(self);
        let detached = self.conn.execute("DETACH DATABASE shard", []).map_err(fail);
        let value = result?;
        detached?;
        Ok(value)
    }

    fn absorb_attached(&mut self, path: &Path) -> Result<Absorbed, AbsorbError> {
        let fail = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let transaction = self.conn.transaction().map_err(fail)?;
        if let Some((stem, position)) = transaction
            .query_row(
                "SELECT c.stem, c.position FROM shard.chunks c
                 JOIN main.chunks m ON m.stem = c.stem AND m.position = c.position LIMIT 1",
                [],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?)),
            )
            .optional()
            .map_err(fail)?
        {
            return Err(AbsorbError::ChunkInTwoShards {
                path: path.to_path_buf(),
                stem,
                position,
            });
        }
        transaction
            .execute_batch(
                "INSERT OR IGNORE INTO main.meta (key, value) SELECT key, value FROM shard.meta;
                 INSERT OR IGNORE INTO main.settings (json, imported)
                     SELECT json, imported FROM shard.settings ORDER BY id;
                 INSERT OR IGNORE INTO main.documents
                     (stem, chunks_file, metadata, processing_info, total_chunks, generation_info, completed_at)
                     SELECT stem, chunks_file, metadata, processing_info, total_chunks, generation_info, NULL
                     FROM shard.documents;",
            )
            .map_err(fail)?;
        // A shard written before schema 3 has no places: its chunks get none.
        let shard_has_places: bool = transaction
            .query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('chunks', 'shard') WHERE name = 'place'",
                [],
                |row| row.get(0),
            )
            .map_err(fail)?;
        let place = if shard_has_places { "c.place" } else { "NULL" };
        let shard_has_reasoning: bool = transaction
            .query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('chunks', 'shard') WHERE name = 'tokens_reasoning'",
                [],
                |row| row.get(0),
            )
            .map_err(fail)?;
        let reasoning = if shard_has_reasoning {
            "c.tokens_reasoning"
        } else {
            "0"
        };
        let chunks = transaction
            .execute(
                &format!(
                    "INSERT INTO main.chunks
                     (stem, position, chunk_id, chunk_index, chunk_start, chunk_end, source_text,
                      status, pairs, error, raw_response, prompt, settings_id, tokens_in,
                      tokens_out, duration_ms, attempts, finished_at, text_hash, place,
                      tokens_reasoning)
                 SELECT c.stem, c.position, c.chunk_id, c.chunk_index, c.chunk_start, c.chunk_end,
                      c.source_text, c.status, c.pairs, c.error, c.raw_response, c.prompt,
                      (SELECT m.id FROM main.settings m JOIN shard.settings s ON m.json = s.json
                       WHERE s.id = c.settings_id),
                      c.tokens_in, c.tokens_out, c.duration_ms, c.attempts, c.finished_at, c.text_hash,
                      {place}, {reasoning}
                 FROM shard.chunks c ORDER BY c.stem, c.position"
                ),
                [],
            )
            .map_err(fail)?;
        let judgments = transaction
            .execute(
                "INSERT OR REPLACE INTO main.judgments
                     (stem, position, question, accuracy, completeness, consistency, overall,
                      raw_response, error, judged_at)
                 SELECT stem, position, question, accuracy, completeness, consistency, overall,
                      raw_response, error, judged_at FROM shard.judgments",
                [],
            )
            .map_err(fail)?;
        super::decisions::absorb_attached(&transaction).map_err(fail)?;
        transaction.commit().map_err(fail)?;
        Ok(Absorbed {
            chunks: chunks as u64,
            judgments: judgments as u64,
        })
    }

    /// Copies only the reviewers' decisions of the checkpoint at `path` (an earlier
    /// merge of the same shards), keeping those already here: decisions made in a
    /// merged directory outlive the next merge.
    pub fn absorb_decisions(&mut self, path: &Path) -> Result<u64, StoreError> {
        self.with_attached(path, |store| {
            let copied = store.conn.transaction().and_then(|transaction| {
                let copied = super::decisions::absorb_attached(&transaction)?;
                transaction.commit().map(|()| copied)
            });
            copied
                .map(|copied| copied as u64)
                .map_err(|source| StoreError::Sqlite {
                    path: path.to_path_buf(),
                    source,
                })
        })
    }

    /// Marks every document whose chunks all have an outcome as completed at `when`.
    pub fn mark_finished_documents_completed(&self, when: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE documents SET completed_at = ?1
                 WHERE (SELECT COUNT(*) FROM chunks WHERE chunks.stem = documents.stem) >= total_chunks",
                params![when],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// The stored value of a `meta` key.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// Stores a `meta` key.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }
}
