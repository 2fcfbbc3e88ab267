//! Which documents `tdg chunk` reads: the files given and the files under the
//! folders given (recursively, in name order, hidden entries left out), filtered by
//! `--include`/`--exclude` globs, each with the stem of its chunk file. Two
//! documents with one stem (`a/notes.md` and `b/notes.md`) are given stems made from
//! their paths instead (`a_notes.md`, `b_notes.md`), and the renaming is reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// A document to chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file.
    pub path: PathBuf,
    /// Its path below the input it was found in (its file name for a file input).
    pub relative: String,
    /// The stem of its chunk file: `notes` for `notes_chunks.json`.
    pub stem: String,
    /// Why the stem is not the file's own (another document had it).
    pub renamed: bool,
}

/// Why the inputs cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{}: no such file or folder; give documents or folders of documents", .0.display())]
    Missing(PathBuf),
    #[error("`{glob}` is not a valid glob for {option}: {message}")]
    BadGlob {
        option: &'static str,
        glob: String,
        message: String,
    },
}

/// The globs a document's relative path must match (`include`, any; none means
/// every file) and must not (`exclude`).
pub struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, DiscoverError> {
        let include = if include.is_empty() {
            None
        } else {
            Some(glob_set("--include", include)?)
        };
        Ok(Filter {
            include,
            exclude: glob_set("--exclude", exclude)?,
        })
    }

    /// Whether the document at `relative` is read. A glob without a `/` also
    /// matches the file name alone, so `*.md` means Markdown files at any depth.
    pub fn admits(&self, relative: &str) -> bool {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        let matches = |set: &GlobSet| set.is_match(relative) || set.is_match(name);
        self.include.as_ref().is_none_or(matches) && !matches(&self.exclude)
    }
}

fn glob_set(option: &'static str, globs: &[String]) -> Result<GlobSet, DiscoverError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob).map_err(|e| DiscoverError::BadGlob {
            option,
            glob: glob.clone(),
            message: e.kind().to_string(),
        })?);
    }
    builder.build().map_err(|e| DiscoverError::BadGlob {
        option,
        glob: globs.join(", "),
        message: e.to_string(),
    })
}

/// The documents found, and the entries that could not be read with why.
pub type Discovered = (Vec<Document>, Vec<(PathBuf, String)>);

/// The documents under `inputs` that `filter` admits, leaving out `skip` (the chunks
/// folder, when it lies inside an input), with distinct stems. Entries that cannot
/// be read are returned beside them, with why.
pub fn discover(
    inputs: &[PathBuf],
    filter: &Filter,
    skip: &Path,
) -> Result<Discovered, DiscoverError> {
    let mut found: Vec<(PathBuf, String)> = Vec::new();
    let mut unreadable = Vec::new();
    let skip = skip.canonicalize().ok();
    for input in inputs {
        let metadata =
            std::fs::metadata(input).map_err(|_| DiscoverError::Missing(input.clone()))?;
        if metadata.is_file() {
            let name = input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if filter.admits(&name) {
                found.push((input.clone(), name));
            }
            continue;
        }
        let walk = walkdir::WalkDir::new(input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| {
                entry.depth() == 0
                    || !(entry.file_name().to_string_lossy().starts_with('.')
                        || skip.as_deref().is_some_and(|skip| {
                            entry.path().canonicalize().is_ok_and(|p| p == skip)
                        }))
            });
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = error.path().unwrap_or(input).to_path_buf();
                    unreadable.push((path, error.to_string()));
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(input)
                .unwrap_or(entry.path())
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if filter.admits(&relative) {
                found.push((entry.into_path(), relative));
            }
        }
    }
    Ok((give_stems(found), unreadable))
}

/// Stems for the documents: each file's own (its name without its last
/// extension), except where two share one; those get their relative path with `/`
/// as `_` (and `-2`, `-3`… should even those meet).
fn give_stems(found: Vec<(PathBuf, String)>) -> Vec<Document> {
    let own = |path: &Path| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (path, _) in &found {
        *count.entry(own(path)).or_default() += 1;
    }
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let mut documents = Vec::with_capacity(found.len());
    for (path, relative) in found {
        let stem = own(&path);
        let renamed = count[&stem] > 1;
        let mut stem = if renamed {
            relative.replace('/', "_")
        } else {
            stem
        };
        let uses = taken.entry(stem.clone()).or_default();
        *uses += 1;
        if *uses > 1 {
            stem = format!("{stem}-{uses}");
        }
        documents.push(Document {
            path,
            relative,
            stem,
            renamed,
        });
    }
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_stems_are_made_from_paths() {
        let found = vec![
            (PathBuf::from("in/a/notes.md"), "a/notes.md".to_string()),
            (PathBuf::from("in/b/notes.md"), "b/notes.md".to_string()),
            (PathBuf::from("in/GPL-3.txt"), "GPL-3.txt".to_string()),
        ];
        let stems: Vec<(String, bool)> = give_stems(found)
            .into_iter()
            .map(|d| (d.stem, d.renamed))
            .collect();
        assert_eq!(
            stems,
            [
                ("a_notes.md".to_string(), true),
                ("b_notes.md".to_string(), true),
                ("GPL-3".to_string(), false)
            ]
        );
    }

    #[test]
    fn globs_match_paths_and_names() {
        let filter = Filter::new(&["*.md".into()], &["drafts/**".into()]).unwrap();
        assert!(filter.admits("guide/install.md"));
        assert!(!filter.admits("drafts/install.md"));
        assert!(!filter.admits("guide/install.txt"));
        assert!(Filter::new(&[], &["[".into()]).is_err());
    }
}
