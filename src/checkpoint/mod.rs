//! The checkpoint store: every chunk's outcome, durable the moment it is recorded.
//!
//! An SQLite database (`.tdg-checkpoint.sqlite3`, WAL journal, full sync) in the Q&A
//! directory holds, per chunk, its pairs or its failure and cause, the model's raw
//! response, the prompt, a hash of its text, and the settings it was made with. The
//! `_qa.json` files are views rendered from it (by [`crate::outputs::qa_files`]), so they can be
//! rewritten at any time without losing anything, and a parser can be re-run over the
//! raw responses without calling the model.
//!
//! One job per file: [`schema`] opens, versions and migrates; [`outcomes`] records and
//! reads chunk outcomes; [`judgments`] keeps the judge's verdicts; [`replay`] runs the
//! quality gate over stored pairs (with the corpus prefix cache); [`figures`] sums
//! them for `stats`; [`document_view`] gathers what a document's Q&A file shows;
//! [`decisions`] keeps a reviewer's accept, reject and edit decisions, which the views
//! apply; [`review_rows`] lists every pair with what the gate and the reviewer made of
//! it, for `tdg review`.

mod decisions;
mod document_view;
mod figures;
mod judgments;
mod merge;
pub(crate) mod original_import;
mod outcomes;
mod replay;
mod review_rows;
mod run_record;
mod schema;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::quality::{DropReason, PairQuality};

pub use decisions::{
    Decision, DecisionAction, DocumentDecisions, ReviewCounts, Verdict, current_reviewer,
};
pub use document_view::{DocumentView, KeptPair};
pub use judgments::{JudgeScores, Judgment, PairToJudge};
pub use merge::{AbsorbError, Absorbed};
pub use outcomes::{FailedChunk, StoredChunk};
pub use review_rows::{ReviewChunk, ReviewPair};
pub use run_record::{OllamaRecord, RunRecord};
pub use schema::{Access, SCHEMA_VERSION, STORE_FILE};

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
    /// The question's type, as the model labelled it and the parser checked it
    /// (`factual`, ...); absent when it gave none, or one not asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_type: Option<String>,
    /// The reasoning that leads to the answer (`--task reasoning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// What the quality gate found in the reasoning: present for every pair made
    /// under `--task reasoning` (with or without reasoning), absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_quality: Option<PairQuality>,
    /// The exchanges after the first (`--task conversation`), each with what the
    /// quality gate found in it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<StoredTurn>,
    /// Set by the gate, never stored: the conversation was cut before this exchange
    /// (1-based: the first follow-up is exchange 2), which failed the gate.
    #[serde(skip)]
    pub cut_at: Option<u32>,
}

/// One follow-up exchange of a stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTurn {
    pub question: String,
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<PairQuality>,
}

impl StoredTurn {
    /// The exchange's text.
    pub fn turn(&self) -> crate::task::Turn {
        crate::task::Turn {
            question: self.question.clone(),
            answer: self.answer.clone(),
        }
    }
}

impl StoredPair {
    /// A pair without quality figures.
    pub fn new(question: impl Into<String>, answer: impl Into<String>) -> Self {
        StoredPair {
            question: question.into(),
            answer: answer.into(),
            quality: None,
            question_type: None,
            reasoning: None,
            reasoning_quality: None,
            follow_ups: Vec::new(),
            cut_at: None,
        }
    }

    /// A conversation's whole dialogue, its first exchange the pair's own; empty for
    /// a pair without follow-ups.
    pub fn conversation(&self) -> Vec<crate::task::Turn> {
        if self.follow_ups.is_empty() {
            return Vec::new();
        }
        let first = crate::task::Turn {
            question: self.question.clone(),
            answer: self.answer.clone(),
        };
        std::iter::once(first)
            .chain(self.follow_ups.iter().map(StoredTurn::turn))
            .collect()
    }

    /// A parser's example as stored: its pair, its reasoning (under `task`
    /// reasoning) and each follow-up assessed against the chunk by `assessor`.
    pub fn assessed(
        example: crate::plugin::types::Example,
        assessor: &crate::quality::Assessor,
        task: crate::task::Task,
    ) -> Self {
        StoredPair {
            reasoning_quality: (task == crate::task::Task::Reasoning).then(|| {
                assessor.assess(
                    &example.question,
                    example.reasoning.as_deref().unwrap_or(""),
                )
            }),
            quality: Some(assessor.assess(&example.question, &example.answer)),
            follow_ups: example
                .follow_ups
                .into_iter()
                .map(|turn| StoredTurn {
                    quality: Some(assessor.assess(&turn.question, &turn.answer)),
                    question: turn.question,
                    answer: turn.answer,
                })
                .collect(),
            question: example.question,
            answer: example.answer,
            question_type: example.question_type,
            reasoning: example.reasoning,
            cut_at: None,
        }
    }
}

