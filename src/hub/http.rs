//! Talking to the Hub: its resolve URL, the headers that describe a file, and
//! statuses turned into errors that say what to do.
//!
//! `HEAD {endpoint}/{ORG}/{REPO}/resolve/{revision}/{file}` is asked without
//! following redirects, because for a large (LFS) file the Hub answers with a
//! redirect to its storage that carries the file's description: `X-Repo-Commit`
//! (the commit the revision points to), `X-Linked-Etag` (the SHA-256 of an LFS
//! file) and `X-Linked-Size`. A small file kept in git answers 200 with `ETag` and
//! `Content-Length` instead. Relative redirects (a renamed repository) are followed.
//! The download itself is a `GET` of the same URL, following redirects; reqwest
//! drops the token when a redirect leaves the Hub's host.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, ETAG, HeaderMap, LOCATION, RANGE};
use reqwest::{Response, StatusCode, Url};

use super::error::HubError;
use super::settings::HubSettings;
use super::spec::ModelSpec;

/// What the Hub says about a file at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMetadata {
    /// The commit the revision points to.
    pub commit: String,
    /// The blob's name in the cache: the SHA-256 of an LFS file, else git's hash.
    pub etag: String,
    /// The file's size, when the Hub says.
    pub size: Option<u64>,
    /// The SHA-256 to check the download against (the etag of an LFS file).
    pub sha256: Option<String>,
}

/// An HTTP client for one Hub.
pub(crate) struct HubClient {
    follow: reqwest::Client,
    no_follow: reqwest::Client,
    token: Option<String>,
}

impl HubClient {
    pub fn new(settings: &HubSettings) -> Result<Self, HubError> {
        crate::net::install_tls_provider();
        let build = |redirects: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(60))
                .redirect(redirects)
                .user_agent(concat!("tdg/", env!("CARGO_PKG_VERSION"), "; hf_hub"))
                .build()
                .map_err(|e| HubError::Unreachable {
                    url: settings.endpoint.clone(),
                    reason: error_chain(&e),
                })
        };
        Ok(HubClient {
            follow: build(reqwest::redirect::Policy::limited(10))?,
            no_follow: build(reqwest::redirect::Policy::none())?,
            token: settings.token.as_ref().map(|t| t.secret().to_string()),
        })
    }

    /// The file's description, from a `HEAD` of its resolve URL.
    pub async fn metadata(&self, url: &Url, spec: &ModelSpec) -> Result<FileMetadata, HubError> {
        let mut current = url.clone();
        let mut last_status = 0;
        for _ in 0..10 {
            let response = self
                .authorised(self.no_follow.head(current.clone()))
                .send()
                .await
                .map_err(|e| unreachable(url, &e))?;
            let status = response.status();
            last_status = status.as_u16();
            if status.is_redirection()
                && let Some(next) = relative_redirect(&current, response.headers())
            {
                current = next;
                continue;
            }
            if !status.is_success() && !status.is_redirection() {
                return Err(self.status_error(url, spec, &response));
            }
            return parse_metadata(url, status, response.headers());
        }
        Err(HubError::Status {
            url: url.to_string(),
            status: last_status,
            code: Some("too many redirects".to_string()),
        })
    }

    /// `GET` of the file from byte `offset` on.
    pub async fn get(
        &self,
        url: &Url,
        spec: &ModelSpec,
        offset: u64,
    ) -> Result<Response, HubError> {
        let mut request = self.authorised(self.follow.get(url.clone()));
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
        }
        let response = request.send().await.map_err(|e| unreachable(url, &e))?;
        let status = response.status();
        if status.is_success() || status == StatusCode::RANGE_NOT_SATISFIABLE {
            Ok(response)
        } else {
            Err(self.status_error(url, spec, &response))
        }
    }

    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {token}")),
            None => request,
        }
    }

    fn status_error(&self, url: &Url, spec: &ModelSpec, response: &Response) -> HubError {
        status_error(url, spec, response, self.token.is_some())
    }
}

/// The resolve URL of `spec`'s file: each part percent-encoded, a revision's `/`
/// included (`refs/pr/1` becomes `refs%2Fpr%2F1`, as the Hub expects).
pub fn resolve_url(endpoint: &str, spec: &ModelSpec) -> Result<Url, HubError> {
    let mut url = Url::parse(endpoint).map_err(|e| HubError::InvalidEndpoint {
        variable: "HF_ENDPOINT",
        value: endpoint.to_string(),
        reason: e.to_string(),
    })?;
    url.path_segments_mut()
        .map_err(|()| HubError::InvalidEndpoint {
            variable: "HF_ENDPOINT",
            value: endpoint.to_string(),
            reason: "it cannot hold a path".to_string(),
        })?
        .pop_if_empty()
        .push(&spec.owner)
        .push(&spec.name)
        .push("resolve")
        .push(&spec.revision)
        .extend(spec.file.split('/'));
    Ok(url)
}

/// The Hub's description of a file, checked to be safe as cache file names.
fn parse_metadata(
    url: &Url,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<FileMetadata, HubError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let missing = |header: &'static str| HubError::MissingHeader {
        url: url.to_string(),
        header,
    };
    let commit = header("x-repo-commit")
        .filter(|commit| is_plain_name(commit))
        .ok_or_else(|| missing("X-Repo-Commit"))?;
    let etag = header("x-linked-etag")
        .or_else(|| header(ETAG.as_str()))
        .map(|etag| etag.trim_start_matches("W/").trim_matches('"'))
        .filter(|etag| is_plain_name(etag))
        .ok_or_else(|| missing("ETag"))?;
    let size = match header("x-linked-size") {
        Some(size) => Some(size.parse().map_err(|_| missing("X-Linked-Size"))?),
        // A redirect's Content-Length is its own body's.
        None if status.is_success() => header(CONTENT_LENGTH.as_str()).and_then(|s| s.parse().ok()),
        None => None,
    };
    let sha256 = (etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| etag.to_ascii_lowercase());
    Ok(FileMetadata {
        commit: commit.to_string(),
        etag: etag.to_string(),
        size,
        sha256,
    })
}

