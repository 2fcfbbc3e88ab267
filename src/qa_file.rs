//! The Q&A file (`<stem>_qa.json`): one document's generated pairs, in the original
//! tool's format and key order. See `tests/fixtures/Apache-2.0_qa.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The suffix of Q&A file names: `<stem>_qa.json`.
pub const QA_FILE_SUFFIX: &str = "_qa.json";

/// One training pair with its provenance, as the original tool wrote it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingPair {
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub source_file: String,
    #[serde(default)]
    pub file_name: String,
    #[serde(default)]
    pub file_type: String,
    #[serde(default)]
    pub chunk_id: String,
    #[serde(default)]
    pub chunk_index: i64,
    #[serde(default)]
    pub chunk_start: i64,
    #[serde(default)]
    pub chunk_end: i64,
    #[serde(default)]
    pub source_text: String,
    /// With `--task reasoning`: the reasoning that leads from the chunk to the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// With `--task conversation`: the whole dialogue, in order; its first exchange is
    /// `question` and `answer`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversation: Vec<crate::task::Turn>,
    /// With `--with-quality`: the question's type, when the model gave one that was
    /// asked for (`factual`, `analytical`, `explanatory`, `inferential`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_type: Option<String>,
    /// With `--with-quality`: the grounding score, evidence span and reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<serde_json::Value>,
}

impl TrainingPair {
    /// The exchanges after the first, for a conversation.
    pub fn follow_ups(&self) -> &[crate::task::Turn] {
        self.conversation.get(1..).unwrap_or_default()
    }
}

/// Where a document's generation stands, as its Q&A file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// Chunks are still being asked about (or a run left it half-done).
    InProgress,
    /// The run was stopped (Ctrl+C, SIGTERM, `--max-cost`) before the document finished.
    Interrupted,
    /// Every chunk has an outcome.
    Completed,
}

/// A whole Q&A file, in the original tool's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaFile {
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default)]
    pub processing_info: Map<String, Value>,
    #[serde(default)]
    pub qa_generation_info: Map<String, Value>,
    /// Always empty: the original kept the key but not the chunks.
    #[serde(default)]
    pub chunks: Vec<Value>,
    #[serde(default)]
    pub training_pairs: Vec<TrainingPair>,
    pub status: DocumentStatus,
    /// The positions of the chunks that have pairs; how the original resumed.
    pub completed_chunks: Vec<u32>,
    #[serde(default)]
    pub failed_chunks: Vec<u32>,
    /// When the document completed (only with status `completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    #[serde(default)]
    pub summary: QaSummary,
}

/// A Q&A file's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaSummary {
    pub total_chunks: u64,
    pub completed_chunks: u64,
    pub failed_chunks: u64,
    pub total_qa_pairs: u64,
}

/// Reads a whole Q&A file.
pub fn read_qa_file(path: &Path) -> Result<QaFile, QaFileError> {
    let text = std::fs::read(path).map_err(|source| QaFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| QaFileError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// What of a Q&A file `convert` needs; other keys are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct QaFilePairs {
    #[serde(default)]
    pub training_pairs: Vec<TrainingPair>,
}

/// Why a Q&A file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum QaFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid Q&A file: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// The files in `dir` whose names end with `suffix`, sorted by name.
pub fn files_ending_with(dir: &Path, suffix: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().ends_with(suffix))
        })
        .filter(|path| {
            let regular = path.is_file();
            if !regular {
                tracing::warn!("{}: {}; skipped", path.display(), not_a_file(path));
            }
            regular
        })
        .collect();
    files.sort();
    Ok(files)
}

/// What a path named like a data file is, when it is not a regular file (after
/// following links): said when it is skipped.
fn not_a_file(path: &Path) -> &'static str {
    match (std::fs::symlink_metadata(path), std::fs::metadata(path)) {
        (Ok(link), Err(error)) if link.file_type().is_symlink() => {
            if error.raw_os_error() == Some(40) {
                "a symbolic link that loops"
            } else {
                "a symbolic link to nothing"
            }
        }
        (_, Ok(meta)) if meta.is_dir() => "a directory",
        (_, Ok(_)) => "not a regular file (a FIFO, socket or device)",
        (_, Err(_)) => "unreadable",
    }
}

/// The Q&A files (`*_qa.json`) in `dir`, sorted by name.
pub fn list_qa_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_ending_with(dir, QA_FILE_SUFFIX)
}

/// A path's file name as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the training pairs of the Q&A file at `path`.
pub fn read_pairs(path: &Path) -> Result<Vec<TrainingPair>, QaFileError> {
    let text = std::fs::read(path).map_err(|source| QaFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: QaFilePairs = serde_json::from_slice(&text).map_err(|source| QaFileError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(file.training_pairs)
}

/// The document stem of a Q&A file name: `GPL-3_qa.json` gives `GPL-3`.
pub fn stem_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(QA_FILE_SUFFIX) {
        Some(stem) => stem.to_string(),
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_the_qa_suffix() {
        assert_eq!(stem_of(Path::new("dir/GPL-3_qa.json")), "GPL-3");
        assert_eq!(stem_of(Path::new("other.json")), "other");
    }

    #[test]
    fn the_reference_file_reads_as_a_typed_qa_file_and_writes_back_the_same() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/Apache-2.0_qa.json");
        let file = read_qa_file(&path).unwrap();
        assert_eq!(file.status, DocumentStatus::Completed);
        assert_eq!(file.completed_chunks.len(), 17);
        assert_eq!(file.summary.total_qa_pairs, 51);
        assert_eq!(file.training_pairs.len(), 51);
        let original: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(serde_json::to_value(&file).unwrap(), original);
    }

    #[test]
    fn statuses_are_written_as_the_original_wrote_them() {
        let names: Vec<Value> = [
            DocumentStatus::InProgress,
            DocumentStatus::Interrupted,
            DocumentStatus::Completed,
        ]
        .iter()
        .map(|status| serde_json::to_value(status).unwrap())
        .collect();
        assert_eq!(names, ["in_progress", "interrupted", "completed"]);
    }

    #[test]
    fn missing_keys_default() {
        let file: QaFilePairs =
            serde_json::from_str(r#"{"training_pairs": [{"question": "q"}]}"#).unwrap();
        assert_eq!(file.training_pairs[0].question, "q");
        assert_eq!(file.training_pairs[0].answer, "");
    }
}
