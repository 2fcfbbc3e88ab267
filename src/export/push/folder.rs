//! What `tdg push` uploads from an exported folder: the card, LLaMA-Factory's
//! entries, and the data files the card's manifest names, each checked against the
//! manifest (size and SHA-256) before anything is sent. A folder whose files are not
//! the ones its card describes (an interrupted export, files changed or added by
//! hand) is refused, so that a card never goes out over other data.

use std::path::{Path, PathBuf};

use super::PushError;
use crate::export::manifest::{self, ManifestFile, manifest_of};

/// A file to commit.
pub(super) struct LocalFile {
    pub(super) path: PathBuf,
    /// Relative to the folder, with `/`.
    pub(super) name: String,
    pub(super) size: u64,
    pub(super) sha256: String,
    /// The first 512 bytes, which the Hub looks at to choose LFS or not.
    pub(super) sample: Vec<u8>,
}

/// Whether the card at `card` has a `license:` in its YAML header.
fn card_has_license(text: &str) -> bool {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---"))
        .is_some_and(|(header, _)| {
            header.lines().any(|line| {
                line.strip_prefix("license:")
                    .is_some_and(|value| !value.trim().trim_matches('"').is_empty())
            })
        })
}

/// The files of an exported folder to commit: the card, LLaMA-Factory's entries,
/// and the data files of the card's manifest, each as the manifest says it is.
pub(super) fn exported_files(folder: &Path) -> Result<Vec<LocalFile>, PushError> {
    let not_exported = |what: String| PushError::NotExported {
        folder: folder.to_path_buf(),
        what,
    };
    let card = folder.join("README.md");
    let text = std::fs::read_to_string(&card)
        .map_err(|_| not_exported("it has no dataset card (README.md)".into()))?;
    if !card_has_license(&text) {
        return Err(PushError::NoLicense { card });
    }
    let listed = manifest_of(&text).ok_or_else(|| {
        not_exported(
            "its card has no manifest of the data files (an export by an older tdg, or an edited card); export it again with --overwrite".into(),
        )
    })?;
    if listed.is_empty() {
        return Err(not_exported(
            "its card's manifest names no data file".into(),
        ));
    }
    let mut files = vec![describe(card, "README.md".into())?];
    let info = folder.join("dataset_info.json");
    if info.is_file() {
        files.push(describe(info, "dataset_info.json".into())?);
    }
    for entry in &listed {
        files.push(checked(folder, entry).map_err(not_exported)?);
    }
    warn_of_unlisted(folder, &listed);
    Ok(files)
}

/// The data file `entry` names, read and compared with the manifest.
fn checked(folder: &Path, entry: &ManifestFile) -> Result<LocalFile, String> {
    if !manifest::is_data_path(&entry.path) {
        return Err(format!(
            "its card's manifest names `{}`, which is not a file under data/",
            entry.path
        ));
    }
    let path = folder.join(&entry.path);
    if !path.is_file() {
        return Err(format!(
            "{} is missing, though the card's manifest names it (an interrupted export?); export it again with --overwrite",
            entry.path
        ));
    }
    let file = describe(path, entry.path.clone()).map_err(|e| e.to_string())?;
    if file.size != entry.bytes || file.sha256 != entry.sha256 {
        return Err(format!(
            "{} is not the file the card describes ({} bytes, SHA-256 {}; the card says {} bytes, {}): the data changed after the export, or the export was interrupted; export it again with --overwrite",
            entry.path, file.size, file.sha256, entry.bytes, entry.sha256
        ));
    }
    Ok(file)
}

/// Says which files under `data/` the manifest does not name: they are not pushed.
fn warn_of_unlisted(folder: &Path, listed: &[ManifestFile]) {
    let Ok(entries) = std::fs::read_dir(folder.join("data")) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = format!("data/{}", entry.file_name().to_string_lossy());
        if !listed.iter().any(|file| file.path == name) {
            tracing::warn!("{name}: not in the card's manifest, so not pushed");
        }
    }
}

/// Reads `path` once for its size, SHA-256 and first 512 bytes.
fn describe(path: PathBuf, name: String) -> Result<LocalFile, PushError> {
    let (size, sha256, sample) =
        manifest::file_digest(&path, 512).map_err(|e| PushError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
    Ok(LocalFile {
        path,
        name,
        size,
        sha256,
        sample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_needs_a_license_in_its_header() {
        assert!(card_has_license(
            "---\nlicense: \"mit\"\nlanguage:\n- en\n---\n# x\n"
        ));
        assert!(!card_has_license("---\nlanguage:\n- en\n---\n# x\n"));
        assert!(!card_has_license("# no header\nlicense: mit\n"));
    }
}
