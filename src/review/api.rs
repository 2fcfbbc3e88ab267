//! The router: the page and its two files, and the JSON API the page calls.
//!
//! - `GET /api/overview`: the documents with their counts, and the filters' values;
//! - `GET /api/pairs?doc=&status=&reason=&gmin=&gmax=&judge=&qtype=&reviewed=&q=&offset=&limit=`:
//!   one page of pairs (see [`super::index::Query`]);
//! - `GET /api/chunk?stem=&position=`: a chunk's text;
//! - `POST /api/decide` with `{stem, position, question, action, new_question?,
//!   new_answer?}`: records a decision (`accept`, `reject`, `edit`, `undo`) and rewrites
//!   the document's Q&A file, unless another tdg is writing the directory (its next
//!   write then applies the decision).
//!
//! Reading is GET; changing is POST only, with a JSON body (a cross-site form cannot
//! send one) and the token. The store's work runs off the async threads.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::index::{self, Overview, Page, PairView};
use super::{Inner, ReviewState, auth};
use crate::checkpoint::{Decision, DecisionAction, StoreError, current_reviewer};
use crate::dir_lock::{self, DirLockError};
use crate::outputs::qa_files::{self, ViewError};

const PAGE_HTML: &str = include_str!("page.html");
const PAGE_JS: &str = include_str!("page.js");
const PAGE_CSS: &str = include_str!("page.css");

/// The longest question or answer an edit may hold, in bytes.
const MAX_EDIT: usize = 64 * 1024;

/// The server's routes, every one behind the token check.
pub fn router(state: Arc<ReviewState>) -> Router {
    Router::new()
        .route("/", get(page))
        .route(
            "/page.js",
            get(|| async { asset("text/javascript; charset=utf-8", PAGE_JS) }),
        )
        .route(
            "/page.css",
            get(|| async { asset("text/css; charset=utf-8", PAGE_CSS) }),
        )
        .route("/api/overview", get(overview))
        .route("/api/pairs", get(pairs))
        .route("/api/chunk", get(chunk))
        .route("/api/decide", post(decide))
        .fallback(|| async { ApiError::NotFound("no such page".into()) })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .with_state(state)
}

/// Why a request failed; answered as `{"error": "..."}`.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    View(#[from] ViewError),
    #[error(transparent)]
    Lock(#[from] DirLockError),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!("review: {self}");
        }
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn page(State(state): State<Arc<ReviewState>>) -> Response {
    // The token is 32 hex digits: nothing in it needs escaping.
    let html = PAGE_HTML.replace("__TOKEN__", &state.token);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// Runs `work` on the store and index off the async threads.
async fn with_inner<T: Send + 'static>(
    state: Arc<ReviewState>,
    work: impl FnOnce(&mut Inner, &ReviewState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut inner = state.inner.lock().map_err(|_| {
            ApiError::Internal("an earlier request failed mid-way: restart tdg review".into())
        })?;
        work(&mut inner, &state)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("a request failed: {e}")))?
}

async fn overview(State(state): State<Arc<ReviewState>>) -> Result<Json<Overview>, ApiError> {
    with_inner(state, |inner, _| Ok(inner.index.overview()))
        .await
        .map(Json)
}

async fn pairs(
    State(state): State<Arc<ReviewState>>,
    Query(query): Query<index::Query>,
) -> Result<Json<Page>, ApiError> {
    with_inner(state, move |inner, _| Ok(inner.index.page(&query)))
        .await
        .map(Json)
}

#[derive(Debug, Deserialize)]
struct ChunkQuery {
    stem: String,
    position: u32,
}

#[derive(Debug, Serialize)]
struct ChunkView {
    stem: String,
    position: u32,
    chunk_id: String,
    chunk_index: i64,
    /// The page the chunk is on, when its chunker recorded it.
    page: Option<u64>,
    /// The headings above the chunk, outermost first (empty when none were recorded).
    headings: Vec<String>,
    text: String,
}

