//! The Hugging Face cache layout, shared with `huggingface_hub`, `hf-hub`,
//! llama.cpp and others, so that a model downloaded by one is used by all:
//!
//! ```text
//! <cache>/models--ORG--REPO/
//!     blobs/<etag>                     the file's bytes, named by its SHA-256 (LFS files)
//!     blobs/<etag>.incomplete          a download in progress, resumed from its length
//!     refs/<revision>                  the commit a branch or tag pointed to
//!     snapshots/<commit>/<file>        a relative symlink to ../../blobs/<etag>
//! <cache>/.locks/models--ORG--REPO/<etag>.lock
//! ```
//!
//! Blobs are only ever renamed into place complete and checked, so a blob that
//! exists is whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::HubError;
use super::spec::ModelSpec;

/// One repository's folder in the cache.
#[derive(Debug, Clone)]
pub struct RepoCache {
    cache_dir: PathBuf,
    folder: String,
}

impl RepoCache {
    /// The folder of `spec`'s repository in `cache_dir`.
    pub fn new(cache_dir: &Path, spec: &ModelSpec) -> Self {
        RepoCache {
            cache_dir: cache_dir.to_path_buf(),
            folder: format!("models--{}--{}", spec.owner, spec.name),
        }
    }

    /// `models--ORG--REPO` inside the cache.
    pub fn root(&self) -> PathBuf {
        self.cache_dir.join(&self.folder)
    }

    /// `blobs/`, which holds the files' bytes and downloads in progress.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root().join("blobs")
    }

    pub fn blob_path(&self, etag: &str) -> PathBuf {
        self.blobs_dir().join(etag)
    }

    /// Where a download of the blob `etag` accumulates until it is checked.
    pub fn incomplete_path(&self, etag: &str) -> PathBuf {
        self.blobs_dir().join(format!("{etag}.incomplete"))
    }

    pub fn ref_path(&self, revision: &str) -> PathBuf {
        self.root().join("refs").join(revision)
    }

    pub fn snapshot_path(&self, commit: &str, file: &str) -> PathBuf {
        self.root().join("snapshots").join(commit).join(file)
    }

    fn lock_path(&self, etag: &str) -> PathBuf {
        self.cache_dir
            .join(".locks")
            .join(&self.folder)
            .join(format!("{etag}.lock"))
    }

    /// The commit `revision` stands for: itself if it is a commit hash, else what
    /// `refs/<revision>` recorded.
    pub fn commit_for(&self, revision: &str) -> Option<String> {
        if super::spec::is_commit_hash(revision) {
            return Some(revision.to_string());
        }
        let commit = std::fs::read_to_string(self.ref_path(revision)).ok()?;
        let commit = commit.trim();
        (!commit.is_empty()).then(|| commit.to_string())
    }

    /// The cached copy of `spec`'s file at its revision, if the snapshot link and its
    /// blob are both there.
    pub fn cached_file(&self, spec: &ModelSpec) -> Option<PathBuf> {
        let commit = self.commit_for(&spec.revision)?;
        let path = self.snapshot_path(&commit, &spec.file);
        path.is_file().then_some(path)
    }

    /// The path `cached_file` looks at (for the message when it is not there).
    pub fn expected_path(&self, spec: &ModelSpec) -> PathBuf {
        match self.commit_for(&spec.revision) {
            Some(commit) => self.snapshot_path(&commit, &spec.file),
            None => self.ref_path(&spec.revision),
        }
    }

    /// Records that `revision` pointed to `commit` (nothing for a commit hash).
    pub fn write_ref(&self, revision: &str, commit: &str) -> Result<(), HubError> {
        if revision == commit {
            return Ok(());
        }
        let path = self.ref_path(revision);
        create_parent(&path)?;
        crate::atomic_file::write(&path, commit.as_bytes()).map_err(HubError::io(&path))
    }

    /// Links `snapshots/<commit>/<file>` to the blob `etag` (relative, as other tools
    /// do, so the cache can be moved) and returns the link.
    pub fn link_snapshot(&self, commit: &str, file: &str, etag: &str) -> Result<PathBuf, HubError> {
        let link = self.snapshot_path(commit, file);
        create_parent(&link)?;
        let target = relative_blob_target(file, etag);
        if std::fs::read_link(&link).is_ok_and(|existing| existing == target) {
            return Ok(link);
        }
        match std::fs::remove_file(&link) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(HubError::io(&link)(e)),
        }
        make_link(&target, &self.blob_path(etag), &link).map_err(HubError::io(&link))?;
        Ok(link)
    }

    /// Takes the lock other tools take on the blob `etag`, so that two processes
    /// never write one download at once; it is held until the guard is dropped.
    pub async fn lock(&self, etag: &str) -> Result<File, HubError> {
        let path = self.lock_path(etag);
        create_parent(&path)?;
        let file = File::create(&path).map_err(HubError::io(&path))?;
        let locked = tokio::task::spawn_blocking(move || file.lock().map(|()| file)).await;
        match locked {
            Ok(result) => result.map_err(HubError::io(&path)),
            Err(join) => Err(HubError::io(&path)(std::io::Error::other(join.to_string()))),
        }
    }
}

