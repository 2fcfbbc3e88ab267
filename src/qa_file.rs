//! The Q&A file (`<stem>_qa.json`): one document's generated pairs, in the original
//! tool's format. See `Apache-2.0_qa.json` in the reference outputs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
    /// With `--with-quality`: the grounding score, evidence span and reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<serde_json::Value>,
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
            path.is_file()
                && path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().ends_with(suffix))
        })
        .collect();
    files.sort();
    Ok(files)
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
    fn missing_keys_default() {
        let file: QaFilePairs =
            serde_json::from_str(r#"{"training_pairs": [{"question": "q"}]}"#).unwrap();
        assert_eq!(file.training_pairs[0].question, "q");
        assert_eq!(file.training_pairs[0].answer, "");
    }
}