/// A name that can be a file name in the cache: letters, digits, `-`, `_`, `.`,
/// not starting with `.`.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Where a redirect to the same host leads (a renamed repository); `None` for a
/// redirect elsewhere (the file's storage), whose headers describe the file.
fn relative_redirect(from: &Url, headers: &HeaderMap) -> Option<Url> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    let is_relative = location.starts_with('/') && !location.starts_with("//");
    if is_relative {
        from.join(location).ok()
    } else {
        None
    }
}

fn status_error(url: &Url, spec: &ModelSpec, response: &Response, token_set: bool) -> HubError {
    let code = response
        .headers()
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let url = url.to_string();
    match response.status().as_u16() {
        404 => HubError::NotFound {
            url,
            spec: spec.to_string(),
            code,
        },
        status @ (401 | 403) => HubError::Unauthorized {
            url,
            status,
            code,
            token_set,
        },
        status => HubError::Status { url, status, code },
    }
}

/// A transport error, naming the resolve URL (not a storage URL it redirected to,
/// which may carry a signature).
pub(crate) fn unreachable(url: &Url, error: &reqwest::Error) -> HubError {
    HubError::Unreachable {
        url: url.to_string(),
        reason: error_chain(error),
    }
}

/// An error with its causes, without any URL reqwest attached.
fn error_chain(error: &reqwest::Error) -> String {
    use std::error::Error;
    let text = if error.url().is_some() {
        let mut shown = String::new();
        if error.is_timeout() {
            shown.push_str("timed out");
        } else if error.is_connect() {
            shown.push_str("could not connect");
        } else if error.is_body() || error.is_decode() {
            shown.push_str("the connection broke");
        } else {
            shown.push_str("request failed");
        }
        shown
    } else {
        error.to_string()
    };
    crate::net::with_causes(text, error.source())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn resolve_urls_encode_each_part() {
        let spec = ModelSpec::parse("org/repo/dir/a b.gguf@refs/pr/1").unwrap();
        let url = resolve_url("http://127.0.0.1:9/mirror", &spec).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/mirror/org/repo/resolve/refs%2Fpr%2F1/dir/a%20b.gguf"
        );
        let spec = ModelSpec::parse("org/repo/m.gguf").unwrap();
        let url = resolve_url("https://huggingface.co", &spec).unwrap();
        assert_eq!(
            url.as_str(),
            "https://huggingface.co/org/repo/resolve/main/m.gguf"
        );
    }

    #[test]
    fn lfs_redirects_describe_the_file_with_linked_headers() {
        let url = Url::parse("http://hub/o/r/resolve/main/m.gguf").unwrap();
        let sha = "AB".repeat(32);
        let found = parse_metadata(
            &url,
            StatusCode::FOUND,
            &headers(&[
                ("x-repo-commit", &"c".repeat(40)),
                ("x-linked-etag", &format!("\"{sha}\"")),
                ("etag", "\"other\""),
                ("x-linked-size", "1234"),
                ("content-length", "17"),
            ]),
        )
        .unwrap();
        assert_eq!(found.commit, "c".repeat(40));
        assert_eq!(found.etag, sha);
        assert_eq!(found.size, Some(1234));
        assert_eq!(found.sha256, Some(sha.to_ascii_lowercase()));
    }

    #[test]
    fn git_files_have_a_weak_etag_and_no_sha256() {
        let url = Url::parse("http://hub/o/r/resolve/main/m.gguf").unwrap();
        let found = parse_metadata(
            &url,
            StatusCode::OK,
            &headers(&[
                ("x-repo-commit", "abc123"),
                ("etag", &format!("W/\"{}\"", "d".repeat(40))),
                ("content-length", "17"),
            ]),
        )
        .unwrap();
        assert_eq!(found.etag, "d".repeat(40));
        assert_eq!(found.size, Some(17));
        assert_eq!(found.sha256, None);
    }

    #[test]
    fn unusable_descriptions_are_refused() {
        let url = Url::parse("http://hub/o/r/resolve/main/m.gguf").unwrap();
        let no_commit = parse_metadata(&url, StatusCode::OK, &headers(&[("etag", "\"e\"")]));
        assert!(matches!(
            no_commit,
            Err(HubError::MissingHeader {
                header: "X-Repo-Commit",
                ..
            })
        ));
        let climbing = parse_metadata(
            &url,
            StatusCode::OK,
            &headers(&[("x-repo-commit", "c"), ("etag", "\"../../x\"")]),
        );
        assert!(matches!(
            climbing,
            Err(HubError::MissingHeader { header: "ETag", .. })
        ));
    }

    #[test]
    fn only_same_host_redirects_are_followed_for_metadata() {
        let from = Url::parse("http://hub/old/r/resolve/main/m.gguf").unwrap();
        let relative = headers(&[("location", "/new/r/resolve/main/m.gguf")]);
        assert_eq!(
            relative_redirect(&from, &relative).unwrap().as_str(),
            "http://hub/new/r/resolve/main/m.gguf"
        );
        let storage = headers(&[("location", "https://cdn.example/blob?sig=x")]);
        assert_eq!(relative_redirect(&from, &storage), None);
        let protocol_relative = headers(&[("location", "//cdn.example/blob")]);
        assert_eq!(relative_redirect(&from, &protocol_relative), None);
    }
}
