//! The card's run record as programs read it back (its heading and JSON block, for
//! `generate --from-card`), and the manifest of an export in it: each data file the
//! export wrote, with its size and SHA-256 (`export.files`). `tdg push` uploads
//! exactly these files and refuses a folder whose files differ from them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::digest::{hash_file_into, hex};

/// The heading of the machine-readable block.
pub const RUN_RECORD_HEADING: &str = "## Run record";

/// The manifest of the data files a card's run record holds, if it holds one.
pub fn manifest_of(card: &str) -> Option<Vec<ManifestFile>> {
    let record: serde_json::Value = serde_json::from_str(run_record_block(card)?).ok()?;
    serde_json::from_value(record.get("export")?.get("files")?.clone()).ok()
}

/// The fenced JSON block under the run record's heading.
pub(crate) fn run_record_block(card: &str) -> Option<&str> {
    let after = &card[card.find(RUN_RECORD_HEADING)? + RUN_RECORD_HEADING.len()..];
    let start = after.find("```json")? + "```json".len();
    let body = &after[start..];
    Some(&body[..body.find("\n```")?])
}

/// One data file, as the export wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Relative to the dataset folder, with `/` (`data/train-00000-of-00001.jsonl`).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The manifest of `files` (paths relative to `folder`).
pub fn of_files(folder: &Path, files: &[String]) -> std::io::Result<Vec<ManifestFile>> {
    files
        .iter()
        .map(|name| {
            let (bytes, sha256, _) = file_digest(&folder.join(name), 0)?;
            Ok(ManifestFile {
                path: name.clone(),
                bytes,
                sha256,
            })
        })
        .collect()
}

/// Whether `path` names a file directly under `data/` (nothing a card could use to
/// reach outside the folder).
pub fn is_data_path(path: &str) -> bool {
    path.strip_prefix("data/").is_some_and(|name| {
        !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != ".."
    })
}

/// A file's size, SHA-256 (hex) and first `sample` bytes, read once.
pub(crate) fn file_digest(path: &Path, sample: usize) -> std::io::Result<(u64, String, Vec<u8>)> {
    let mut hasher = Sha256::new();
    let mut start = Vec::new();
    let size = hash_file_into(path, &mut hasher, |block| {
        let take = sample.saturating_sub(start.len()).min(block.len());
        start.extend_from_slice(&block[..take]);
    })?;
    Ok((size, hex(&hasher.finalize()), start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_directly_under_data_are_data_paths() {
        assert!(is_data_path("data/train-00000-of-00001.parquet"));
        for bad in [
            "README.md",
            "data/",
            "data/../x",
            "data/a/b",
            "../data/x",
            "data/..",
        ] {
            assert!(!is_data_path(bad), "{bad}");
        }
    }
}
