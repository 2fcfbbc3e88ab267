//! Model downloads as the Hub answers them: `HEAD` or `GET` of
//! `/{org}/{repo}/resolve/{revision}/{file}` redirects to the file's storage
//! (`/cdn/{etag}`) with `X-Repo-Commit`, `X-Linked-Etag` and `X-Linked-Size`;
//! storage honours `Range: bytes=N-` with a 206. With a token required, a request
//! without one gets 401 and one with another token 403, as the Hub answers for a
//! gated repository.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::{Shared, record};

pub(super) async fn answer(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&state, &method, &uri, &headers, &[]);
    let mut hub = state.lock().unwrap();
    if let Some(token) = &hub.token {
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            None => return error(StatusCode::UNAUTHORIZED, "GatedRepo"),
            Some(value) if value != format!("Bearer {token}") => {
                return error(StatusCode::FORBIDDEN, "GatedRepo");
            }
            Some(_) => {}
        }
    }
    if let Some(etag) = uri.path().strip_prefix("/cdn/") {
        let Some(served) = hub.files.values().find(|s| s.etag == etag).cloned() else {
            return error(StatusCode::NOT_FOUND, "EntryNotFound");
        };
        let cut = method == Method::GET && hub.cut_offs > 0;
        if cut {
            hub.cut_offs -= 1;
        }
        return storage_answer(&headers, &served.bytes, cut);
    }
    let Some((repo_file, revision)) = parse_resolve(uri.path()) else {
        return error(StatusCode::NOT_FOUND, "RepoNotFound");
    };
    match hub.files.get(&repo_file) {
        Some(served) if served.revisions.contains(&revision) => (
            StatusCode::FOUND,
            [
                ("Location", format!("{}/cdn/{}", hub.url, served.etag)),
                ("X-Repo-Commit", served.commit.clone()),
                ("X-Linked-Etag", format!("\"{}\"", served.etag)),
                ("X-Linked-Size", served.bytes.len().to_string()),
                ("ETag", "\"git-blob-of-the-pointer\"".into()),
            ],
        )
            .into_response(),
        Some(_) => error(StatusCode::NOT_FOUND, "RevisionNotFound"),
        None => error(StatusCode::NOT_FOUND, "EntryNotFound"),
    }
}

/// A storage answer: the whole file, or from `Range: bytes=N-` on; `cut` sends half
/// of it and breaks the connection.
fn storage_answer(headers: &HeaderMap, bytes: &[u8], cut: bool) -> Response {
    let start = headers
        .get("range")
        .and_then(|range| range.to_str().ok())
        .and_then(|range| range.strip_prefix("bytes="))
        .and_then(|range| range.strip_suffix('-'))
        .and_then(|start| start.parse::<usize>().ok());
    let (status, body, range) = match start {
        Some(start) if start >= bytes.len() => {
            return error(StatusCode::RANGE_NOT_SATISFIABLE, "Range");
        }
        Some(start) => (
            StatusCode::PARTIAL_CONTENT,
            bytes[start..].to_vec(),
            Some(format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len())),
        ),
        None => (StatusCode::OK, bytes.to_vec(), None),
    };
    let length = body.len();
    let body = if cut {
        let half = Bytes::from(body[..length / 2].to_vec());
        let broken = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut off");
        // The half goes out first; the connection breaks a moment later.
        let break_off = async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            Err(broken)
        };
        let stream = futures_util::StreamExt::chain(
            futures_util::stream::iter([Ok(half)]),
            futures_util::stream::once(break_off),
        );
        Body::from_stream(stream)
    } else {
        Body::from(body)
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-length", length.into());
    if let Some(range) = range {
        headers.insert("content-range", range.parse().unwrap());
    }
    response
}

fn error(status: StatusCode, code: &'static str) -> Response {
    (status, [("X-Error-Code", code)], "error").into_response()
}

/// `/{org}/{repo}/resolve/{revision}/{file}` as (`org/repo/file`, revision).
fn parse_resolve(path: &str) -> Option<(String, String)> {
    let mut parts = path.trim_start_matches('/').splitn(5, '/');
    let (org, repo, resolve, revision, file) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (resolve == "resolve").then(|| {
        (
            format!("{org}/{repo}/{}", file.replace("%20", " ")),
            revision.replace("%2F", "/"),
        )
    })
}
