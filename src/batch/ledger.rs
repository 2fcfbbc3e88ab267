//! The checkpoint's record of batches: each batch id, its provider and state, and the
//! chunks it holds, written the moment the provider has created the batch and marked
//! collected once every answer in it is recorded. A resumed run reads the live ones
//! to reattach instead of asking again.
//!
//! Two tables in the checkpoint file (`batches`, `batch_requests`), created on first
//! use, through a connection of its own: the writer thread keeps the store's, and
//! SQLite (WAL) orders the two. Each request keeps a hash of its chunk's text, so that
//! a resumed run tells a chunk that changed while its batch ran; a ledger written
//! before that column existed gains it when opened, its old rows without a hash.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, params};

use crate::checkpoint::CheckpointStore;

const CREATE: &str = "
    CREATE TABLE IF NOT EXISTS batches (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        base_url TEXT NOT NULL,
        created_at TEXT NOT NULL,
        requests INTEGER NOT NULL,
        state TEXT NOT NULL,
        collected_at TEXT
    );
    CREATE TABLE IF NOT EXISTS batch_requests (
        batch_id TEXT NOT NULL REFERENCES batches(id),
        custom_id TEXT NOT NULL,
        stem TEXT NOT NULL,
        position INTEGER NOT NULL,
        text_hash TEXT,
        PRIMARY KEY (batch_id, custom_id)
    );
";

/// Ledgers written before requests kept their text's hash gain the column.
const HAS_TEXT_HASH: &str =
    "SELECT COUNT(*) FROM pragma_table_info('batch_requests') WHERE name = 'text_hash'";
const ADD_TEXT_HASH: &str = "ALTER TABLE batch_requests ADD COLUMN text_hash TEXT";

/// The id under which a submission is recorded until the provider answers it: this,
/// then the submission's tag.
pub const PENDING: &str = "pending-";

/// Why the batch record cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("the checkpoint {}: {source}", path.display())]
pub struct LedgerError {
    path: PathBuf,
    source: rusqlite::Error,
}

impl LedgerError {
    /// The checkpoint could not be read or written: that may pass.
    pub fn retry(&self) -> crate::failure::Retry {
        crate::failure::Retry::Helps
    }
}

/// A chunk in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchedChunk {
    pub custom_id: String,
    pub stem: String,
    pub position: u32,
    /// The hash of the chunk's text when it was submitted
    /// ([`crate::checkpoint::text_hash`]); none in ledgers written before it was kept.
    pub text_hash: Option<String>,
}

/// Where a batch was sent: what `tdg batch status` needs to ask about it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPlace {
    pub provider: String,
    pub model: String,
    pub base_url: String,
}

/// A recorded batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub id: String,
    pub provider: String,
    pub model: String,
    /// The server it was sent to, without credentials.
    pub base_url: String,
    pub created_at: String,
    pub requests: u64,
    /// The provider's word for its state when last asked.
    pub state: String,
    /// Whether every answer in it is recorded.
    pub collected: bool,
}

impl BatchRow {
    /// Whether this is a submission the provider has not answered yet.
    pub fn is_pending(&self) -> bool {
        self.id.starts_with(PENDING)
    }

    /// When it was recorded, in Unix seconds; none if the record cannot be read.
    pub fn recorded_unix(&self) -> Option<i64> {
        crate::timestamp::to_unix(&self.created_at)
    }
}

