//! The checkpoint store: every chunk's outcome, durable the moment it is recorded.
//!
//! An SQLite database (`.tdg-checkpoint.sqlite3`, WAL journal, full sync) in the Q&A
//! directory holds, per chunk, its pairs or its failure and cause, the model's raw
//! response, the prompt, and the settings it was made with. The `_qa.json` files are
//! views rendered from it ([`CheckpointStore::qa_file_view`]), so they can be
//! rewritten at any time without losing anything, and a parser can be re-run over the
//! raw responses without calling the model.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::qa_file::TrainingPair;
use crate::quality::{DedupeScope, DropReason, Gate, PairQuality, QualityFilter};

/// The store's file name in the Q&A directory.
pub const STORE_FILE: &str = ".tdg-checkpoint.sqlite3";
const SCHEMA_VERSION: i64 = 1;

/// How a chunk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkStatus {
    Completed,
    Failed,
    /// Empty text: nothing to ask about.
    Skipped,
}

impl ChunkStatus {
    fn as_str(self) -> &'static str {
        match self {
            ChunkStatus::Completed => "completed",
            ChunkStatus::Failed => "failed",
            ChunkStatus::Skipped => "skipped",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "completed" => ChunkStatus::Completed,
            "skipped" => ChunkStatus::Skipped,
            _ => ChunkStatus::Failed,
        }
    }
}

/// A question/answer pair as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPair {
    pub question: String,
    pub answer: String,
    /// What the quality gate found; absent for pairs imported from the original tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<PairQuality>,
}

impl StoredPair {
    /// A pair without quality figures.
    pub fn new(question: impl Into<String>, answer: impl Into<String>) -> Self {
        StoredPair {
            question: question.into(),
            answer: answer.into(),
            quality: None,
        }
    }
}

/// A document, as registered when its chunks are first queued.
#[derive(Debug, Clone)]
pub struct DocumentRecord {
    pub stem: String,
    pub chunks_file: PathBuf,
    pub metadata: Map<String, Value>,
    pub processing_info: Map<String, Value>,
    pub total_chunks: u32,
    /// The original's `qa_generation_info` (provider, model, settings, generated_at).
    pub generation_info: Map<String, Value>,
}

/// One chunk's outcome.
#[derive(Debug, Clone)]
pub struct ChunkOutcome {
    pub stem: String,
    pub position: u32,
    pub chunk_id: String,
    pub chunk_index: i64,
    pub chunk_start: i64,
    pub chunk_end: i64,
    pub source_text: String,
    pub status: ChunkStatus,
    pub pairs: Vec<StoredPair>,
    pub error: Option<String>,
    pub raw_response: Option<String>,
    /// The messages sent, as JSON.
    pub prompt: Option<Value>,
    /// The settings the chunk was made with, as JSON (shared by a run's chunks).
    pub settings: std::sync::Arc<Value>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub duration_ms: u64,
    pub attempts: u32,
}

/// A chunk's raw model answer, as kept for re-parsing.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub stem: String,
    pub position: u32,
    pub raw_response: String,
    pub questions: u32,
    pub status: ChunkStatus,
    pub pairs: Vec<StoredPair>,
    /// The messages that were sent.
    pub prompt: Vec<crate::provider::Message>,
    /// The chunk's text.
    pub source_text: String,
}

/// A chunk's new parse result.
#[derive(Debug, Clone)]
pub struct Reparsed {
    pub stem: String,
    pub position: u32,
    pub status: ChunkStatus,
    pub pairs: Vec<StoredPair>,
    pub error: Option<String>,
}

/// A judge's scores, each 0 to 10.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JudgeScores {
    pub accuracy: f64,
    pub completeness: f64,
    pub consistency: f64,
}

impl JudgeScores {
    /// 0.5·accuracy + 0.3·completeness + 0.2·consistency.
    pub fn overall(&self) -> f64 {
        0.5 * self.accuracy + 0.3 * self.completeness + 0.2 * self.consistency
    }
}

/// A judge's verdict on one pair: scores, or why there are none.
#[derive(Debug, Clone)]
pub struct Judgment {
    pub stem: String,
    pub position: u32,
    pub question: String,
    pub scores: Option<JudgeScores>,
    pub raw_response: Option<String>,
    pub error: Option<String>,
}

/// A pair for the judge, with the text it was made from.
#[derive(Debug, Clone)]
pub struct PairToJudge {
    pub stem: String,
    pub position: u32,
    pub question: String,
    pub answer: String,
    pub source_text: String,
}

