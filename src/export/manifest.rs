//! The manifest of an export: each data file the export wrote, with its size and
//! SHA-256, recorded in the card's run record (`export.files`, read back by
//! [`super::card::manifest_of`]). `tdg push` uploads exactly these files and refuses
//! a folder whose files differ from them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut start = Vec::new();
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        if start.len() < sample {
            let take = (sample - start.len()).min(read);
            start.extend_from_slice(&buffer[..take]);
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((size, hex, start))
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
