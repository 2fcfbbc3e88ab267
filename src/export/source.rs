//! What an export reads: the documents of a Q&A directory (one `*_qa.json` each, read
//! one at a time, so memory holds one document) or of a combined `training_data.json`
//! (read whole, as it is one JSON document), with their pairs in order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ExportError;
use crate::qa_file::{self, DocumentStatus, TrainingPair};

/// The input of an export.
pub enum Source {
    /// A Q&A directory: its documents' Q&A files, by name.
    QaDir { dir: PathBuf, files: Vec<PathBuf> },
    /// A combined `training_data.json`: its pairs grouped by document (`file_name`).
    Combined {
        path: PathBuf,
        documents: BTreeMap<String, Vec<TrainingPair>>,
    },
}

/// What of a Q&A file an export reads.
#[derive(Deserialize)]
struct QaFileForExport {
    #[serde(default)]
    status: Option<DocumentStatus>,
    #[serde(default)]
    training_pairs: Vec<TrainingPair>,
}

/// What of a combined file an export reads.
#[derive(Deserialize)]
struct CombinedForExport {
    #[serde(default)]
    training_pairs: Vec<TrainingPair>,
}

impl Source {
    /// Opens `input`: a Q&A directory or a combined file.
    pub fn open(input: &Path) -> Result<Source, ExportError> {
        if input.is_dir() {
            let files = qa_file::list_qa_files(input).map_err(|source| ExportError::Read {
                path: input.to_path_buf(),
                message: source.to_string(),
            })?;
            if files.is_empty() {
                return Err(ExportError::NoDocuments(input.to_path_buf()));
            }
            return Ok(Source::QaDir {
                dir: input.to_path_buf(),
                files,
            });
        }
        if !input.is_file() {
            return Err(ExportError::MissingInput(input.to_path_buf()));
        }
        let bytes = std::fs::read(input).map_err(|e| ExportError::Read {
            path: input.to_path_buf(),
            message: e.to_string(),
        })?;
        let combined: CombinedForExport =
            crate::pyjson::from_slice(&bytes).map_err(|e| ExportError::Read {
                path: input.to_path_buf(),
                message: format!("not a combined training_data.json ({e})"),
            })?;
        let mut documents: BTreeMap<String, Vec<TrainingPair>> = BTreeMap::new();
        for pair in combined.training_pairs {
            let document = if pair.file_name.is_empty() {
                pair.source_file.clone()
            } else {
                pair.file_name.clone()
            };
            documents.entry(document).or_default().push(pair);
        }
        Ok(Source::Combined {
            path: input.to_path_buf(),
            documents,
        })
    }

    /// The Q&A directory, when the input is one (where the checkpoint is).
    pub fn qa_dir(&self) -> Option<&Path> {
        match self {
            Source::QaDir { dir, .. } => Some(dir),
            Source::Combined { .. } => None,
        }
    }

    /// The input's path, for messages and the card.
    pub fn path(&self) -> &Path {
        match self {
            Source::QaDir { dir, .. } => dir,
            Source::Combined { path, .. } => path,
        }
    }

    /// Calls `each` with every document's name and pairs, in name order. A Q&A file
    /// whose status is not `completed` is passed over (as `tdg combine` does), with a
    /// warning when `warn` is set.
    pub fn for_each_document(
        &self,
        warn: bool,
        mut each: impl FnMut(&str, &[TrainingPair]) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        match self {
            Source::QaDir { files, .. } => {
                for path in files {
                    let bytes = std::fs::read(path).map_err(|e| ExportError::Read {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                    let file: QaFileForExport =
                        crate::pyjson::from_slice(&bytes).map_err(|e| ExportError::Read {
                            path: path.clone(),
                            message: format!("not a valid Q&A file ({e})"),
                        })?;
                    let status = file.status.unwrap_or(DocumentStatus::Completed);
                    if status != DocumentStatus::Completed {
                        if warn {
                            tracing::warn!(
                                "{}: status is {}, not completed: left out of the dataset (finish it with tdg generate --resume)",
                                path.display(),
                                serde_json::to_value(status)
                                    .ok()
                                    .and_then(|v| v.as_str().map(String::from))
                                    .unwrap_or_default()
                            );
                        }
                        continue;
                    }
                    each(&qa_file::stem_of(path), &file.training_pairs)?;
                }
                Ok(())
            }
            Source::Combined { documents, .. } => documents
                .iter()
                .try_for_each(|(name, pairs)| each(name, pairs)),
        }
    }
}

/// Whether a pair can be a training record (it has a question and an answer).
pub fn is_usable(pair: &TrainingPair) -> bool {
    !pair.question.is_empty() && !pair.answer.is_empty()
}

/// The key of a pair's chunk within its document.
pub fn chunk_of(pair: &TrainingPair) -> String {
    if pair.chunk_id.is_empty() {
        pair.chunk_index.to_string()
    } else {
        pair.chunk_id.clone()
    }
}