/// What the quality filter did to a run's pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QualitySummary {
    pub dropped: std::collections::BTreeMap<DropReason, u64>,
    pub dropped_per_document: std::collections::BTreeMap<String, u64>,
    /// Kept pairs per fifth of the grounding scale.
    pub grounding: [u64; 5],
}

/// One document's figures, summed over its chunk outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DocumentFigures {
    pub stem: String,
    pub total_chunks: u64,
    pub completed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub pairs: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Time spent on the chunks that were asked about, in milliseconds.
    pub duration_ms: u64,
}

/// Errors of the store, naming its file.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint {}: {source}", path.display())]
pub struct StoreError {
    pub path: PathBuf,
    #[source]
    pub source: rusqlite::Error,
}

/// The checkpoint database of one Q&A directory.
pub struct CheckpointStore {
    conn: Connection,
    path: PathBuf,
    /// The settings row recorded last, to skip looking it up for every chunk.
    last_settings: Option<(std::sync::Arc<Value>, i64)>,
    /// Under corpus-wide dedupe, the gate that has seen the first completed documents.
    corpus_prefix: std::cell::RefCell<Option<CorpusPrefix>>,
}

/// A gate that has seen the longest name-ordered run of completed documents (under one
/// filter), so that a corpus-wide view reads only the documents after them instead of
/// every earlier one. Dropped whenever what it saw may have changed.
struct CorpusPrefix {
    filter: QualityFilter,
    stems: Vec<String>,
    gate: std::sync::Arc<Gate>,
}

impl CheckpointStore {
    /// The store's path in `qa_dir`.
    pub fn path_in(qa_dir: &Path) -> PathBuf {
        qa_dir.join(STORE_FILE)
    }