/// `../../blobs/<etag>`, with one more `..` for each folder in `file`.
fn relative_blob_target(file: &str, etag: &str) -> PathBuf {
    let depth = 2 + file.matches('/').count();
    let mut target: PathBuf = std::iter::repeat_n("..", depth).collect();
    target.push("blobs");
    target.push(etag);
    target
}

fn create_parent(path: &Path) -> Result<(), HubError> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(HubError::io(dir)),
        None => Ok(()),
    }
}

#[cfg(unix)]
fn make_link(target: &Path, _blob: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Windows needs a privilege for symlinks; like `huggingface_hub`, copy instead.
#[cfg(not(unix))]
fn make_link(_target: &Path, blob: &Path, link: &Path) -> std::io::Result<()> {
    std::fs::copy(blob, link).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ModelSpec {
        ModelSpec::parse(text).unwrap()
    }

    #[test]
    fn paths_follow_the_hub_layout() {
        let cache = RepoCache::new(Path::new("/c"), &spec("Org/Repo/m.gguf"));
        assert_eq!(cache.root(), PathBuf::from("/c/models--Org--Repo"));
        assert_eq!(
            cache.blob_path("ab"),
            PathBuf::from("/c/models--Org--Repo/blobs/ab")
        );
        assert_eq!(
            cache.incomplete_path("ab"),
            PathBuf::from("/c/models--Org--Repo/blobs/ab.incomplete")
        );
        assert_eq!(
            cache.ref_path("refs/pr/1"),
            PathBuf::from("/c/models--Org--Repo/refs/refs/pr/1")
        );
        assert_eq!(
            cache.lock_path("ab"),
            PathBuf::from("/c/.locks/models--Org--Repo/ab.lock")
        );
    }

    #[test]
    fn snapshot_links_are_relative_and_resolve_to_the_blob() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec("o/r/deep/er/m.gguf");
        let cache = RepoCache::new(dir.path(), &spec);
        let commit = "c".repeat(40);
        std::fs::create_dir_all(cache.blob_path("e").parent().unwrap()).unwrap();
        std::fs::write(cache.blob_path("e"), b"weights").unwrap();
        let link = cache.link_snapshot(&commit, &spec.file, "e").unwrap();
        assert_eq!(link, cache.snapshot_path(&commit, "deep/er/m.gguf"));
        #[cfg(unix)]
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            PathBuf::from("../../../../blobs/e")
        );
        assert_eq!(std::fs::read(&link).unwrap(), b"weights");
        // Linking again (another run) keeps it.
        cache.link_snapshot(&commit, &spec.file, "e").unwrap();
        assert_eq!(std::fs::read(&link).unwrap(), b"weights");
    }

    #[test]
    fn refs_map_revisions_to_commits() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec("o/r/m.gguf@v1");
        let cache = RepoCache::new(dir.path(), &spec);
        assert_eq!(cache.commit_for("v1"), None);
        assert_eq!(cache.expected_path(&spec), cache.ref_path("v1"));
        let commit = "a".repeat(40);
        cache.write_ref("v1", &commit).unwrap();
        assert_eq!(
            std::fs::read_to_string(cache.ref_path("v1")).unwrap(),
            commit
        );
        assert_eq!(cache.commit_for("v1"), Some(commit.clone()));
        assert_eq!(cache.commit_for(&commit), Some(commit.clone()));
        assert_eq!(cache.cached_file(&spec), None);
        // A commit is its own ref: no file is written for it.
        cache.write_ref(&commit, &commit).unwrap();
        assert!(!cache.ref_path(&commit).exists());
    }
}
