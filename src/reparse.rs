//! `tdg reparse`: run a parser again over the raw model answers the checkpoint keeps,
//! and rewrite the Q&A files, without calling the model. This is how a parser author
//! iterates, and how a run made with a weaker parser is rescued.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::checkpoint::{CheckpointStore, ChunkStatus, Reparsed, StoredPair};
use crate::generate::writer;
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
    #[error("{0}")]
    Store(String),
    #[error(transparent)]
    Plugin(#[from] crate::plugin::PluginError),
}

/// Re-parses every kept answer in `qa_dir` with `parser` and rewrites the Q&A files.
pub fn reparse(qa_dir: &Path, parser: &ParserPlugin) -> Result<ReparseReport, ReparseError> {
    if !CheckpointStore::path_in(qa_dir).is_file() {
        return Err(ReparseError::NoCheckpoint(qa_dir.to_path_buf()));
    }
    let mut store =
        CheckpointStore::open(qa_dir).map_err(|e| ReparseError::Store(e.to_string()))?;
    let answers = store
        .raw_answers()
        .map_err(|e| ReparseError::Store(e.to_string()))?;
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
        let (status, pairs, error) = match parser.parse(&answer.raw_response, answer.questions)? {
            Ok(pairs) => (
                ChunkStatus::Completed,
                {
                    let assessor = crate::quality::Assessor::new(
                        &answer.source_text,
                        &crate::quality::prompt_without(&answer.prompt, &answer.source_text),
                    );
                    pairs
                        .into_iter()
                        .map(|p| {
                            let quality = assessor.assess(&p.question, &p.answer);
                            StoredPair {
                                question: p.question,
                                answer: p.answer,
                                quality: Some(quality),
                            }
                        })
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
    store
        .apply_parses(&parses)
        .map_err(|e| ReparseError::Store(e.to_string()))?;
    for stem in documents {
        let finished = store
            .is_document_finished(&stem)
            .map_err(|e| ReparseError::Store(e.to_string()))?;
        let status = if finished { "completed" } else { "in_progress" };
        match writer::write_view(&store, qa_dir, &stem, status) {
            Ok(Some(name)) => report.qa_files.push(name),
            Ok(None) => {}
            Err(message) => return Err(ReparseError::Store(message)),
        }
    }
    Ok(report)
}
