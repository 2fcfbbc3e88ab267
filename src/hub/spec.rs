//! What a model file on the Hugging Face Hub is called: `ORG/REPO/FILE.gguf`,
//! optionally `@REVISION` (a branch, a tag or a commit).
//!
//! Parsing is strict because every part ends up in a path inside the cache
//! (`models--ORG--REPO/snapshots/<commit>/FILE`, `refs/REVISION`): a part that could
//! climb out of it (`..`, an absolute path, a backslash) is refused here, with the
//! reason, before anything is downloaded or written.

use std::fmt;

use super::error::HubError;

/// The revision used when a spec names none.
pub const DEFAULT_REVISION: &str = "main";

/// A model file on the Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// The user or organisation that owns the repository.
    pub owner: String,
    /// The repository's name.
    pub name: String,
    /// The file's path inside the repository (may hold `/`).
    pub file: String,
    /// A branch, tag or commit; [`DEFAULT_REVISION`] when the spec names none.
    pub revision: String,
}

impl ModelSpec {
    /// Parses `ORG/REPO/FILE.gguf[@REVISION]`.
    ///
    /// The revision is what follows the last `@`, when what precedes it ends in
    /// `.gguf`; so `ORG/REPO/a@b.gguf` is a file name with an `@` in it, and
    /// `ORG/REPO/f.gguf@refs/pr/1` names a pull request's revision.
    pub fn parse(spec: &str) -> Result<Self, HubError> {
        let invalid = |reason: String| HubError::InvalidSpec {
            spec: spec.to_string(),
            reason,
        };
        let (path, revision) = match spec.rsplit_once('@') {
            Some((path, revision)) if has_gguf_extension(path) => (path, Some(revision)),
            _ => (spec, None),
        };
        let mut parts = path.splitn(3, '/');
        let (Some(owner), Some(name), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "expected ORG/REPO/FILE.gguf, optionally followed by @REVISION".to_string(),
            ));
        };
        check_repo_part(owner, "organisation").map_err(invalid)?;
        check_repo_part(name, "repository name").map_err(invalid)?;
        check_relative_path(file, "file path").map_err(invalid)?;
        if !has_gguf_extension(file) {
            return Err(invalid(format!(
                "`{file}` is not a .gguf file; name the model's GGUF file in the repository"
            )));
        }
        let revision = match revision {
            Some(revision) => {
                check_relative_path(revision, "revision").map_err(invalid)?;
                revision.to_string()
            }
            None => DEFAULT_REVISION.to_string(),
        };
        Ok(ModelSpec {
            owner: owner.to_string(),
            name: name.to_string(),
            file: file.to_string(),
            revision,
        })
    }

    /// `ORG/REPO`.
    pub fn repo_id(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Whether the revision is a full commit hash (which never moves, so a cached
    /// copy needs no check with the Hub).
    pub fn revision_is_commit(&self) -> bool {
        is_commit_hash(&self.revision)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.owner, self.name, self.file)?;
        if self.revision != DEFAULT_REVISION {
            write!(f, "@{}", self.revision)?;
        }
        Ok(())
    }
}

/// A 40-digit hexadecimal git commit hash.
pub fn is_commit_hash(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

fn has_gguf_extension(path: &str) -> bool {
    path.len() > 5 && path[path.len() - 5..].eq_ignore_ascii_case(".gguf")
}

/// The Hub's rule for owner and repository names: letters, digits, `-`, `_` and
/// `.`, without `--` or `..` (which would confuse the cache's folder names).
fn check_repo_part(part: &str, what: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if part.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if !part.chars().all(allowed) || part.contains("--") || part.contains("..") {
        return Err(format!(
            "the {what} `{part}` may hold only letters, digits, `-`, `_` and `.` (no `--` or `..`)"
        ));
    }
    Ok(())
}

/// A relative path whose every segment is a plain name.
fn check_relative_path(path: &str, what: &str) -> Result<(), String> {
    let plain = |segment: &str| !segment.is_empty() && segment != "." && segment != "..";
    if path.contains('\\') || path.chars().any(char::is_control) || !path.split('/').all(plain) {
        return Err(format!(
            "the {what} `{path}` must be a relative path of plain names (no empty, `.` or `..` parts, no backslashes)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> ModelSpec {
        ModelSpec::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn reason(spec: &str) -> String {
        match ModelSpec::parse(spec) {
            Err(HubError::InvalidSpec { reason, .. }) => reason,
            other => panic!("{spec} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_spec_uses_main() {
        let spec = parse("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/smollm2-135m.Q4_K_M.gguf");
        assert_eq!(spec.owner, "HuggingFaceTB");
        assert_eq!(spec.name, "SmolLM2-135M-Instruct-GGUF");
        assert_eq!(spec.file, "smollm2-135m.Q4_K_M.gguf");
        assert_eq!(spec.revision, "main");
        assert_eq!(spec.repo_id(), "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF");
        assert!(!spec.revision_is_commit());
    }

    #[test]
    fn revisions_follow_the_last_at_after_the_file() {
        let spec = parse("org/repo/sub/dir/model.GGUF@refs/pr/1");
        assert_eq!(spec.file, "sub/dir/model.GGUF");
        assert_eq!(spec.revision, "refs/pr/1");
        let spec = parse("org/repo/a@b.gguf");
        assert_eq!(spec.file, "a@b.gguf");
        assert_eq!(spec.revision, "main");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let spec = parse(&format!("org/repo/m.gguf@{commit}"));
        assert!(spec.revision_is_commit());
        assert_eq!(spec.to_string(), format!("org/repo/m.gguf@{commit}"));
        assert_eq!(parse("org/repo/m.gguf").to_string(), "org/repo/m.gguf");
    }

    #[test]
    fn malformed_specs_say_what_is_wrong() {
        assert!(reason("org/model.gguf").contains("ORG/REPO/FILE.gguf"));
        assert!(reason("org/repo/model.bin").contains("not a .gguf file"));
        assert!(reason("org/repo/../../etc/x.gguf").contains("file path"));
        assert!(reason("org/repo//x.gguf").contains("file path"));
        assert!(reason("org/repo/x.gguf@../../x").contains("revision"));
        assert!(reason("org/repo/x.gguf@").contains("revision"));
        assert!(reason("/abs/repo/x.gguf").contains("organisation"));
        assert!(reason("org/re po/x.gguf").contains("repository name"));
        assert!(reason("org/a--b/x.gguf").contains("repository name"));
        assert!(reason("org/repo/a\\b.gguf").contains("backslashes"));
    }
}