/// A document, as registered when its chunks are first queued.
#[derive(Debug, Clone, Default)]
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
    /// The chunk's page and heading path, when its chunker recorded them.
    pub place: crate::chunk_place::ChunkPlace,
    pub status: ChunkStatus,
    pub pairs: Vec<StoredPair>,
    pub error: Option<String>,
    pub raw_response: Option<String>,
    /// The messages sent, as JSON.
    pub prompt: Option<Value>,
    /// The settings the chunk was made with (shared by a run's chunks).
    pub settings: std::sync::Arc<RunRecord>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Of `tokens_out`, the reasoning's: as the provider counted them, or estimated
    /// by the reasoning's share of the answer's characters.
    pub tokens_reasoning: u64,
    pub duration_ms: u64,
    pub attempts: u32,
}

/// A chunk's raw model answer, as kept for re-parsing.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub stem: String,
    pub position: u32,
    pub raw_response: String,
    /// What the prompt asked for.
    pub asked: crate::task::Asked,
    pub status: ChunkStatus,
    pub pairs: Vec<StoredPair>,
    /// The messages that were sent.
    pub prompt: Vec<crate::chat::Message>,
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

/// What the quality filter did to a run's pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QualitySummary {
    pub dropped: std::collections::BTreeMap<DropReason, u64>,
    pub dropped_per_document: std::collections::BTreeMap<String, u64>,
    /// Kept pairs per fifth of the grounding scale.
    pub grounding: [u64; 5],
    /// Kept pairs per document, by question type ([`UNLABELLED`] for pairs without one).
    pub question_types_per_document:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// Pairs a reviewer rejected, per document (not counted in `dropped`).
    pub rejected_per_document: std::collections::BTreeMap<String, u64>,
    /// The reviewer's decisions on the pairs that exist.
    pub review: ReviewCounts,
    /// Kept conversations the gate cut before a bad follow-up (`--conversation-cut
    /// cut`).
    pub conversations_cut: u64,
}

/// The name `stats` counts pairs without a question type under.
pub const UNLABELLED: &str = "unlabelled";

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
    /// Of `tokens_out`, the reasoning's (`--task reasoning`).
    pub tokens_reasoning: u64,
    /// Time spent on the chunks that were asked about, in milliseconds.
    pub duration_ms: u64,
}

/// Errors of the store, naming its file (or the directory that has none).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{} holds no tdg checkpoint ({STORE_FILE}): run tdg generate there first",
        qa_dir.display()
    )]
    NoCheckpoint { qa_dir: PathBuf },
    #[error("checkpoint {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "checkpoint {} has schema version {found}, newer than the {supported} this tdg reads: use a newer tdg, or start again with --overwrite",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "checkpoint {} has an unknown schema version ({found}): it was not written by tdg; move it away or start again with --overwrite",
        path.display()
    )]
    UnknownSchema { path: PathBuf, found: String },
}

impl StoreError {
    /// A database that cannot be opened or written (a full disk, a lock) may work
    /// next time; a missing or foreign checkpoint will not.
    pub fn retry(&self) -> crate::failure::Retry {
        crate::failure::Retry::helps_if(matches!(self, StoreError::Sqlite { .. }))
    }

    fn sqlite(path: &Path, source: rusqlite::Error) -> Self {
        StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The checkpoint's file, or the directory without one.
    pub fn path(&self) -> &Path {
        match self {
            StoreError::NoCheckpoint { qa_dir } => qa_dir,
            StoreError::Sqlite { path, .. }
            | StoreError::NewerSchema { path, .. }
            | StoreError::UnknownSchema { path, .. } => path,
        }
    }
}

/// The hash of a chunk's text that tells a changed chunk on `--resume`: SHA-256, hex.
pub fn text_hash(text: &str) -> String {
    crate::digest::sha256_hex(text.as_bytes())
}

/// The checkpoint database of one Q&A directory.
pub struct CheckpointStore {
    conn: Connection,
    path: PathBuf,
    /// The settings row recorded last, to skip looking it up for every chunk.
    last_settings: Option<(std::sync::Arc<RunRecord>, i64)>,
    /// Under corpus-wide dedupe, the gate that has seen the first completed documents.
    corpus_prefix: std::cell::RefCell<Option<replay::CorpusPrefix>>,
}

impl CheckpointStore {
    fn fail(&self, source: rusqlite::Error) -> StoreError {
        StoreError::sqlite(&self.path, source)
    }
}
