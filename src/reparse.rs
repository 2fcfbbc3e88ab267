//! `tdg reparse`: run a parser again over the raw model answers the checkpoint keeps,
//! and rewrite the Q&A files, without calling the model. This is how a parser author
//! iterates, and how a run made with a weaker parser is rescued.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::checkpoint::{Access, CheckpointStore, ChunkStatus, Reparsed, StoreError, StoredPair};
use crate::outputs::qa_files::{self, ViewError};
use crate::plugin::{ParserPlugin, parser::ParseError};

/// What a re-parse changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReparseReport {
    /// Chunks with a raw answer, all re-parsed.
    pub chunks: usize,
    pub completed_before: usize,
    pub completed_after: usize,
    pub pairs_before: usize,
    pub pairs_after: usize,
    /// Chunks whose pairs or status changed.
    pub changed: usize,
    /// The Q&A files rewritten.
    pub qa_files: Vec<String>,
}

/// Why a re-parse cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ReparseError {
    #[error("{} holds no tdg checkpoint ({}): only runs made by tdg keep the raw answers to re-parse", .0.display(), crate::checkpoint::STORE_FILE)]
    NoCheckpoint(PathBuf),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    View(#[from] ViewError),
    #[error(transparent)]
    Plugin(#[from] crate::plugin::PluginError),
}

/// Re-parses every kept answer in `qa_dir` with `parser` and rewrites the Q&A files.
pub fn reparse(qa_dir: &Path, parser: &ParserPlugin) -> Result<ReparseReport, ReparseError> {
    let mut store = CheckpointStore::open_existing(qa_dir, Access::ReadWrite)?;
    let answers = store.raw_answers()?;
    let mut report = ReparseReport {
        chunks: answers.len(),
        ..Default::default()
    };
    let mut parses = Vec::with_capacity(answers.len());
    let mut documents = BTreeSet::new();
    for answer in answers {
        if answer.status == ChunkStatus::Completed {
            report.completed_before += 1;
            report.pairs_before += answer.pairs.len();
        }
        let (status, pairs, error) = match parser.parse(&answer.raw_response, &answer.asked)? {
            Ok(pairs) => (
                ChunkStatus::Completed,
                {
                    let assessor = crate::quality::Assessor::new(
                        &answer.source_text,
                        &crate::quality::prompt_without(&answer.prompt, &answer.source_text),
                    );
                    pairs
                        .into_iter()
                        .map(|example| StoredPair::assessed(example, &assessor, answer.asked.task))
                        .collect()
                },
                None,
            ),
            Err(verdict) => {
                let (ParseError::NoJson(reason)
                | ParseError::WrongShape(reason)
                | ParseError::NoPairs(reason)) = verdict;
                (
                    ChunkStatus::Failed,
                    Vec::new(),
                    Some(format!("the answer held no usable pair: {reason}")),
                )
            }
        };
        if status == ChunkStatus::Completed {
            report.completed_after += 1;
            report.pairs_after += pairs.len();
        }
        if status != answer.status || pairs != answer.pairs {
            report.changed += 1;
        }
        documents.insert(answer.stem.clone());
        parses.push(Reparsed {
            stem: answer.stem,
            position: answer.position,
            status,
            pairs,
            error,
        });
    }
    store.apply_parses(&parses)?;
    for stem in documents {
        if let Some(written) = qa_files::rewrite(&store, qa_dir, &stem)? {
            report.qa_files.push(written.name);
        }
    }
    Ok(report)
}

impl From<StoreError> for ReparseError {
    /// A directory without a checkpoint gets the message that says why reparse needs one.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NoCheckpoint { qa_dir } => ReparseError::NoCheckpoint(qa_dir),
            other => ReparseError::Store(other),
        }
    }
}