/// The batch record of one Q&A directory.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens the record in `qa_dir`'s checkpoint (which must exist), creating its
    /// tables if this is the first batch.
    pub fn open(qa_dir: &Path) -> Result<Self, LedgerError> {
        let path = CheckpointStore::path_in(qa_dir);
        let failed = |source| LedgerError {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(failed)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(failed)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(failed)?;
        // In one write transaction: `tdg batch status` may open it while a run does.
        let migrate = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute_batch(CREATE)?;
            let has_text_hash: i64 = tx.query_row(HAS_TEXT_HASH, [], |row| row.get(0))?;
            if has_text_hash == 0 {
                tx.execute(ADD_TEXT_HASH, [])?;
            }
            tx.commit()
        };
        let mut conn = conn;
        migrate(&mut conn).map_err(failed)?;
        Ok(Ledger { conn, path })
    }

    fn failed(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError {
            path: self.path.clone(),
            source,
        }
    }

    /// Records a batch the provider has just created, with its chunks, in one
    /// transaction.
    pub fn record(
        &mut self,
        id: &str,
        at: &BatchPlace,
        state: &str,
        chunks: &[BatchedChunk],
    ) -> Result<(), LedgerError> {
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT OR REPLACE INTO batches (id, provider, model, base_url, created_at, requests, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    at.provider,
                    at.model,
                    crate::redact::url(&at.base_url),
                    crate::timestamp::now(),
                    chunks.len() as i64,
                    state
                ],
            )?;
            let mut insert = tx.prepare(
                "INSERT OR REPLACE INTO batch_requests (batch_id, custom_id, stem, position, text_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for chunk in chunks {
                insert.execute(params![
                    id,
                    chunk.custom_id,
                    chunk.stem,
                    chunk.position,
                    chunk.text_hash
                ])?;
            }
            drop(insert);
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| self.failed(e))
    }

    /// Gives the batch recorded as `old` (a submission not yet answered) the id the
    /// provider gave it.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<(), LedgerError> {
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            // A copy under the new id first: the requests refer to their batch.
            tx.execute(
                "INSERT INTO batches (id, provider, model, base_url, created_at, requests, state, collected_at)
                 SELECT ?2, provider, model, base_url, created_at, requests, state, collected_at
                 FROM batches WHERE id = ?1",
                params![old, new],
            )?;
            tx.execute(
                "UPDATE batch_requests SET batch_id = ?2 WHERE batch_id = ?1",
                params![old, new],
            )?;
            tx.execute("DELETE FROM batches WHERE id = ?1", params![old])?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| self.failed(e))
    }

    /// Forgets a submission the provider never created: its chunks are free again.
    pub fn forget(&mut self, id: &str) -> Result<(), LedgerError> {
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM batch_requests WHERE batch_id = ?1",
                params![id],
            )?;
            tx.execute("DELETE FROM batches WHERE id = ?1", params![id])?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| self.failed(e))
    }

    /// Notes the batch's state as its provider last reported it.
    pub fn set_state(&self, id: &str, state: &str) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "UPDATE batches SET state = ?2 WHERE id = ?1",
                params![id, state],
            )
            .map(drop)
            .map_err(|e| self.failed(e))
    }

    /// Marks the batch collected: every answer in it is recorded.
    pub fn collected(&self, id: &str) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "UPDATE batches SET collected_at = ?2 WHERE id = ?1",
                params![id, crate::timestamp::now()],
            )
            .map(drop)
            .map_err(|e| self.failed(e))
    }

    /// Every batch, oldest first.
    pub fn batches(&self) -> Result<Vec<BatchRow>, LedgerError> {
        let read = || -> rusqlite::Result<Vec<BatchRow>> {
            self.conn
                .prepare(
                    "SELECT id, provider, model, base_url, created_at, requests, state,
                            collected_at IS NOT NULL
                     FROM batches ORDER BY rowid",
                )?
                .query_map([], |row| {
                    Ok(BatchRow {
                        id: row.get(0)?,
                        provider: row.get(1)?,
                        model: row.get(2)?,
                        base_url: row.get(3)?,
                        created_at: row.get(4)?,
                        requests: row.get::<_, i64>(5)? as u64,
                        state: row.get(6)?,
                        collected: row.get(7)?,
                    })
                })?
                .collect()
        };
        read().map_err(|e| self.failed(e))
    }

    /// The batches not yet collected, with their chunks.
    pub fn live(&self) -> Result<Vec<(BatchRow, Vec<BatchedChunk>)>, LedgerError> {
        let mut live = Vec::new();
        for batch in self.batches()?.into_iter().filter(|b| !b.collected) {
            let read = || -> rusqlite::Result<Vec<BatchedChunk>> {
                self.conn
                    .prepare(
                        "SELECT custom_id, stem, position, text_hash FROM batch_requests WHERE batch_id = ?1",
                    )?
                    .query_map([&batch.id], |row| {
                        Ok(BatchedChunk {
                            custom_id: row.get(0)?,
                            stem: row.get(1)?,
                            position: row.get(2)?,
                            text_hash: row.get(3)?,
                        })
                    })?
                    .collect()
            };
            let chunks = read().map_err(|e| self.failed(e))?;
            live.push((batch, chunks));
        }
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_is_recorded_pending_then_renamed_or_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        drop(CheckpointStore::open(dir.path()).unwrap());
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let place = BatchPlace {
            provider: "openai".into(),
            model: "m".into(),
            base_url: "https://user:secret@example.com".into(),
        };
        let chunk = |position| BatchedChunk {
            custom_id: format!("doc-{position}-00000000"),
            stem: "doc".into(),
            position,
            text_hash: Some(format!("hash-{position}")),
        };
        ledger
            .record("pending-a", &place, "submitting", &[chunk(0), chunk(1)])
            .unwrap();
        ledger
            .record("pending-b", &place, "submitting", &[chunk(2)])
            .unwrap();
        assert!(ledger.batches().unwrap().iter().all(BatchRow::is_pending));
        ledger.rename("pending-a", "batch_1").unwrap();
        ledger.forget("pending-b").unwrap();
        let live = ledger.live().unwrap();
        assert_eq!(live.len(), 1);
        let (batch, chunks) = &live[0];
        assert_eq!(batch.id, "batch_1");
        assert!(!batch.is_pending());
        assert_eq!(chunks.len(), 2);
        assert!(chunks.contains(&chunk(1)), "{chunks:?}");
        // The server is kept without its credentials.
        assert!(!batch.base_url.contains("secret"), "{}", batch.base_url);
        ledger.collected("batch_1").unwrap();
        assert!(ledger.live().unwrap().is_empty());
    }

    #[test]
    fn a_ledger_written_before_text_hashes_were_kept_is_read_and_gains_them() {
        let dir = tempfile::tempdir().unwrap();
        drop(CheckpointStore::open(dir.path()).unwrap());
        {
            // The tables as tdg wrote them before requests kept their text's hash.
            let old = Connection::open(CheckpointStore::path_in(dir.path())).unwrap();
            old.execute_batch(
                "CREATE TABLE batches (id TEXT PRIMARY KEY, provider TEXT NOT NULL,
                    model TEXT NOT NULL, base_url TEXT NOT NULL, created_at TEXT NOT NULL,
                    requests INTEGER NOT NULL, state TEXT NOT NULL, collected_at TEXT);
                 CREATE TABLE batch_requests (batch_id TEXT NOT NULL REFERENCES batches(id),
                    custom_id TEXT NOT NULL, stem TEXT NOT NULL, position INTEGER NOT NULL,
                    PRIMARY KEY (batch_id, custom_id));
                 INSERT INTO batches VALUES ('batch_old', 'openai', 'm', 'http://h',
                    '2026-01-02T03:04:05.000006', 1, 'in_progress', NULL);
                 INSERT INTO batch_requests VALUES ('batch_old', 'doc-0-00000000', 'doc', 0);",
            )
            .unwrap();
        }
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let live = ledger.live().unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].0.id, "batch_old");
        assert_eq!(
            live[0].1,
            [BatchedChunk {
                custom_id: "doc-0-00000000".into(),
                stem: "doc".into(),
                position: 0,
                text_hash: None,
            }]
        );
        assert!(live[0].0.recorded_unix().is_some());
        // New batches keep the hash; opening again changes nothing.
        let place = BatchPlace {
            provider: "openai".into(),
            model: "m".into(),
            base_url: "http://h".into(),
        };
        let chunk = BatchedChunk {
            custom_id: "doc-1-00000000".into(),
            stem: "doc".into(),
            position: 1,
            text_hash: Some("abc".into()),
        };
        ledger
            .record(
                "batch_new",
                &place,
                "submitted",
                std::slice::from_ref(&chunk),
            )
            .unwrap();
        drop(ledger);
        let ledger = Ledger::open(dir.path()).unwrap();
        let live = ledger.live().unwrap();
        assert_eq!(live.len(), 2);
        assert_eq!(live[1].1, [chunk]);
    }
}
