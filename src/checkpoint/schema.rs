//! Opening the checkpoint: creating a new one, opening an existing one (read-only when
//! nothing needs writing), and the schema version that is written at creation and
//! checked at every open.
//!
//! A checkpoint from a newer or unknown schema is refused with a clear error, never
//! read half-understood; an older one is migrated in one transaction, so a checkpoint
//! written by an earlier tdg opens and resumes as if this one had written it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use super::decisions::CREATE_DECISIONS;
use super::{CheckpointStore, StoreError, run_record::RunRecord, text_hash};

/// The store's file name in the Q&A directory.
pub const STORE_FILE: &str = ".tdg-checkpoint.sqlite3";
/// The schema this code writes. 1: the first; 2: typed run records (`settings.imported`)
/// and a hash of each chunk's text (`chunks.text_hash`); 3: each chunk's page and
/// heading path (`chunks.place`); 4: the reasoning's share of a chunk's output tokens
/// (`chunks.tokens_reasoning`) and a reviewer's edit of a conversation's follow-ups
/// (`decisions.new_follow_ups`).
pub const SCHEMA_VERSION: i64 = 4;

const CREATE_TABLES: &str = "
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS documents (
        stem TEXT PRIMARY KEY,
        chunks_file TEXT NOT NULL,
        metadata TEXT NOT NULL,
        processing_info TEXT NOT NULL,
        total_chunks INTEGER NOT NULL,
        generation_info TEXT NOT NULL,
        completed_at TEXT
    );
    CREATE TABLE IF NOT EXISTS settings (
        id INTEGER PRIMARY KEY,
        json TEXT NOT NULL UNIQUE,
        imported INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS judgments (
        stem TEXT NOT NULL,
        position INTEGER NOT NULL,
        question TEXT NOT NULL,
        accuracy REAL,
        completeness REAL,
        consistency REAL,
        overall REAL,
        raw_response TEXT,
        error TEXT,
        judged_at TEXT NOT NULL,
        PRIMARY KEY (stem, position, question)
    );
    CREATE TABLE IF NOT EXISTS chunks (
        stem TEXT NOT NULL,
        position INTEGER NOT NULL,
        chunk_id TEXT NOT NULL,
        chunk_index INTEGER NOT NULL,
        chunk_start INTEGER NOT NULL,
        chunk_end INTEGER NOT NULL,
        source_text TEXT NOT NULL,
        status TEXT NOT NULL,
        pairs TEXT NOT NULL,
        error TEXT,
        raw_response TEXT,
        prompt TEXT,
        settings_id INTEGER NOT NULL REFERENCES settings(id),
        tokens_in INTEGER NOT NULL,
        tokens_out INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        finished_at TEXT NOT NULL,
        text_hash TEXT,
        place TEXT,
        tokens_reasoning INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (stem, position)
    );
";

/// How an existing checkpoint is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// For reading only (`stats`); it is still migrated if it is older.
    ReadOnly,
    ReadWrite,
}

impl CheckpointStore {
    /// The store's path in `qa_dir`.
    pub fn path_in(qa_dir: &Path) -> PathBuf {
        qa_dir.join(STORE_FILE)
    }

    /// Opens the store in `qa_dir`, creating it if there is none.
    pub fn open(qa_dir: &Path) -> Result<Self, StoreError> {
        let path = Self::path_in(qa_dir);
        let conn = Connection::open(&path).map_err(|e| StoreError::sqlite(&path, e))?;
        prepare_for_writing(&conn).map_err(|e| StoreError::sqlite(&path, e))?;
        let fresh: bool = conn
            .query_row("SELECT COUNT(*) = 0 FROM sqlite_master", [], |row| {
                row.get(0)
            })
            .map_err(|e| StoreError::sqlite(&path, e))?;
        if fresh {
            // One transaction: a process killed here leaves no tables without a version.
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {CREATE_TABLES} {CREATE_DECISIONS}
                 INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
                 COMMIT;"
            ))
            .map_err(|e| StoreError::sqlite(&path, e))?;
        }
        Self::checked(conn, path)
    }

    /// Opens the store an earlier run left in `qa_dir`, never creating one: a
    /// missing or empty file is [`StoreError::NoCheckpoint`].
    pub fn open_existing(qa_dir: &Path, access: Access) -> Result<Self, StoreError> {
        let path = Self::path_in(qa_dir);
        let exists = std::fs::metadata(&path).is_ok_and(|meta| meta.is_file() && meta.len() > 0);
        if !exists {
            return Err(StoreError::NoCheckpoint {
                qa_dir: qa_dir.to_path_buf(),
            });
        }
        let read_only = access == Access::ReadOnly
            && schema_version_of(&path).is_ok_and(|version| version == Some(SCHEMA_VERSION));
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| StoreError::sqlite(&path, e))?;
        if read_only {
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(|e| StoreError::sqlite(&path, e))?;
        } else {
            prepare_for_writing(&conn).map_err(|e| StoreError::sqlite(&path, e))?;
        }
        Self::checked(conn, path)
    }

    /// Checks the schema version of an opened store, migrating an older one.
    fn checked(mut conn: Connection, path: PathBuf) -> Result<Self, StoreError> {
        let found = read_version(&conn).map_err(|e| StoreError::sqlite(&path, e))?;
        let version = match found.as_deref().map(str::parse::<i64>) {
            Some(Ok(version)) if version >= 1 => version,
            _ => {
                return Err(StoreError::UnknownSchema {
                    path,
                    found: found.unwrap_or_else(|| "none".into()),
                });
            }
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            migrate(&mut conn, version).map_err(|e| StoreError::sqlite(&path, e))?;
            tracing::info!(
                "migrated the checkpoint {} from schema {version} to {SCHEMA_VERSION}",
                path.display()
            );
        }
        Ok(CheckpointStore {
            conn,
            path,
            last_settings: None,
            corpus_prefix: Default::default(),
        })
    }
}