async fn chunk(
    State(state): State<Arc<ReviewState>>,
    Query(query): Query<ChunkQuery>,
) -> Result<Json<ChunkView>, ApiError> {
    with_inner(state, move |inner, _| {
        let chunk = inner
            .store
            .review_chunk(&query.stem, query.position)?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "document {} has no chunk at position {}",
                    query.stem, query.position
                ))
            })?;
        Ok(ChunkView {
            stem: query.stem,
            position: query.position,
            chunk_id: chunk.chunk_id,
            chunk_index: chunk.chunk_index,
            page: chunk.place.page,
            headings: chunk.place.headings,
            text: chunk.text,
        })
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
struct DecideBody {
    stem: String,
    position: u32,
    /// The pair's original question.
    question: String,
    action: DecisionAction,
    new_question: Option<String>,
    new_answer: Option<String>,
    /// A conversation's edited follow-up exchanges, all of them, in order.
    new_follow_ups: Option<Vec<crate::task::Turn>>,
}

#[derive(Debug, Serialize)]
struct Decided {
    pair: PairView,
    /// Whether the document's Q&A file was rewritten now.
    written: bool,
    note: Option<String>,
}

async fn decide(
    State(state): State<Arc<ReviewState>>,
    Json(body): Json<DecideBody>,
) -> Result<Json<Decided>, ApiError> {
    let edit = match body.action {
        DecisionAction::Edit => Some(edited_text(&body)?),
        _ => None,
    };
    let edit_follow_ups = match (body.action, &body.new_follow_ups) {
        (DecisionAction::Edit, Some(turns)) => Some(edited_turns(turns)?),
        _ => None,
    };
    with_inner(state, move |inner, state| {
        let id = inner
            .index
            .find(&body.stem, body.position, &body.question)
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no pair with that question in chunk {} of {}: reload the page",
                    body.position, body.stem
                ))
            })?;
        let verdict = inner.store.record_decision(&Decision {
            stem: body.stem.clone(),
            position: body.position,
            question: body.question,
            action: body.action,
            edit,
            edit_follow_ups,
            reviewer: current_reviewer(),
        })?;
        inner.index.set_verdict(id, verdict);
        let (written, note) = match dir_lock::lock(&state.qa_dir) {
            Ok(_lock) => (
                qa_files::rewrite(&inner.store, &state.qa_dir, &body.stem)?.is_some(),
                None,
            ),
            Err(DirLockError::Busy { .. }) => (
                false,
                Some(
                    "another tdg is writing this directory: its next write applies the decision"
                        .to_string(),
                ),
            ),
            Err(error) => return Err(error.into()),
        };
        let pair = inner
            .index
            .view(id)
            .ok_or_else(|| ApiError::Internal("the pair vanished from the index".into()))?;
        Ok(Decided {
            pair,
            written,
            note,
        })
    })
    .await
    .map(Json)
}

/// An edit's follow-ups: each exchange's two sides checked as an edit's text is.
fn edited_turns(turns: &[crate::task::Turn]) -> Result<Vec<crate::task::Turn>, ApiError> {
    turns
        .iter()
        .enumerate()
        .map(|(at, turn)| {
            let side = |text: &str, name: &str| {
                edited_field(Some(text), &format!("new_follow_ups[{at}].{name}"))
            };
            Ok(crate::task::Turn {
                question: side(&turn.question, "question")?,
                answer: side(&turn.answer, "answer")?,
            })
        })
        .collect()
}

/// One edited text: given, not blank, not huge; trimmed.
fn edited_field(value: Option<&str>, name: &str) -> Result<String, ApiError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "an edit needs a non-empty {name}"
        )));
    }
    if text.len() > MAX_EDIT {
        return Err(ApiError::BadRequest(format!(
            "the edited {name} is longer than {MAX_EDIT} bytes"
        )));
    }
    Ok(text.to_string())
}

/// An edit's new question and answer: both given, not blank, not huge.
fn edited_text(body: &DecideBody) -> Result<(String, String), ApiError> {
    Ok((
        edited_field(body.new_question.as_deref(), "new_question")?,
        edited_field(body.new_answer.as_deref(), "new_answer")?,
    ))
}
