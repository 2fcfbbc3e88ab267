//! Everything that can go wrong getting a model file from the Hub, each saying
//! which file, URL or variable it concerns and what to do about it.
//!
//! URLs named here are the Hub's resolve URLs, never the signed storage URLs they
//! redirect to, and the token is never part of any message.

use std::path::{Path, PathBuf};

/// An error resolving or downloading a model file.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("model `{spec}` is neither an existing file nor a Hugging Face file spec: {reason}")]
    InvalidSpec { spec: String, reason: String },

    #[error(
        "{variable}=`{value}` is not a usable URL ({reason}); set it to the Hub's address, such as https://huggingface.co"
    )]
    InvalidEndpoint {
        variable: &'static str,
        value: String,
        reason: String,
    },

    #[error(
        "no Hugging Face cache directory: there is no home directory; set HF_HUB_CACHE or HF_HOME"
    )]
    NoCacheDir,

    #[error("HF_HUB_OFFLINE is set and `{spec}` is not in the Hugging Face cache (looked for {}); unset HF_HUB_OFFLINE to download it", .path.display())]
    NotCached { spec: String, path: PathBuf },

    #[error("{url}: not found (404{}); check ORG/REPO/FILE and the revision in `{spec}`{}", code_suffix(.code), local_hint(.spec))]
    NotFound {
        url: String,
        spec: String,
        code: Option<String>,
    },

    #[error("{url}: {status}{}; {}", code_suffix(.code), auth_advice(.token_set, .code.as_deref()))]
    Unauthorized {
        url: String,
        status: u16,
        code: Option<String>,
        token_set: bool,
    },

    #[error("{url}: the Hub answered {status}{}; try again later", code_suffix(.code))]
    Status {
        url: String,
        status: u16,
        code: Option<String>,
    },

    #[error(
        "{url}: the answer lacks a usable {header} header, so the file cannot be placed in the cache; is HF_ENDPOINT a Hugging Face Hub?"
    )]
    MissingHeader { url: String, header: &'static str },

    #[error(
        "{url}: cannot reach the Hub ({reason}); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the cache only"
    )]
    Unreachable { url: String, reason: String },

    #[error("{url}: the download was cut off at {received} of {expected} bytes ({reason}); the part already downloaded is kept in {}, run again to resume", .partial.display())]
    CutOff {
        url: String,
        received: u64,
        expected: u64,
        reason: String,
        partial: PathBuf,
    },

    #[error(
        "{url}: the downloaded file's SHA-256 is {actual}, but the Hub says {expected}; the download was deleted, run again to download it afresh"
    )]
    ChecksumMismatch {
        url: String,
        expected: String,
        actual: String,
    },

    #[error(
        "{url}: the downloaded file has {actual} bytes, but the Hub says {expected}; the download was deleted, run again to download it afresh"
    )]
    SizeMismatch {
        url: String,
        expected: u64,
        actual: u64,
    },

    #[error(
        "{url}: what came back is not a GGUF model file ({received} bytes starting with `{starts_with}`), so it was not put in the cache; the Hub or a proxy may have answered with an error page: check HF_ENDPOINT, then run again"
    )]
    NotAModel {
        url: String,
        received: u64,
        starts_with: String,
    },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl HubError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HubError + use<> {
        let path = path.to_path_buf();
        move |source| HubError::Io { path, source }
    }

    /// Whether trying again may succeed (a network fault, a cut-off or corrupted
    /// download, a server error).
    pub fn is_transient(&self) -> bool {
        match self {
            HubError::Unreachable { .. }
            | HubError::CutOff { .. }
            | HubError::ChecksumMismatch { .. }
            | HubError::SizeMismatch { .. }
            | HubError::NotAModel { .. }
            | HubError::Io { .. } => true,
            HubError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// Whether running the task again may help ([`Self::is_transient`]).
    pub fn retry(&self) -> crate::failure::Retry {
        crate::failure::Retry::helps_if(self.is_transient())
    }
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map_or_else(String::new, |code| format!(", {code}"))
}

fn local_hint(spec: &str) -> &'static str {
    if spec.contains('/') {
        " (there is no local file by that name either)"
    } else {
        ""
    }
}

fn auth_advice(token_set: &bool, code: Option<&str>) -> &'static str {
    match (code, *token_set) {
        (Some("RepoNotFound"), false) => {
            "the repository does not exist or is private: check ORG/REPO, or set HF_TOKEN to a token that may read it"
        }
        (Some("RepoNotFound"), true) => {
            "the repository does not exist or HF_TOKEN may not read it: check ORG/REPO and the token"
        }
        (_, false) => {
            "the repository is gated or private: accept its terms on the Hub, then set HF_TOKEN to an access token"
        }
        (_, true) => {
            "HF_TOKEN was refused: the repository is gated or private and the token may not read it; accept its terms on the Hub or use another token"
        }
    }
}
