//! `tdg push`: a dataset folder that `tdg export` wrote (checked against its card's
//! manifest, [`folder`]), uploaded to a dataset
//! repository on the Hugging Face Hub in one commit, through the Hub's HTTP API:
//!
//! 1. `POST /api/repos/create` (`type: dataset`; 409, the repository exists, is fine);
//! 2. `POST /api/datasets/{repo}/branch/{revision}` for a revision other than `main`;
//! 3. `POST /api/datasets/{repo}/preupload/{revision}`: which files go as LFS;
//! 4. for LFS files, the Git LFS batch API (`{repo}.git/info/lfs/objects/batch`), then a
//!    `PUT` of each file the Hub does not hold yet to the address it gives, and its
//!    `verify` call;
//! 5. `POST /api/datasets/{repo}/commit/{revision}`: the commit, as NDJSON (small files
//!    inline in base64, LFS files by SHA-256).
//!
//! The token (`HF_TOKEN`, or the token file the Hub's own tools write) goes only in
//! the `Authorization` header of requests to the Hub itself (`HF_ENDPOINT`), never to
//! the storage addresses LFS uploads go to, and never into a message.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Client, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

mod folder;

use crate::hub::settings::HubSettings;
use folder::{LocalFile, exported_files};

/// What to push.
#[derive(Debug, Clone)]
pub struct PushRequest {
    /// The dataset folder (`README.md`, `data/`, `dataset_info.json`).
    pub folder: PathBuf,
    /// `ORG/NAME`.
    pub repo: String,
    /// Create the repository private (when it is created).
    pub private: bool,
    /// The branch to commit to.
    pub revision: String,
    /// The commit's summary.
    pub message: String,
}

/// What a push did.
#[derive(Debug, Clone, Default)]
pub struct PushReport {
    /// Files in the commit, relative to the folder.
    pub files: Vec<String>,
    /// Of them, sent through LFS.
    pub lfs_files: usize,
    /// LFS files the Hub already held, not sent again.
    pub lfs_skipped: usize,
    pub created_repo: bool,
    pub commit_url: Option<String>,
}

/// Why a push failed. No message holds the token.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(
        "no Hugging Face token: set HF_TOKEN (a token with write access), or log in with `hf auth login`, which writes $HF_HOME/token"
    )]
    NoToken,
    #[error("--repo `{0}` is not ORG/NAME (letters, digits, `-`, `_` and `.`)")]
    BadRepo(String),
    #[error("{}: {what}; run tdg export into it first", .folder.display())]
    NotExported { folder: PathBuf, what: String },
    #[error("{}: the card names no license, which the Hub needs to publish a dataset: export again with --license ID (apache-2.0, cc-by-4.0, other, ...)", .card.display())]
    NoLicense { card: PathBuf },
    #[error("cannot read {}: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    #[error("{url}: the Hub answered {status}: {message}{}", advice(*.status))]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: cannot reach the Hub ({reason}); check the network or HF_ENDPOINT")]
    Unreachable { url: String, reason: String },
    #[error("{url}: unexpected answer ({reason}); is HF_ENDPOINT a Hugging Face Hub?")]
    Protocol { url: String, reason: String },
}

/// How often one request to the Hub is sent before its fault is reported.
const SEND_ATTEMPTS: u32 = 3;
/// The wait before the second attempt; it doubles after that.
const SEND_BACKOFF: Duration = Duration::from_millis(500);

impl PushError {
    /// An unreachable or failing Hub (429, 5xx) may pass; a missing token, a wrong
    /// repository, a folder that is not an export, a refusal will not.
    pub fn retry(&self) -> crate::failure::Retry {
        use crate::failure::Retry;
        match self {
            PushError::Unreachable { .. } | PushError::Read { .. } => Retry::Helps,
            PushError::Status { status, .. } => Retry::helps_if(is_transient_status(*status)),
            PushError::NoToken
            | PushError::BadRepo(_)
            | PushError::NotExported { .. }
            | PushError::NoLicense { .. }
            | PushError::Protocol { .. } => Retry::Futile,
        }
    }
}