    /// Opens (creating if needed) the store in `qa_dir`.
    pub fn open(qa_dir: &Path) -> Result<Self, StoreError> {
        let path = Self::path_in(qa_dir);
        let fail = |source| StoreError {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(fail)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
                 json TEXT NOT NULL UNIQUE
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
                 PRIMARY KEY (stem, position)
             );",
        )
        .map_err(fail)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?1)",
            params![SCHEMA_VERSION.to_string()],
        )
        .map_err(fail)?;
        Ok(CheckpointStore {
            conn,
            path,
            last_settings: None,
            corpus_prefix: Default::default(),
        })
    }

    fn fail(&self, source: rusqlite::Error) -> StoreError {
        StoreError {
            path: self.path.clone(),
            source,
        }
    }

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

    /// The positions of a document's chunks that have an outcome, with it.
    pub fn chunk_statuses(&self, stem: &str) -> Result<Vec<(u32, ChunkStatus)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT position, status FROM chunks WHERE stem = ?1 ORDER BY position")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok((
                    row.get::<_, u32>(0)?,
                    ChunkStatus::parse(&row.get::<_, String>(1)?),
                ))
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Records outcomes in one transaction: all of them are durable when this returns.
    pub fn record(&mut self, outcomes: &[ChunkOutcome]) -> Result<(), StoreError> {
        self.forget_corpus_prefix_if(|last| outcomes.iter().any(|o| o.stem.as_str() <= last));
        let path = self.path.clone();
        let fail = |source| StoreError {
            path: path.clone(),
            source,
        };
        // The cached row counts only once its transaction is committed.
        let mut last_settings = self.last_settings.take();
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut settings_insert = tx
                .prepare_cached("INSERT OR IGNORE INTO settings (json) VALUES (?1)")
                .map_err(fail)?;
            let mut settings_id = tx
                .prepare_cached("SELECT id FROM settings WHERE json = ?1")
                .map_err(fail)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO chunks (stem, position, chunk_id, chunk_index, chunk_start, chunk_end,
                         source_text, status, pairs, error, raw_response, prompt, settings_id, tokens_in, tokens_out,
                         duration_ms, attempts, finished_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                )
                .map_err(fail)?;
            let now = crate::timestamp::now();
            for outcome in outcomes {
                let id = match &last_settings {
                    Some((settings, id)) if *settings == outcome.settings => *id,
                    _ => {
                        let settings_json = outcome.settings.to_string();
                        settings_insert
                            .execute(params![settings_json])
                            .map_err(fail)?;
                        let id: i64 = settings_id
                            .query_row(params![settings_json], |row| row.get(0))
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
                    ])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        self.last_settings = last_settings;
        Ok(())
    }

    /// The settings the latest chunks were made with (not imported ones).
    pub fn latest_settings(&self) -> Result<Option<Value>, StoreError> {
        self.conn
            .query_row(
                "SELECT json FROM settings WHERE json NOT LIKE '%imported_from%' ORDER BY id DESC LIMIT 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()
            .map(|json| json.and_then(|json| serde_json::from_str(&json).ok()))
            .map_err(|e| self.fail(e))
    }

    /// Records a judge's verdict on one pair (replacing an earlier one).
    pub fn record_judgment(&self, judgment: &Judgment) -> Result<(), StoreError> {
        self.forget_corpus_prefix_if(|last| judgment.stem.as_str() <= last);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO judgments (stem, position, question, accuracy, completeness, consistency, overall,
                     raw_response, error, judged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    judgment.stem,
                    judgment.position,
                    judgment.question,
                    judgment.scores.map(|s| s.accuracy),
                    judgment.scores.map(|s| s.completeness),
                    judgment.scores.map(|s| s.consistency),
                    judgment.scores.map(|s| s.overall()),
                    judgment.raw_response,
                    judgment.error,
                    crate::timestamp::now(),
                ],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// The overall judge scores of a document's pairs, by (position, question).
    fn judged_scores(
        &self,
        stem: &str,
    ) -> Result<std::collections::HashMap<(u32, String), f64>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT position, question, overall FROM judgments WHERE stem = ?1 AND overall IS NOT NULL")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok(((row.get(0)?, row.get(1)?), row.get(2)?))
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The pairs judged with a score (not failed), as (stem, position, question).
    pub fn judged_pairs(
        &self,
    ) -> Result<std::collections::HashSet<(String, u32, String)>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT stem, position, question FROM judgments WHERE overall IS NOT NULL")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The judge's figures: pairs judged with a score, of them passing (overall ≥ 8),
    /// and judgments that failed (no score).
    pub fn judge_figures(&self) -> Result<(u64, u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(overall IS NOT NULL), 0), COALESCE(SUM(overall >= ?1), 0), COALESCE(SUM(overall IS NULL), 0)
                 FROM judgments",
                params![crate::quality::JUDGE_PASS],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(|e| self.fail(e))
    }

    /// Every kept pair of every document with its chunk text, for the judge: the pairs
    /// the Q&A files hold under the run's filter (judge scores aside).
    pub fn pairs_to_judge(&self) -> Result<Vec<PairToJudge>, StoreError> {
        let mut filter = self.quality_filter();
        filter.min_judge_score = None;
        let mut out = Vec::new();
        self.for_each_document_gate(&filter, |stem, gate| {
            let mut statement = self
                .conn
                .prepare_cached("SELECT position, source_text, pairs FROM chunks WHERE stem = ?1 AND status = 'completed' ORDER BY position")
                .map_err(|e| self.fail(e))?;
            let rows: Vec<(u32, String, String)> = statement
                .query_map(params![stem], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .map_err(|e| self.fail(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.fail(e))?;
            for (position, source_text, pairs) in rows {
                let pairs: Vec<StoredPair> = serde_json::from_str(&pairs).unwrap_or_default();
                for pair in pairs {
                    if gate
                        .check(&pair.question, pair.quality.as_ref(), None)
                        .is_none()
                    {
                        out.push(PairToJudge {
                            stem: stem.to_string(),
                            position,
                            question: pair.question,
                            answer: pair.answer,
                            source_text: source_text.clone(),
                        });
                    }
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Stores the quality filter of the run, which views, `stats` and `reparse` apply.
    pub fn set_quality_filter(&self, filter: &QualityFilter) -> Result<(), StoreError> {
        let json = serde_json::to_string(filter).expect("the filter serializes");
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('quality_filter', ?1)",
                params![json],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// The quality filter of the run (the defaults if none was stored).
    pub fn quality_filter(&self) -> QualityFilter {
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'quality_filter'",
                [],
                |row| row.get::<_, String>(0),
            )
            .ok()
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    /// Every completed chunk's pairs of `stem`, in position order.
    fn completed_pairs(&self, stem: &str) -> Result<Vec<(u32, Vec<StoredPair>)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT position, pairs FROM chunks WHERE stem = ?1 AND status = 'completed' ORDER BY position")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok((
                    row.get(0)?,
                    serde_json::from_str(&row.get::<_, String>(1)?).unwrap_or_default(),
                ))
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// A gate for `stem` under `filter`: for corpus-wide duplicates it has already
    /// seen every earlier document (in name order), as their own views did. The
    /// completed ones at the front come from the cached [`CorpusPrefix`], extended
    /// as more complete; only the documents after them are read.
    fn gate_for(&self, stem: &str, filter: &QualityFilter) -> Result<Gate, StoreError> {
        if filter.dedupe != DedupeScope::Corpus {
            return Ok(Gate::new(*filter, []));
        }
        let documents = self.documents_completed()?;
        let earlier = &documents[..documents.partition_point(|(other, _)| other.as_str() < stem)];
        let mut cache = self.corpus_prefix.borrow_mut();
        let consistent = cache.as_ref().is_some_and(|prefix| {
            prefix.filter == *filter
                && prefix.stems.len() <= documents.len()
                && prefix
                    .stems
                    .iter()
                    .zip(&documents)
                    .all(|(a, (b, _))| a == b)
        });
        if !consistent {
            *cache = None;
        }
        let prefix = cache.get_or_insert_with(|| CorpusPrefix {
            filter: *filter,
            stems: Vec::new(),
            gate: std::sync::Arc::new(Gate::new(*filter, [])),
        });
        if prefix.stems.len() > earlier.len() {
            // The prefix has seen this document or later ones: read the earlier ones.
            let mut gate = Gate::new(*filter, []);
            for (other, _) in earlier {
                self.replay(other, &mut gate, |_, _, _| {})?;
            }
            return Ok(gate);
        }
        for (next, completed) in &earlier[prefix.stems.len()..] {
            if !completed {
                break;
            }
            self.replay(
                next,
                std::sync::Arc::make_mut(&mut prefix.gate),
                |_, _, _| {},
            )?;
            prefix.stems.push(next.clone());
        }
        let mut gate = Gate::on_top_of(prefix.gate.clone());
        for (other, _) in &earlier[prefix.stems.len()..] {
            self.replay(other, &mut gate, |_, _, _| {})?;
        }
        Ok(gate)
    }

    /// Drops the cached [`CorpusPrefix`] when `touches(last stem it saw)` says a change
    /// reaches the documents it saw.
    fn forget_corpus_prefix_if(&self, touches: impl FnOnce(&str) -> bool) {
        let mut cache = self.corpus_prefix.borrow_mut();
        if let Some(last) = cache.as_ref().and_then(|prefix| prefix.stems.last())
            && touches(last)
        {
            *cache = None;
        }
    }

    /// Every document's stem, sorted, and whether it is completed.
    fn documents_completed(&self) -> Result<Vec<(String, bool)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT stem, completed_at IS NOT NULL FROM documents ORDER BY stem")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Walks the documents in name order, handing each a gate: its own, or, for
    /// corpus-wide duplicates, one gate carried from document to document (so the
    /// walk reads each document once, not once per later document).
    fn for_each_document_gate(
        &self,
        filter: &QualityFilter,
        mut each: impl FnMut(&str, &mut Gate) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut corpus = (filter.dedupe == DedupeScope::Corpus).then(|| Gate::new(*filter, []));
        for stem in self.document_stems()? {
            let mut own = Gate::new(*filter, []);
            each(&stem, corpus.as_mut().unwrap_or(&mut own))?;
        }
        Ok(())
    }

    /// Runs a document's completed pairs through `gate` in chunk order, with the
    /// judge's scores, and tells `each` what became of every pair.
    fn replay(
        &self,
        stem: &str,
        gate: &mut Gate,
        mut each: impl FnMut(u32, &StoredPair, Option<DropReason>),
    ) -> Result<(), StoreError> {
        let judged = self.judged_scores(stem)?;
        for (position, pairs) in self.completed_pairs(stem)? {
            for pair in &pairs {
                let score = judged.get(&(position, pair.question.clone())).copied();
                each(
                    position,
                    pair,
                    gate.check(&pair.question, pair.quality.as_ref(), score),
                );
            }
        }
        Ok(())
    }

    /// What the run's quality filter did: pairs dropped by each reason (in all, and
    /// per document), and how many kept pairs fall in each fifth of the grounding
    /// scale (0–0.2, …, 0.8–1).
    pub fn quality_summary(&self) -> Result<QualitySummary, StoreError> {
        let filter = self.quality_filter();
        let mut summary = QualitySummary::default();
        self.for_each_document_gate(&filter, |stem, gate| {
            self.replay(stem, gate, |_, pair, verdict| match verdict {
                Some(reason) => {
                    *summary.dropped.entry(reason).or_insert(0) += 1;
                    *summary
                        .dropped_per_document
                        .entry(stem.to_string())
                        .or_insert(0) += 1;
                }
                None => {
                    if let Some(quality) = &pair.quality {
                        summary.grounding[((quality.grounding * 5.0) as usize).min(4)] += 1;
                    }
                }
            })
        })?;
        Ok(summary)
    }

    /// Per-document figures for `tdg stats`: every document with its total chunks
    /// and, per outcome, the chunk count, pairs, tokens and time.
    pub fn document_figures(&self) -> Result<Vec<DocumentFigures>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT d.stem, d.total_chunks,
                    COALESCE(SUM(c.status = 'completed'), 0), COALESCE(SUM(c.status = 'failed'), 0),
                    COALESCE(SUM(c.status = 'skipped'), 0),
                    COALESCE(SUM(CASE WHEN c.status = 'completed' THEN json_array_length(c.pairs) ELSE 0 END), 0),
                    COALESCE(SUM(c.tokens_in), 0), COALESCE(SUM(c.tokens_out), 0),
                    COALESCE(SUM(CASE WHEN c.status != 'skipped' THEN c.duration_ms ELSE 0 END), 0)
                 FROM documents d LEFT JOIN chunks c ON c.stem = d.stem
                 GROUP BY d.stem ORDER BY d.stem",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(DocumentFigures {
                    stem: row.get(0)?,
                    total_chunks: row.get(1)?,
                    completed: row.get(2)?,
                    failed: row.get(3)?,
                    skipped: row.get(4)?,
                    pairs: row.get(5)?,
                    tokens_in: row.get(6)?,
                    tokens_out: row.get(7)?,
                    duration_ms: row.get(8)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The errors of failed chunks, most common first, with their counts.
    pub fn failure_causes(&self, limit: usize) -> Result<Vec<(String, u64)>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT COALESCE(error, 'unknown'), COUNT(*) AS n FROM chunks WHERE status = 'failed'
                 GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?1",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Every chunk that has a raw model answer, for re-parsing: its place, the
    /// answer, the questions asked for, and its pairs now.
    pub fn raw_answers(&self) -> Result<Vec<RawAnswer>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT c.stem, c.position, c.raw_response, COALESCE(json_extract(s.json, '$.questions_per_chunk'), 3),
                        c.status, c.pairs, c.prompt, c.source_text
                 FROM chunks c JOIN settings s ON s.id = c.settings_id
                 WHERE c.raw_response IS NOT NULL ORDER BY c.stem, c.position",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(RawAnswer {
                    stem: row.get(0)?,
                    position: row.get(1)?,
                    raw_response: row.get(2)?,
                    questions: row.get(3)?,
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
        let fail = |source| StoreError {
            path: path.clone(),
            source,
        };
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

    /// The `_qa.json` view of a document, in the original tool's layout and key
    /// order, with the given `status`; `None` if the document is unknown.
    pub fn qa_file_view(&self, stem: &str, status: &str) -> Result<Option<Value>, StoreError> {
        let doc = self
            .conn
            .query_row(
                "SELECT metadata, processing_info, total_chunks, generation_info, completed_at
                 FROM documents WHERE stem = ?1",
                params![stem],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, u32>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some((metadata, processing_info, total_chunks, generation_info, completed_at)) = doc
        else {
            return Ok(None);
        };
        let metadata: Map<String, Value> = serde_json::from_str(&metadata).unwrap_or_default();
        let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or_else(|_| json!({}));
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT position, chunk_id, chunk_index, chunk_start, chunk_end, source_text, status, pairs
                 FROM chunks WHERE stem = ?1 ORDER BY position",
            )
            .map_err(|e| self.fail(e))?;
        let mut rows = statement.query(params![stem]).map_err(|e| self.fail(e))?;
        let text = |key: &str| {
            metadata
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let filter = self.quality_filter();
        let mut gate = self.gate_for(stem, &filter)?;
        let judged = self.judged_scores(stem)?;
        let mut training_pairs = Vec::new();
        let mut completed = Vec::new();
        let mut failed = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let position: u32 = row.get(0).map_err(|e| self.fail(e))?;
            let status: String = row.get(6).map_err(|e| self.fail(e))?;
            match ChunkStatus::parse(&status) {
                ChunkStatus::Completed => completed.push(position),
                ChunkStatus::Failed => {
                    failed.push(position);
                    continue;
                }
                ChunkStatus::Skipped => continue,
            }
            let pairs: Vec<StoredPair> =
                serde_json::from_str(&row.get::<_, String>(7).map_err(|e| self.fail(e))?)
                    .unwrap_or_default();
            let source_text: String = row.get(5).map_err(|e| self.fail(e))?;
            for pair in pairs {
                let score = judged.get(&(position, pair.question.clone())).copied();
                if gate
                    .check(&pair.question, pair.quality.as_ref(), score)
                    .is_some()
                {
                    continue;
                }
                let quality = match (&pair.quality, filter.with_quality) {
                    (Some(quality), true) => Some(json!({
                        "grounding": (quality.grounding * 1000.0).round() / 1000.0,
                        "evidence": quality.evidence.map(|(start, end)| json!({"start": start, "end": end})),
                        "reasons": [],
                    })),
                    _ => None,
                };
                training_pairs.push(TrainingPair {
                    question: pair.question,
                    answer: pair.answer,
                    quality,
                    source_file: text("source_file"),
                    file_name: text("file_name"),
                    file_type: text("file_type"),
                    chunk_id: row.get(1).map_err(|e| self.fail(e))?,
                    chunk_index: row.get(2).map_err(|e| self.fail(e))?,
                    chunk_start: row.get(3).map_err(|e| self.fail(e))?,
                    chunk_end: row.get(4).map_err(|e| self.fail(e))?,
                    source_text: source_text.clone(),
                });
            }
        }
        let summary = json!({
            "total_chunks": total_chunks,
            "completed_chunks": completed.len(),
            "failed_chunks": failed.len(),
            "total_qa_pairs": training_pairs.len(),
        });
        let mut view = Map::new();
        view.insert("metadata".into(), Value::Object(metadata.clone()));
        view.insert("processing_info".into(), parse(&processing_info));
        view.insert("qa_generation_info".into(), parse(&generation_info));
        view.insert("chunks".into(), json!([]));
        view.insert(
            "training_pairs".into(),
            serde_json::to_value(&training_pairs).expect("pairs serialize"),
        );
        view.insert("status".into(), json!(status));
        view.insert("completed_chunks".into(), json!(completed));
        view.insert("failed_chunks".into(), json!(failed));
        if let Some(when) = completed_at.filter(|_| status == "completed") {
            view.insert("completion_time".into(), json!(when));
        }
        view.insert("summary".into(), summary);
        Ok(Some(Value::Object(view)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(
        stem: &str,
        position: u32,
        status: ChunkStatus,
        pairs: &[(&str, &str)],
    ) -> ChunkOutcome {
        ChunkOutcome {
            stem: stem.into(),
            position,
            chunk_id: format!("0_{position}"),
            chunk_index: position as i64,
            chunk_start: 0,
            chunk_end: 10,
            source_text: format!("text {position}"),
            status,
            pairs: pairs.iter().map(|(q, a)| StoredPair::new(*q, *a)).collect(),
            error: (status == ChunkStatus::Failed).then(|| "no JSON".to_string()),
            raw_response: Some("raw".into()),
            prompt: None,
            settings: std::sync::Arc::new(json!({"model": "m"})),
            tokens_in: 1,
            tokens_out: 2,
            duration_ms: 3,
            attempts: 1,
        }
    }

    fn document(stem: &str, total: u32) -> DocumentRecord {
        let mut metadata = Map::new();
        metadata.insert("file_name".into(), json!(format!("{stem}.txt")));
        DocumentRecord {
            stem: stem.into(),
            chunks_file: PathBuf::from(format!("{stem}_chunks.json")),
            metadata,
            processing_info: Map::new(),
            total_chunks: total,
            generation_info: Map::new(),
        }
    }

    #[test]
    fn outcomes_survive_reopening_and_render_in_position_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = CheckpointStore::open(dir.path()).unwrap();
            store.put_document(&document("doc", 4)).unwrap();
            store
                .record(&[
                    outcome("doc", 2, ChunkStatus::Completed, &[("q2", "a2")]),
                    outcome(
                        "doc",
                        0,
                        ChunkStatus::Completed,
                        &[("q0", "a0"), ("q0b", "a0b")],
                    ),
                    outcome("doc", 1, ChunkStatus::Failed, &[]),
                    outcome("doc", 3, ChunkStatus::Skipped, &[]),
                ])
                .unwrap();
        }
        let store = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(store.counts().unwrap(), (4, 1));
        let view = store.qa_file_view("doc", "in_progress").unwrap().unwrap();
        let keys: Vec<&str> = view
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "metadata",
                "processing_info",
                "qa_generation_info",
                "chunks",
                "training_pairs",
                "status",
                "completed_chunks",
                "failed_chunks",
                "summary"
            ]
        );
        let questions: Vec<&str> = view["training_pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["question"].as_str().unwrap())
            .collect();
        assert_eq!(questions, ["q0", "q0b", "q2"]);
        assert_eq!(view["training_pairs"][0]["file_name"], "doc.txt");
        assert_eq!(view["training_pairs"][2]["source_text"], "text 2");
        assert_eq!(view["completed_chunks"], json!([0, 2]));
        assert_eq!(view["failed_chunks"], json!([1]));
        assert_eq!(
            view["summary"],
            json!({"total_chunks": 4, "completed_chunks": 2, "failed_chunks": 1, "total_qa_pairs": 3})
        );
    }

    #[test]
    fn a_retried_chunk_replaces_its_failure() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = CheckpointStore::open(dir.path()).unwrap();
        store.put_document(&document("doc", 1)).unwrap();
        store
            .record(&[outcome("doc", 0, ChunkStatus::Failed, &[])])
            .unwrap();
        store
            .record(&[outcome("doc", 0, ChunkStatus::Completed, &[("q", "a")])])
            .unwrap();
        assert_eq!(
            store.chunk_statuses("doc").unwrap(),
            [(0, ChunkStatus::Completed)]
        );
        store
            .mark_document_completed("doc", "2026-01-01T00:00:00.000000")
            .unwrap();
        let view = store.qa_file_view("doc", "completed").unwrap().unwrap();
        assert_eq!(view["completion_time"], "2026-01-01T00:00:00.000000");
        assert_eq!(view["summary"]["total_qa_pairs"], 1);
    }

    #[test]
    fn each_chunk_keeps_the_settings_it_was_made_with() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = CheckpointStore::open(dir.path()).unwrap();
        store.put_document(&document("doc", 5)).unwrap();
        let made_with = |position, questions: u32| {
            let mut outcome = outcome("doc", position, ChunkStatus::Completed, &[("q", "a")]);
            outcome.settings = std::sync::Arc::new(json!({"questions_per_chunk": questions}));
            outcome
        };
        store.record(&[made_with(0, 2), made_with(1, 2)]).unwrap();
        store.record(&[made_with(2, 5), made_with(3, 2)]).unwrap();
        store.record(&[made_with(4, 5)]).unwrap();
        let questions: Vec<(u32, u32)> = store
            .raw_answers()
            .unwrap()
            .into_iter()
            .map(|answer| (answer.position, answer.questions))
            .collect();
        assert_eq!(questions, [(0, 2), (1, 2), (2, 5), (3, 2), (4, 5)]);
    }

    #[test]
    fn corpus_dedupe_sees_earlier_documents_as_their_views_kept_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = CheckpointStore::open(dir.path()).unwrap();
        store
            .set_quality_filter(&QualityFilter {
                dedupe: DedupeScope::Corpus,
                min_judge_score: Some(8.0),
                ..Default::default()
            })
            .unwrap();
        let graded = |stem: &str, question: &str| {
            let mut outcome = outcome(stem, 0, ChunkStatus::Completed, &[]);
            outcome.pairs = vec![StoredPair {
                question: question.into(),
                answer: "Reproduction and distribution.".into(),
                quality: Some(PairQuality {
                    grounding: 1.0,
                    ..Default::default()
                }),
            }];
            outcome
        };
        for stem in ["a", "b", "c"] {
            store.put_document(&document(stem, 1)).unwrap();
        }
        store
            .record(&[
                graded("a", "What does the license cover?"),
                graded("b", "What does the license cover?"),
                graded("c", "What does the LICENSE cover"),
            ])
            .unwrap();
        // The judge failed a's pair: a's file drops it, so it is no model for b's.
        store
            .record_judgment(&Judgment {
                stem: "a".into(),
                position: 0,
                question: "What does the license cover?".into(),
                scores: Some(JudgeScores {
                    accuracy: 2.0,
                    completeness: 2.0,
                    consistency: 2.0,
                }),
                raw_response: None,
                error: None,
            })
            .unwrap();
        let kept = |stem: &str| {
            store.qa_file_view(stem, "completed").unwrap().unwrap()["summary"]["total_qa_pairs"]
                .as_u64()
                .unwrap()
        };
        assert_eq!((kept("a"), kept("b"), kept("c")), (0, 1, 0));
        let summary = store.quality_summary().unwrap();
        assert_eq!(
            summary.dropped.into_iter().collect::<Vec<_>>(),
            [(DropReason::Duplicate, 1), (DropReason::FailedJudge, 1)]
        );
        assert_eq!(
            summary.dropped_per_document.into_iter().collect::<Vec<_>>(),
            [("a".to_string(), 1), ("c".to_string(), 1)]
        );
        let to_judge: Vec<String> = store
            .pairs_to_judge()
            .unwrap()
            .into_iter()
            .map(|pair| pair.stem)
            .collect();
        assert_eq!(to_judge, ["a"], "b and c repeat a's question");
    }

    #[test]
    fn corpus_views_from_the_cached_prefix_match_a_fresh_reading() {
        let dir = tempfile::tempdir().unwrap();
        let filter = QualityFilter {
            dedupe: DedupeScope::Corpus,
            min_judge_score: Some(8.0),
            ..Default::default()
        };
        let mut store = CheckpointStore::open(dir.path()).unwrap();
        store.set_quality_filter(&filter).unwrap();
        let stems = ["d0", "d1", "d2", "d3", "d4", "d5"];
        for stem in stems {
            store.put_document(&document(stem, 3)).unwrap();
        }
        let pool = [
            "What does the license cover?",
            "Who grants the license?",
            "What does Section 3 cover?",
            "Which rights do users get?",
            "What is the Work?",
            "When does the grant end?",
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        let chunk = |stem: &str, position: u32, rng: &mut fastrand::Rng| {
            let mut outcome = outcome(stem, position, ChunkStatus::Completed, &[]);
            outcome.pairs = (0..2)
                .map(|_| StoredPair {
                    question: pool[rng.usize(..pool.len())].into(),
                    answer: "An answer.".into(),
                    quality: Some(PairQuality {
                        grounding: 1.0,
                        ..Default::default()
                    }),
                })
                .collect();
            outcome
        };
        let mut left: Vec<(usize, u32)> = (0..stems.len())
            .flat_map(|d| (0..3).map(move |p| (d, p)))
            .collect();
        rng.shuffle(&mut left);
        // Mostly in order, as a run goes (taken from the back), in pairs of documents
        // whose chunks mix.
        left.sort_by_key(|(d, _)| std::cmp::Reverse(*d / 2));
        let mut first_questions: Vec<Option<String>> = vec![None; stems.len()];
        let views = |store: &CheckpointStore| -> Vec<Value> {
            stems
                .iter()
                .map(|stem| store.qa_file_view(stem, "in_progress").unwrap().unwrap())
                .collect()
        };
        let mut step = 0;
        while let Some((d, position)) = left.pop() {
            step += 1;
            let outcome = chunk(stems[d], position, &mut rng);
            if position == 0 {
                first_questions[d] = Some(outcome.pairs[0].question.clone());
            }
            store.record(&[outcome]).unwrap();
            if store.is_document_finished(stems[d]).unwrap() {
                store.mark_document_completed(stems[d], "2026").unwrap();
            }
            // Now and then, a retried chunk of the first finished document, or a judge
            // failing one of its pairs: documents the cached prefix has seen.
            let finished =
                (0..stems.len()).find(|d| store.is_document_finished(stems[*d]).unwrap());
            if let Some(finished) = finished
                && step % 3 == 0
            {
                if step % 2 == 0 {
                    let retried = chunk(stems[finished], 0, &mut rng);
                    first_questions[finished] = Some(retried.pairs[0].question.clone());
                    store.record(&[retried]).unwrap();
                } else {
                    store
                        .record_judgment(&Judgment {
                            stem: stems[finished].into(),
                            position: 0,
                            question: first_questions[finished].clone().unwrap(),
                            scores: Some(JudgeScores {
                                accuracy: 1.0,
                                completeness: 1.0,
                                consistency: 1.0,
                            }),
                            raw_response: None,
                            error: None,
                        })
                        .unwrap();
                }
            }
            let fresh = CheckpointStore::open(dir.path()).unwrap();
            assert_eq!(views(&store), views(&fresh), "step {step}");
        }
        let kept: u64 = views(&store)
            .iter()
            .map(|view| view["summary"]["total_qa_pairs"].as_u64().unwrap())
            .sum();
        assert!((2..36).contains(&kept), "{kept} pairs kept");
    }
}
