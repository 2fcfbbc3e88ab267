//! A fake Hugging Face Hub on 127.0.0.1, one server for every test that talks to the
//! Hub: model downloads as `resolve` and its storage answer them ([`downloads`]),
//! and dataset pushes as the Hub's API takes them ([`pushes`]). It records every
//! request, with its headers and body, so that tests can check where the token
//! went; it can require a token, and can cut downloads off half way.

mod downloads;
mod pushes;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{post, put};
use sha2::{Digest, Sha256};

/// A request the fake hub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path and query.
    pub path: String,
    /// By lower-case name.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A model file the fake hub serves.
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

/// A commit the fake hub took.
#[derive(Debug, Clone)]
pub struct Commit {
    pub repo: String,
    pub revision: String,
    pub summary: String,
    /// Every file, by path: its bytes (an LFS file's from storage).
    pub files: BTreeMap<String, Vec<u8>>,
    /// The paths committed as LFS pointers.
    pub lfs: Vec<String>,
}

#[derive(Default)]
struct Hub {
    url: String,
    token: Option<String>,
    requests: Vec<Recorded>,
    // Downloads.
    /// By `org/repo/file`.
    files: HashMap<String, Served>,
    cut_offs: usize,
    // Pushes.
    /// The next this many push requests are answered with this status.
    failures: (usize, u16),
    repos: HashMap<String, bool>,
    branches: HashSet<String>,
    lfs: HashMap<String, Vec<u8>>,
    commits: Vec<Commit>,
}

type Shared = Arc<Mutex<Hub>>;

/// The server; it runs until the test process ends.
#[derive(Clone)]
pub struct FakeHub {
    pub url: String,
    state: Shared,
}

impl FakeHub {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state: Shared = Arc::new(Mutex::new(Hub {
            url: url.clone(),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/api/repos/create", post(pushes::create_repo))
            .route(
                "/api/datasets/{org}/{name}/branch/{revision}",
                post(pushes::branch),
            )
            .route(
                "/api/datasets/{org}/{name}/preupload/{revision}",
                post(pushes::preupload),
            )
            .route(
                "/api/datasets/{org}/{name}/commit/{revision}",
                post(pushes::commit),
            )
            .route(
                "/datasets/{org}/{git}/info/lfs/objects/batch",
                post(pushes::batch),
            )
            .route("/storage/{oid}", put(pushes::storage))
            .route("/verify/{oid}", post(pushes::verify))
            .fallback(downloads::answer)
            .with_state(state.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        FakeHub { url, state }
    }

    /// Answers only requests with `Authorization: Bearer {token}` (storage uploads,
    /// whose signed address is their credential, aside).
    pub fn require_token(&self, token: &str) {
        self.state().token = Some(token.to_string());
    }

    /// Serves the model file `file` (`org/repo/path.gguf`).
    pub fn add(&self, file: &str, served: Served) {
        self.state().files.insert(file.to_string(), served);
    }

    /// Cuts the next `count` downloads off half way.
    pub fn cut_off_next(&self, count: usize) {
        self.state().cut_offs = count;
    }

    /// Answers the next `count` push requests with `status` (a Hub in trouble).
    pub fn fail_next(&self, count: usize, status: u16) {
        self.state().failures = (count, status);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The storage downloads received so far.
    pub fn downloads(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/cdn/"))
            .collect()
    }

    pub fn commits(&self) -> Vec<Commit> {
        self.state().commits.clone()
    }

    /// Whether `repo` exists, and is private.
    pub fn repo(&self, repo: &str) -> Option<bool> {
        self.state().repos.get(repo).copied()
    }

    pub fn has_branch(&self, repo: &str, branch: &str) -> bool {
        self.state().branches.contains(&format!("{repo}@{branch}"))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Hub> {
        self.state.lock().unwrap()
    }
}

/// Records a request.
fn record(
    state: &Shared,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) {
    state.lock().unwrap().requests.push(Recorded {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    });
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
