//! The token check every request passes, and the headers every answer carries.
//!
//! The token comes in the `token` query parameter (the URL the server prints, as
//! Jupyter's does) or the `X-Tdg-Token` header (what the page's scripts send). A
//! request without one gets 401, one with a wrong one 403; the comparison takes the
//! same time wherever the tokens differ. Answers forbid inline scripts, framing,
//! caching and referrers, so the token does not leak and model text cannot run.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ReviewState;

/// The header the page's scripts send the token in.
pub const TOKEN_HEADER: &str = "x-tdg-token";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether `a` and `b` are equal, in a time that depends only on their lengths.
pub fn same_token(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The token a request carries, if any.
fn token_of(request: &Request) -> Option<String> {
    if let Some(value) = request.headers().get(TOKEN_HEADER) {
        return value.to_str().ok().map(str::to_string);
    }
    request.uri().query().and_then(|query| {
        query.split('&').find_map(|part| {
            part.strip_prefix("token=")
                .map(|token| token.trim().to_string())
        })
    })
}

/// Refuses a request without the right token; adds the security headers to the rest.
pub async fn require_token(
    State(state): State<Arc<ReviewState>>,
    request: Request,
    next: Next,
) -> Response {
    let refused = match token_of(&request) {
        None => Some((
            StatusCode::UNAUTHORIZED,
            "this tdg review server needs its token: open the URL it printed, with ?token=…",
        )),
        Some(token) if !same_token(token.as_bytes(), state.token.as_bytes()) => Some((
            StatusCode::FORBIDDEN,
            "wrong token: open the URL this tdg review server printed",
        )),
        Some(_) => None,
    };
    let mut response = match refused {
        Some((status, message)) => {
            (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
        }
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::same_token;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token(b"abc", b"abc"));
        assert!(!same_token(b"abc", b"abd"));
        assert!(!same_token(b"abc", b"abcd"));
        assert!(!same_token(b"", b"a"));
    }
}
