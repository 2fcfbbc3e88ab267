//! A fake Hugging Face Hub on 127.0.0.1 for the `hub` tests.
//!
//! It answers like the real Hub: `HEAD` or `GET` of
//! `/{org}/{repo}/resolve/{revision}/{file}` redirects to the file's storage
//! (`/cdn/{etag}`) with `X-Repo-Commit`, `X-Linked-Etag` and `X-Linked-Size`;
//! storage honours `Range: bytes=N-` with a 206. It records every request, can
//! require a token (401 without one, 403 with another, as the Hub does for a
//! gated repository), and can cut downloads off half way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request the fake hub received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
}

/// A file the fake hub serves.
#[derive(Debug, Clone)]
pub struct Served {
    pub bytes: Vec<u8>,
    /// What `X-Linked-Etag` says: the SHA-256 of `bytes`, unless a test lies.
    pub etag: String,
    pub commit: String,
    /// The revisions that resolve to this file (branch, tags, the commit).
    pub revisions: Vec<String>,
}

impl Served {
    /// `bytes` at commit `commit`, reachable as `main` and the commit.
    pub fn new(bytes: Vec<u8>, commit: &str) -> Self {
        Served {
            etag: sha256_hex(&bytes),
            bytes,
            commit: commit.to_string(),
            revisions: vec!["main".to_string(), commit.to_string()],
        }
    }
}

#[derive(Default)]
struct State {
    /// By `org/repo/file`.
    files: HashMap<String, Served>,
    requests: Vec<Request>,
    cut_offs: usize,
    token: Option<String>,
}

/// The server; it runs until the test process ends.
#[derive(Clone)]
pub struct FakeHub {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeHub {
    pub fn start() -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let hub = FakeHub {
            url,
            state: Arc::default(),
        };
        let server = hub.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    let server = server.clone();
                    tokio::spawn(async move { server.serve(stream).await });
                }
            });
        });
        hub
    }

    /// Serves `file` (`org/repo/path.gguf`).
    pub fn add(&self, file: &str, served: Served) {
        self.state().files.insert(file.to_string(), served);
    }

    /// Cuts the next `count` downloads off half way.
    pub fn cut_off_next(&self, count: usize) {
        self.state().cut_offs = count;
    }

    /// Answers only requests with `Authorization: Bearer {token}`.
    pub fn require_token(&self, token: &str) {
        self.state().token = Some(token.to_string());
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    /// The storage downloads received so far.
    pub fn downloads(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/cdn/"))
            .collect()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    async fn serve(&self, mut stream: TcpStream) {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        self.state().requests.push(request.clone());
        let head = request.method == "HEAD";
        let (status, headers, body, cut) = self.answer(&request);
        let mut text = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
        for (name, value) in &headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let _ = stream.write_all(text.as_bytes()).await;
        if !head {
            let sent = if cut { body.len() / 2 } else { body.len() };
            let _ = stream.write_all(&body[..sent]).await;
        }
        let _ = stream.flush().await;
        let _ = stream.shutdown().await;
    }

    fn answer(&self, request: &Request) -> (String, Vec<(String, String)>, Vec<u8>, bool) {
        let mut state = self.state();
        if let Some(token) = &state.token {
            match request.headers.get("authorization") {
                None => return error("401 Unauthorized", "GatedRepo"),
                Some(value) if *value != format!("Bearer {token}") => {
                    return error("403 Forbidden", "GatedRepo");
                }
                Some(_) => {}
            }
        }
        if let Some(etag) = request.path.strip_prefix("/cdn/") {
            let Some(served) = state.files.values().find(|s| s.etag == etag).cloned() else {
                return error("404 Not Found", "EntryNotFound");
            };
            let cut = request.method == "GET" && state.cut_offs > 0;
            if cut {
                state.cut_offs -= 1;
            }
            return storage_answer(request, &served.bytes, cut);
        }
        let Some((repo_file, revision)) = parse_resolve(&request.path) else {
            return error("404 Not Found", "RepoNotFound");
        };
        match state.files.get(&repo_file) {
            Some(served) if served.revisions.contains(&revision) => {
                let headers = vec![
                    (
                        "Location".into(),
                        format!("{}/cdn/{}", self.url, served.etag),
                    ),
                    ("X-Repo-Commit".into(), served.commit.clone()),
                    ("X-Linked-Etag".into(), format!("\"{}\"", served.etag)),
                    ("X-Linked-Size".into(), served.bytes.len().to_string()),
                    ("ETag".into(), "\"git-blob-of-the-pointer\"".into()),
                ];
                ("302 Found".into(), headers, Vec::new(), false)
            }
            Some(_) => error("404 Not Found", "RevisionNotFound"),
            None => error("404 Not Found", "EntryNotFound"),
        }
    }
}

/// A storage answer: the whole file, or from `Range: bytes=N-` on.
fn storage_answer(
    request: &Request,
    bytes: &[u8],
    cut: bool,
) -> (String, Vec<(String, String)>, Vec<u8>, bool) {
    let start = request
        .headers
        .get("range")
        .and_then(|range| range.strip_prefix("bytes="))
        .and_then(|range| range.strip_suffix('-'))
        .and_then(|start| start.parse::<usize>().ok());
    match start {
        Some(start) if start >= bytes.len() => error("416 Range Not Satisfiable", "Range"),
        Some(start) => {
            let range = format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len());
            let headers = vec![("Content-Range".to_string(), range)];
            (
                "206 Partial Content".into(),
                headers,
                bytes[start..].to_vec(),
                cut,
            )
        }
        None => ("200 OK".into(), Vec::new(), bytes.to_vec(), cut),
    }
}

fn error(status: &str, code: &str) -> (String, Vec<(String, String)>, Vec<u8>, bool) {
    let headers = vec![("X-Error-Code".to_string(), code.to_string())];
    (status.to_string(), headers, b"error".to_vec(), false)
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

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        let read = stream.read(&mut byte).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.push(byte[0]);
    }
    let text = String::from_utf8(buffer).ok()?;
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Some(Request {
        method,
        path,
        headers,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
