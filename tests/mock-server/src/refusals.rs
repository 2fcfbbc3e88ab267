//! The ways real servers refuse a request that the mock imitates: a prompt longer
//! than the context (the `MOCK-TOO-LONG` marker), an error that echoes the request's
//! credentials, and llama-cpp-python's HTTP 500 for `response_format: json_schema`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::MockState;

/// The refusal this request gets, if any.
pub(crate) fn refusal(state: &MockState, body: &Value, _headers: &HeaderMap) -> Option<Response> {
    use std::sync::atomic::Ordering::SeqCst;
    if body.to_string().contains("MOCK-TOO-LONG") {
        return Some(context_length_exceeded());
    }
    let format = body
        .pointer("/response_format/type")
        .and_then(Value::as_str);
    if state.refuse_json_schema.load(SeqCst) && format == Some("json_schema") {
        return Some(json_schema_refused());
    }
    None
}

/// OpenAI's answer to a prompt longer than the model's context.
pub fn context_length_exceeded() -> Response {
    let body = json!({"error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 250000 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// OpenAI's answer when the account has no quota left (HTTP 429).
pub fn insufficient_quota_body() -> Value {
    json!({"error": {
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "type": "insufficient_quota",
        "param": null,
        "code": "insufficient_quota",
    }})
}

/// llama-cpp-python's server on `response_format: json_schema`: HTTP 500 with the
/// validation error of its request model.
fn json_schema_refused() -> Response {
    let body = json!({"error": {
        "message": "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be 'text' or 'json_object' [type=literal_error, input_value='json_schema', input_type=str]",
        "type": "internal_server_error",
        "param": null,
        "code": null,
    }});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// A 500 whose message holds the request's `Authorization` header.
pub(crate) fn echo_authorization(headers: &HeaderMap) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)");
    let body = json!({"error": {"message": format!("mock: upstream failed for a request with Authorization: {authorization}")}});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}
