//! The mock model server as other clients see it: in lenient mode it serves requests
//! without the optional fields tdg always sends, and it speaks Ollama's
//! `/api/generate`, so that the original tool can be measured against the same server
//! as tdg (BENCHMARKS.md, "Side by side").

use std::io::{Read, Write};

use serde_json::{Value, json};
use tdg_mock_server::MockServer;

/// Posts `body` to `path` with a plain HTTP/1.1 request; returns the status and body.
fn post(server: &MockServer, path: &str, body: &Value) -> (u16, String) {
    let address = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let body = body.to_string();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

const PROMPT: &str = "Generate 2 question-answer pairs from this text:\nThe Licensor grants a perpetual, worldwide copyright license to reproduce the Work.";

#[test]
fn a_bare_request_is_refused_unless_the_server_is_lenient() {
    let server = MockServer::start();
    let bare_chat = json!({"model": "m", "messages": [{"role": "user", "content": PROMPT}]});
    let (status, body) = post(&server, "/api/chat", &bare_chat);
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(&server, "/v1/chat/completions", &bare_chat);
    assert_eq!(status, 400);

    server.set_lenient();
    let (status, body) = post(&server, "/api/chat", &bare_chat);
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    let pairs: Value = serde_json::from_str(reply["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(pairs.as_array().unwrap().len(), 2);
    let (status, body) = post(&server, "/v1/chat/completions", &bare_chat);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn ollama_generate_answers_pairs_from_the_prompt() {
    let server = MockServer::start();
    let (status, body) = post(
        &server,
        "/api/generate",
        &json!({"model": "m", "prompt": PROMPT}),
    );
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["done"], true);
    let pairs: Value = serde_json::from_str(reply["response"].as_str().unwrap()).unwrap();
    let pairs = pairs.as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    assert!(
        pairs[0]["answer"].as_str().unwrap().contains("Licensor"),
        "{pairs:?}"
    );
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.served(), 1);
    let (status, _) = post(&server, "/api/generate", &json!({"model": "m"}));
    assert_eq!(status, 400, "a request without a prompt is refused");
}