/// A status that asking again may get past: rate limited, or a server fault.
fn is_transient_status(status: u16) -> bool {
    status == 429 || status >= 500
}

fn advice(status: u16) -> &'static str {
    match status {
        401 => "; the token was refused: check HF_TOKEN",
        403 => "; the token may not write to this repository: use a token with write access to it",
        _ => "",
    }
}

/// Checks `repo` is `ORG/NAME`.
pub fn check_repo(repo: &str) -> Result<(&str, &str), PushError> {
    let valid = |part: &str| {
        !part.is_empty()
            && part.len() <= 96
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !part.starts_with('.')
    };
    repo.split_once('/')
        .filter(|(org, name)| valid(org) && valid(name))
        .ok_or_else(|| PushError::BadRepo(repo.to_string()))
}

/// The Hub's client for one push.
struct Hub {
    client: Client,
    endpoint: Url,
    token: String,
}

#[derive(Deserialize)]
struct PreuploadAnswer {
    files: Vec<PreuploadFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreuploadFile {
    path: String,
    upload_mode: String,
}

#[derive(Deserialize)]
struct BatchAnswer {
    objects: Vec<BatchObject>,
}

#[derive(Deserialize)]
struct BatchObject {
    oid: String,
    #[serde(default)]
    actions: Option<BatchActions>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct BatchActions {
    #[serde(default)]
    upload: Option<BatchAction>,
    #[serde(default)]
    verify: Option<BatchAction>,
}

#[derive(Deserialize)]
struct BatchAction {
    href: String,
    #[serde(default)]
    header: std::collections::BTreeMap<String, String>,
}

impl Hub {
    /// `endpoint/segments...`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Whether `url` is on the Hub itself (where the token may go).
    fn is_hub(&self, url: &Url) -> bool {
        url.origin() == self.endpoint.origin()
    }

    /// A message from the Hub, with the token (should the Hub echo it) taken out.
    fn clean(&self, text: &str) -> String {
        // Taken out before cutting, so that no part of the token survives the cut.
        text.replace(&self.token, "<token>")
            .chars()
            .take(500)
            .collect()
    }

