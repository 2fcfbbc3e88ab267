//! `tdg review`: a local web page to read, filter, accept, reject and edit the pairs of
//! a Q&A directory, with the reviewer's decisions written to the checkpoint the moment
//! they are made and applied by the views wherever Q&A files are written.
//!
//! One job per file: [`index`] holds the pairs in memory and answers filtered pages;
//! [`auth`] checks the token on every request and sets the security headers; [`api`]
//! is the router and its handlers (the JSON API and the page); the page itself
//! (`page.html`, `page.js`, `page.css`) is built into the binary and loads nothing
//! from elsewhere.
//!
//! Safe by default: the server listens on 127.0.0.1 unless told otherwise; every
//! request must carry the random token the URL holds (compared in constant time);
//! state changes only by POST with a JSON body; and the page inserts every text with
//! `textContent`, under a Content-Security-Policy that allows no inline script.

mod api;
mod auth;
pub mod index;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::checkpoint::{Access, CheckpointStore, StoreError};

pub use api::router;

/// Why the review server cannot start or serve.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot make the review token: the system's random source failed ({0}); try again")]
    Random(String),
    #[error("the review server stopped: {0}")]
    Serve(#[source] std::io::Error),
}

/// What the handlers share: the directory, the token, and the store with the index.
pub struct ReviewState {
    pub(crate) qa_dir: PathBuf,
    pub(crate) token: String,
    pub(crate) inner: Mutex<Inner>,
}

/// The store and the pairs, behind one lock: a decision changes both.
pub(crate) struct Inner {
    pub(crate) store: CheckpointStore,
    pub(crate) index: index::Index,
}

impl ReviewState {
    /// Opens the checkpoint of `qa_dir` (it must exist) and reads its pairs.
    pub fn open(qa_dir: &Path, token: String) -> Result<Arc<Self>, ReviewError> {
        let store = CheckpointStore::open_existing(qa_dir, Access::ReadWrite)?;
        let index = index::Index::load(&store)?;
        Ok(Arc::new(ReviewState {
            qa_dir: qa_dir.to_path_buf(),
            token,
            inner: Mutex::new(Inner { store, index }),
        }))
    }

    /// How many pairs the run holds.
    pub fn pairs(&self) -> usize {
        self.inner.lock().map_or(0, |inner| inner.index.len())
    }

    /// The token every request must carry.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// A random token of 128 bits, as 32 hex digits.
pub fn new_token() -> Result<String, ReviewError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ReviewError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Serves `state` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ReviewState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ReviewError> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ReviewError::Serve)
}