/// WAL journal, full sync, and patience with another connection's transaction.
fn prepare_for_writing(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
}

/// The schema version stored in `conn`, `None` without a `meta` table or entry.
fn read_version(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let has_meta: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
        [],
        |row| row.get(0),
    )?;
    if !has_meta {
        return Ok(None);
    }
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |row| row.get(0),
    )
    .optional()
}

/// The schema version of the checkpoint at `path`, read without writing anything.
fn schema_version_of(path: &Path) -> rusqlite::Result<Option<i64>> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(read_version(&conn)?.and_then(|text| text.parse().ok()))
}

/// Brings a checkpoint of schema `from` up to [`SCHEMA_VERSION`], in one transaction.
fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    if from < 2 {
        to_version_2(&tx)?;
    }
    if from < 3 {
        // Schema 3: a chunk's page and heading path (`crate::chunk_place`), NULL when
        // its chunker recorded neither, as for every chunk of an older checkpoint.
        tx.execute_batch("ALTER TABLE chunks ADD COLUMN place TEXT;")?;
    }
    if from < 4 {
        // Schema 4: of a chunk's output tokens, its reasoning's; 0 for every chunk
        // made before there were tasks, which kept no reasoning.
        tx.execute_batch(
            "ALTER TABLE chunks ADD COLUMN tokens_reasoning INTEGER NOT NULL DEFAULT 0;",
        )?;
        // And a reviewer's edit of a conversation's follow-ups, where decisions exist.
        let has_decisions: bool = tx.query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'",
            [],
            |row| row.get(0),
        )?;
        if has_decisions {
            tx.execute_batch("ALTER TABLE decisions ADD COLUMN new_follow_ups TEXT;")?;
        }
    }
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        params![SCHEMA_VERSION.to_string()],
    )?;
    tx.commit()
}

/// Schema 2: run records in one typed shape, marked when imported, and a hash of
/// every chunk's text.
fn to_version_2(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE settings ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE chunks ADD COLUMN text_hash TEXT;",
    )?;
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT id, json FROM settings ORDER BY id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, json) in rows {
        // A row that cannot be read keeps its text; the reader falls back to defaults.
        let Ok(record) = RunRecord::from_stored(&json) else {
            continue;
        };
        let stored = record.to_stored();
        let same: Option<i64> = tx
            .query_row(
                "SELECT id FROM settings WHERE json = ?1 AND id != ?2",
                params![stored, id],
                |row| row.get(0),
            )
            .optional()?;
        match same {
            // Two old shapes that now read the same: keep one row.
            Some(other) => {
                tx.execute(
                    "UPDATE chunks SET settings_id = ?1 WHERE settings_id = ?2",
                    params![other, id],
                )?;
                tx.execute("DELETE FROM settings WHERE id = ?1", params![id])?;
            }
            None => {
                tx.execute(
                    "UPDATE settings SET json = ?1, imported = ?2 WHERE id = ?3",
                    params![stored, record.is_imported(), id],
                )?;
            }
        }
    }
    let texts: Vec<(i64, String)> = tx
        .prepare("SELECT rowid, source_text FROM chunks")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE chunks SET text_hash = ?1 WHERE rowid = ?2")?;
    for (rowid, text) in texts {
        update.execute(params![text_hash(&text), rowid])?;
    }
    Ok(())
}