    /// Sends `request`, asking again (up to [`SEND_ATTEMPTS`] times, backing off)
    /// while the Hub cannot be reached or answers 429 or 5xx, when the request can
    /// be sent twice (an upload streamed from a file is sent once).
    async fn send(
        &self,
        url: &Url,
        request: reqwest::RequestBuilder,
        accept: &[u16],
    ) -> Result<(u16, String), PushError> {
        let mut request = request;
        let mut attempt = 1;
        loop {
            let again = request.try_clone().filter(|_| attempt < SEND_ATTEMPTS);
            match self.send_once(url, request, accept).await {
                Err(error) if error.retry() == crate::failure::Retry::Helps && again.is_some() => {
                    tracing::warn!("{error}; asking again ({attempt} of {SEND_ATTEMPTS})");
                    tokio::time::sleep(SEND_BACKOFF * 2u32.pow(attempt - 1)).await;
                    request = again.expect("checked above");
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn send_once(
        &self,
        url: &Url,
        request: reqwest::RequestBuilder,
        accept: &[u16],
    ) -> Result<(u16, String), PushError> {
        let response = request.send().await.map_err(|e| PushError::Unreachable {
            url: url.to_string(),
            reason: self.clean(&crate::net::with_causes(
                "request failed".into(),
                std::error::Error::source(&e),
            )),
        })?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if (200..300).contains(&status) || accept.contains(&status) {
            return Ok((status, body));
        }
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(String::from))
            .unwrap_or(body);
        Err(PushError::Status {
            url: url.to_string(),
            status,
            message: self.clean(&message),
        })
    }

    /// A request to the Hub, with the token.
    fn post(&self, url: &Url) -> reqwest::RequestBuilder {
        self.client
            .post(url.clone())
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
    }

    fn parse<T: serde::de::DeserializeOwned>(url: &Url, body: &str) -> Result<T, PushError> {
        serde_json::from_str(body).map_err(|e| PushError::Protocol {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }
}

/// Pushes the folder of `request` to the Hub that `settings` name.
pub async fn push(settings: &HubSettings, request: &PushRequest) -> Result<PushReport, PushError> {
    let (org, name) = check_repo(&request.repo)?;
    let token = settings.token.as_ref().ok_or(PushError::NoToken)?;
    let files = exported_files(&request.folder)?;
    crate::net::install_tls_provider();
    let client = Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(300))
        .user_agent(concat!("tdg/", env!("CARGO_PKG_VERSION"), "; hf_hub"))
        .build()
        .map_err(|e| PushError::Unreachable {
            url: settings.endpoint.clone(),
            reason: e.to_string(),
        })?;
    let endpoint = Url::parse(&settings.endpoint).map_err(|e| PushError::Protocol {
        url: settings.endpoint.clone(),
        reason: e.to_string(),
    })?;
    let hub = Hub {
        client,
        endpoint,
        token: token.secret().to_string(),
    };
    let mut report = PushReport::default();

    let url = hub.url(&["api", "repos", "create"]);
    let body =
        json!({"type": "dataset", "name": name, "organization": org, "private": request.private});
    let (status, _) = hub.send(&url, hub.post(&url).json(&body), &[409]).await?;
    report.created_repo = status != 409;
    if request.revision != "main" {
        let url = hub.url(&["api", "datasets", org, name, "branch", &request.revision]);
        hub.send(&url, hub.post(&url).json(&json!({})), &[409])
            .await?;
    }

    let url = hub.url(&["api", "datasets", org, name, "preupload", &request.revision]);
    let body = json!({"files": files.iter().map(|file| json!({
        "path": file.name,
        "size": file.size,
        "sample": base64::engine::general_purpose::STANDARD.encode(&file.sample),
    })).collect::<Vec<_>>()});
    let (_, answer) = hub.send(&url, hub.post(&url).json(&body), &[]).await?;
    let modes: PreuploadAnswer = Hub::parse(&url, &answer)?;
    let is_lfs = |file: &LocalFile| {
        modes
            .files
            .iter()
            .any(|mode| mode.path == file.name && mode.upload_mode == "lfs")
    };
    let lfs: Vec<&LocalFile> = files.iter().filter(|file| is_lfs(file)).collect();
    report.lfs_files = lfs.len();
    if !lfs.is_empty() {
        report.lfs_skipped = upload_lfs(&hub, org, name, &request.revision, &lfs).await?;
    }

    let mut lines = vec![
        json!({"key": "header", "value": {"summary": request.message, "description": ""}})
            .to_string(),
    ];
    for file in &files {
        let line = if is_lfs(file) {
            json!({"key": "lfsFile", "value": {"path": file.name, "algo": "sha256", "oid": file.sha256, "size": file.size}})
        } else {
            let bytes = std::fs::read(&file.path).map_err(|e| PushError::Read {
                path: file.path.clone(),
                message: e.to_string(),
            })?;
            json!({"key": "file", "value": {"path": file.name, "encoding": "base64",
                "content": base64::engine::general_purpose::STANDARD.encode(bytes)}})
        };
        lines.push(line.to_string());
        report.files.push(file.name.clone());
    }
    let url = hub.url(&["api", "datasets", org, name, "commit", &request.revision]);
    let request = hub
        .post(&url)
        .header(CONTENT_TYPE, "application/x-ndjson")
        .body(lines.join("\n") + "\n");
    let (_, answer) = hub.send(&url, request, &[]).await?;
    report.commit_url = serde_json::from_str::<Value>(&answer)
        .ok()
        .and_then(|v| v.get("commitUrl").and_then(Value::as_str).map(String::from));
    Ok(report)
}

/// Sends the LFS files the Hub does not hold; returns how many it already held.
async fn upload_lfs(
    hub: &Hub,
    org: &str,
    name: &str,
    revision: &str,
    files: &[&LocalFile],
) -> Result<usize, PushError> {
    let url = hub.url(&[
        "datasets",
        org,
        &format!("{name}.git"),
        "info",
        "lfs",
        "objects",
        "batch",
    ]);
    let body = json!({
        "operation": "upload",
        "transfers": ["basic"],
        "hash_algo": "sha256",
        "ref": {"name": format!("refs/heads/{revision}")},
        "objects": files.iter().map(|f| json!({"oid": f.sha256, "size": f.size})).collect::<Vec<_>>(),
    });
    let request = hub
        .post(&url)
        .header(CONTENT_TYPE, "application/vnd.git-lfs+json")
        .header("Accept", "application/vnd.git-lfs+json")
        .json(&body);
    let (_, answer) = hub.send(&url, request, &[]).await?;
    let batch: BatchAnswer = Hub::parse(&url, &answer)?;
    let mut held = 0;
    for file in files {
        let object = batch
            .objects
            .iter()
            .find(|object| object.oid == file.sha256)
            .ok_or_else(|| PushError::Protocol {
                url: url.to_string(),
                reason: format!("no answer for {}", file.name),
            })?;
        if let Some(error) = &object.error {
            return Err(PushError::Protocol {
                url: url.to_string(),
                reason: hub.clean(&format!("{}: {error}", file.name)),
            });
        }
        let Some(actions) = &object.actions else {
            held += 1;
            continue;
        };
        if let Some(upload) = &actions.upload {
            put_file(hub, upload, file).await?;
        }
        if let Some(verify) = &actions.verify {
            let url = parse_href(&url, &verify.href)?;
            let mut request = hub.client.post(url.clone());
            if hub.is_hub(&url) {
                request = request.header(AUTHORIZATION, format!("Bearer {}", hub.token));
            }
            for (key, value) in &verify.header {
                request = request.header(key, value);
            }
            let request = request.json(&json!({"oid": file.sha256, "size": file.size}));
            hub.send(&url, request, &[]).await?;
        }
    }
    Ok(held)
}

fn parse_href(base: &Url, href: &str) -> Result<Url, PushError> {
    Url::parse(href).map_err(|e| PushError::Protocol {
        url: base.to_string(),
        reason: format!("an LFS address that is not a URL ({e})"),
    })
}

/// `PUT`s the file to the storage address `action` gives, with its headers only.
async fn put_file(hub: &Hub, action: &BatchAction, file: &LocalFile) -> Result<(), PushError> {
    let url = parse_href(&hub.endpoint, &action.href)?;
    // Shown without its query, which may carry a signature.
    let mut shown = url.clone();
    shown.set_query(None);
    let opened = tokio::fs::File::open(&file.path)
        .await
        .map_err(|e| PushError::Read {
            path: file.path.clone(),
            message: e.to_string(),
        })?;
    let stream = tokio_util::io::ReaderStream::with_capacity(opened.take(file.size), 1 << 16);
    let mut request = hub
        .client
        .put(url)
        .header(CONTENT_LENGTH, file.size)
        .body(reqwest::Body::wrap_stream(stream));
    for (key, value) in &action.header {
        request = request.header(key, value);
    }
    hub.send(&shown, request, &[]).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_are_checked_before_any_request() {
        assert_eq!(check_repo("org/name").unwrap(), ("org", "name"));
        for bad in ["name", "org/", "/name", "a/b/c", "org/na me", "org/.hidden"] {
            assert!(check_repo(bad).is_err(), "{bad}");
        }
    }
}
