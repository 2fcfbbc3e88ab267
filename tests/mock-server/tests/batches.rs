//! The mock server's batch APIs (OpenAI, Anthropic, Gemini), driven over HTTP: a
//! batch stays in progress while held and ends at the next status request once
//! released; its lines are answered exactly as the live endpoints answer the same
//! bodies, except the `MOCK-BATCH-FAIL-ONCE` and `MOCK-BATCH-EXPIRE-ONCE` lines, which
//! fail or expire the first time only; batches can be cancelled; keys are checked.

use serde_json::{Value, json};
use tdg_mock_server::MockServer;

const KEY: &str = "sk-batch";
const OK: &str = "The harbour opens at dawn and the fishing boats leave with the tide.";
const FAIL: &str = "MOCK-BATCH-FAIL-ONCE The lighthouse keeper climbs the tower every evening.";
const EXPIRE: &str = "MOCK-BATCH-EXPIRE-ONCE The market sells bread, cheese and apples.";

fn server() -> MockServer {
    MockServer::start_with(Some(KEY), Some(&["gpt-mock", "claude-mock", "gemini-mock"]))
}

/// A user prompt in the shape of tdg's default template.
fn prompt(chunk: &str) -> String {
    format!("Generate 3 question-answer pairs from the text below.\n\"\"\"\n{chunk}\n\"\"\"\n")
}

fn openai_body(chunk: &str) -> Value {
    json!({"model": "gpt-mock", "temperature": 0.2, "max_tokens": 900, "messages": [
        {"role": "system", "content": "You write question-answer pairs."},
        {"role": "user", "content": prompt(chunk)},
    ]})
}

fn claude_body(chunk: &str) -> Value {
    json!({"model": "claude-mock", "max_tokens": 900, "temperature": 0.2,
        "system": "You write question-answer pairs.",
        "messages": [{"role": "user", "content": prompt(chunk)}]})
}

fn gemini_body(chunk: &str) -> Value {
    json!({
        "systemInstruction": {"parts": [{"text": "You write question-answer pairs."}]},
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 900},
        "contents": [{"role": "user", "parts": [{"text": prompt(chunk)}]}],
    })
}

/// A client that keeps the server's URL.
struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(server: &MockServer) -> Self {
        // reqwest is built as tdg builds it, without a crypto provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            http: reqwest::Client::new(),
            url: server.url.clone(),
        }
    }

    fn openai(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(KEY)
    }

    fn claude(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01")
    }

    fn gemini(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("x-goog-api-key", KEY)
    }
}

/// Sends a request; its status and body (JSON, or JSON lines as a list, or text).
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the mock server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| {
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or(Value::String(line.into())))
            .collect()
    });
    (status, body)
}

/// [`send`], for a request that must succeed: the body of its 200 answer.
async fn send_ok(request: reqwest::RequestBuilder) -> Value {
    let (status, body) = send(request).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A JSONL file of OpenAI batch lines.
fn openai_file(lines: &[(&str, Value)]) -> String {
    lines
        .iter()
        .map(|(id, body)| {
            let line = json!({"custom_id": id, "method": "POST", "url": "/v1/chat/completions", "body": body});
            format!("{line}\n")
        })
        .collect()
}

/// Uploads `file` to `/v1/files` as a multipart form, as tdg does.
async fn upload(client: &Client, purpose: &str, file: &str) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(file.as_bytes().to_vec())
        .file_name("batch.jsonl")
        .mime_str("application/jsonl")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("purpose", purpose.to_string())
        .part("file", part);
    send(
        client
            .openai(reqwest::Method::POST, "/v1/files")
            .multipart(form),
    )
    .await
}

/// Uploads `file` as a multipart form written by hand, with a quoted boundary.
async fn upload_by_hand(client: &Client, file: &str) -> (u16, Value) {
    let boundary = "mock-boundary-7MA4YWxkTrZu0gW";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hand.jsonl\"\r\n\
         Content-Type: application/jsonl\r\n\r\n{file}\r\n\
         --{boundary}\r\ncontent-disposition: form-data; name=purpose\r\n\r\nbatch\r\n--{boundary}--\r\n"
    );
    send(
        client
            .openai(reqwest::Method::POST, "/v1/files")
            .header(
                "content-type",
                format!("multipart/form-data; boundary=\"{boundary}\""),
            )
            .body(body),
    )
    .await
}

/// Uploads the lines and makes a batch of them; the batch object.
async fn openai_batch(client: &Client, lines: &[(&str, Value)]) -> Value {
    let (status, file) = upload(client, "batch", &openai_file(lines)).await;
    assert_eq!(status, 200, "{file}");
    assert_eq!(file["purpose"], "batch");
    assert_eq!(file["object"], "file");
    send_ok(
        client
            .openai(reqwest::Method::POST, "/v1/batches")
            .json(&json!({
                "input_file_id": file["id"], "endpoint": "/v1/chat/completions",
                "completion_window": "24h", "metadata": {"run": "test"},
            })),
    )
    .await
}

async fn openai_poll(client: &Client, id: &Value) -> Value {
    let path = format!("/v1/batches/{}", id.as_str().unwrap());
    send_ok(client.openai(reqwest::Method::GET, &path)).await
}

async fn openai_file_lines(client: &Client, id: &Value) -> Vec<Value> {
    let path = format!("/v1/files/{}/content", id.as_str().unwrap());
    let lines = send_ok(client.openai(reqwest::Method::GET, &path)).await;
    match lines {
        Value::Array(lines) => lines,
        one => vec![one],
    }
}

fn by_id<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    lines
        .iter()
        .find(|line| line["custom_id"] == id)
        .unwrap_or_else(|| panic!("no line {id} in {lines:?}"))
}

#[tokio::test]
async fn openai_batches_answer_as_live_and_fault_once() {
    let server = server();
    let client = Client::new(&server);
    server.hold_batches(true);
    let lines = [
        ("ok", openai_body(OK)),
        ("fail", openai_body(FAIL)),
        ("expire", openai_body(EXPIRE)),
    ];
    let batch = openai_batch(&client, &lines).await;
    assert_eq!(batch["status"], "validating");
    assert_eq!(batch["object"], "batch");
    assert_eq!(batch["metadata"], json!({"run": "test"}));
    assert_eq!(
        batch["request_counts"],
        json!({"total": 3, "completed": 0, "failed": 0})
    );
    let held = openai_poll(&client, &batch["id"]).await;
    assert_eq!(held["status"], "in_progress");
    assert_eq!(held["output_file_id"], Value::Null);

    server.hold_batches(false);
    let ended = openai_poll(&client, &batch["id"]).await;
    assert_eq!(ended["status"], "expired", "{ended}");
    assert_eq!(
        ended["request_counts"],
        json!({"total": 3, "completed": 1, "failed": 1})
    );
    let output = openai_file_lines(&client, &ended["output_file_id"]).await;
    assert_eq!(output.len(), 1);
    let live = send_ok(
        client
            .openai(reqwest::Method::POST, "/v1/chat/completions")
            .json(&lines[0].1),
    )
    .await;
    assert_eq!(by_id(&output, "ok")["response"]["status_code"], 200);
    assert_eq!(by_id(&output, "ok")["response"]["body"], live);
    let errors = openai_file_lines(&client, &ended["error_file_id"]).await;
    let ids: Vec<&Value> = errors.iter().map(|l| &l["custom_id"]).collect();
    assert_eq!(ids, ["expire", "fail"], "the lines come in reverse order");
    let failed = by_id(&errors, "fail");
    assert_eq!(failed["response"]["status_code"], 500);
    assert_eq!(failed["response"]["body"]["error"]["type"], "server_error");
    assert_eq!(failed["error"], Value::Null);
    let expired = by_id(&errors, "expire");
    assert_eq!(expired["response"], Value::Null);
    assert_eq!(expired["error"]["code"], "batch_expired");

    // The faulty lines again: answered this time, as live.
    let again = openai_batch(&client, &lines[1..]).await;
    let ended = openai_poll(&client, &again["id"]).await;
    assert_eq!(ended["status"], "completed");
    assert_eq!(ended["error_file_id"], Value::Null);
    let output = openai_file_lines(&client, &ended["output_file_id"]).await;
    for (id, body) in &lines[1..] {
        let (_, live) = send(
            client
                .openai(reqwest::Method::POST, "/v1/chat/completions")
                .json(body),
        )
        .await;
        assert_eq!(by_id(&output, id)["response"]["body"], live);
    }
    let submissions = server.batch_submissions();
    assert_eq!(
        submissions,
        [
            ("expire".to_string(), 2),
            ("fail".into(), 2),
            ("ok".into(), 1)
        ]
        .into()
    );
    assert_eq!(server.batches_created(), 2);
    assert_eq!(server.batch_polls(), 3);
    let bodies = server.batch_request_bodies();
    assert_eq!(bodies.len(), 5);
    assert_eq!(bodies[0], lines[0].1);
    let upload = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/files")
        .unwrap();
    assert_eq!(
        upload.body,
        json!({"purpose": "batch", "filename": "batch.jsonl", "lines": 3})
    );
}

#[tokio::test]
async fn openai_batch_lines_refused_as_live_bad_files_and_cancel() {
    let server = server();
    let client = Client::new(&server);
    // A line the live endpoint refuses fails with the same refusal.
    let mut bare = openai_body(OK);
    bare.as_object_mut().unwrap().remove("max_tokens");
    let mut unknown = openai_body(OK);
    unknown["model"] = json!("gpt-unknown");
    let batch = openai_batch(
        &client,
        &[("bare", bare.clone()), ("unknown", unknown.clone())],
    )
    .await;
    let ended = openai_poll(&client, &batch["id"]).await;
    assert_eq!(ended["status"], "completed");
    assert_eq!(ended["output_file_id"], Value::Null);
    let errors = openai_file_lines(&client, &ended["error_file_id"]).await;
    for (id, body, code) in [("bare", &bare, 400), ("unknown", &unknown, 404)] {
        let (status, live) = send(
            client
                .openai(reqwest::Method::POST, "/v1/chat/completions")
                .json(body),
        )
        .await;
        assert_eq!(status, code);
        assert_eq!(by_id(&errors, id)["response"]["status_code"], code);
        assert_eq!(by_id(&errors, id)["response"]["body"], live);
    }

    // Bad files and batches.
    let good = json!({"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": openai_body(OK)});
    let (status, refusal) = upload(
        &client,
        "batch",
        &format!("{good}\n{{\"method\": \"POST\"}}\n"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{refusal}"
    );
    let (status, _) = upload(&client, "batch", &format!("{good}\n{good}\n")).await;
    assert_eq!(status, 400, "custom ids must be unique");
    let (status, _) = upload(&client, "fine-tune", &format!("{good}\n")).await;
    assert_eq!(status, 400);
    let (status, file) = upload_by_hand(&client, &format!("{good}\n")).await;
    assert_eq!(
        (status, &file["filename"]),
        (200, &json!("hand.jsonl")),
        "{file}"
    );
    let (status, _) = send(client.openai(reqwest::Method::POST, "/v1/batches").json(&json!({
        "input_file_id": "file-404", "endpoint": "/v1/chat/completions", "completion_window": "24h",
    })))
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(client.openai(reqwest::Method::GET, "/v1/files/file-404/content")).await;
    assert_eq!(status, 404);
    let (status, _) = send(
        client
            .http
            .get(format!(
                "{}/v1/batches/{}",
                server.url,
                batch["id"].as_str().unwrap()
            ))
            .bearer_auth("sk-wrong"),
    )
    .await;
    assert_eq!(status, 401);

    // Cancelled: `cancelling` while held, then `cancelled` with every line unanswered.
    server.hold_batches(true);
    let batch = openai_batch(&client, &[("ok", openai_body(OK))]).await;
    let path = format!("/v1/batches/{}/cancel", batch["id"].as_str().unwrap());
    let cancelling = send_ok(client.openai(reqwest::Method::POST, &path)).await;
    assert_eq!(cancelling["status"], "cancelling");
    assert_eq!(
        openai_poll(&client, &batch["id"]).await["status"],
        "cancelling"
    );
    server.hold_batches(false);
    let cancelled = openai_poll(&client, &batch["id"]).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["output_file_id"], Value::Null);
    let errors = openai_file_lines(&client, &cancelled["error_file_id"]).await;
    assert_eq!(by_id(&errors, "ok")["error"]["code"], "batch_cancelled");
    let (status, _) = send(client.openai(reqwest::Method::POST, &path)).await;
    assert_eq!(status, 400, "an ended batch cannot be cancelled");
}

async fn claude_batch(client: &Client, lines: &[(&str, Value)]) -> Value {
    let requests: Vec<Value> = lines
        .iter()
        .map(|(id, params)| json!({"custom_id": id, "params": params}))
        .collect();
    send_ok(
        client
            .claude(reqwest::Method::POST, "/v1/messages/batches")
            .json(&json!({"requests": requests})),
    )
    .await
}

async fn claude_poll(client: &Client, id: &Value) -> Value {
    let path = format!("/v1/messages/batches/{}", id.as_str().unwrap());
    send_ok(client.claude(reqwest::Method::GET, &path)).await
}

#[tokio::test]
async fn anthropic_batches_answer_as_live_and_fault_once() {
    let server = server();
    let client = Client::new(&server);
    server.hold_batches(true);
    let lines = [
        ("ok", claude_body(OK)),
        ("fail", claude_body(FAIL)),
        ("expire", claude_body(EXPIRE)),
    ];
    let batch = claude_batch(&client, &lines).await;
    assert_eq!(batch["type"], "message_batch");
    assert_eq!(batch["processing_status"], "in_progress");
    assert_eq!(batch["results_url"], Value::Null);
    assert_eq!(batch["request_counts"]["processing"], 3);
    let id = batch["id"].as_str().unwrap();
    assert!(id.starts_with("msgbatch_"));
    assert_eq!(
        claude_poll(&client, &batch["id"]).await["processing_status"],
        "in_progress"
    );
    let results = format!("/v1/messages/batches/{id}/results");
    let (status, _) = send(client.claude(reqwest::Method::GET, &results)).await;
    assert_eq!(status, 400, "no results while processing");

    server.hold_batches(false);
    let ended = claude_poll(&client, &batch["id"]).await;
    assert_eq!(ended["processing_status"], "ended");
    assert_eq!(
        ended["request_counts"],
        json!({"processing": 0, "succeeded": 1, "errored": 1, "canceled": 0, "expired": 1})
    );
    assert_eq!(ended["results_url"], format!("{}{results}", server.url));
    let results_url = ended["results_url"].as_str().unwrap();
    let lines_out = send_ok(
        client
            .http
            .get(results_url)
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01"),
    )
    .await;
    let out = lines_out.as_array().unwrap();
    let ids: Vec<&Value> = out.iter().map(|l| &l["custom_id"]).collect();
    assert_eq!(
        ids,
        ["expire", "fail", "ok"],
        "the lines come in reverse order"
    );
    let (_, live) = send(
        client
            .claude(reqwest::Method::POST, "/v1/messages")
            .json(&lines[0].1),
    )
    .await;
    assert_eq!(
        by_id(out, "ok")["result"],
        json!({"type": "succeeded", "message": live})
    );
    assert_eq!(
        by_id(out, "fail")["result"],
        json!({"type": "errored", "error": {"type": "error", "error": {"type": "api_error", "message": "mock: batch line failed"}}})
    );
    assert_eq!(by_id(out, "expire")["result"], json!({"type": "expired"}));

    let again = claude_batch(&client, &lines[1..]).await;
    claude_poll(&client, &again["id"]).await;
    let path = format!(
        "/v1/messages/batches/{}/results",
        again["id"].as_str().unwrap()
    );
    let (_, out) = send(client.claude(reqwest::Method::GET, &path)).await;
    for (id, body) in &lines[1..] {
        let (_, live) = send(
            client
                .claude(reqwest::Method::POST, "/v1/messages")
                .json(body),
        )
        .await;
        assert_eq!(
            by_id(out.as_array().unwrap(), id)["result"]["message"],
            live
        );
    }
    assert_eq!(server.batch_submissions()["fail"], 2);
    assert_eq!(server.batch_submissions()["ok"], 1);
    assert_eq!(server.batch_request_bodies()[1], lines[1].1);

    // Refused lines, bad batches, a bad key.
    let mut bare = claude_body(OK);
    bare.as_object_mut().unwrap().remove("max_tokens");
    let refused = claude_batch(&client, &[("bare", bare)]).await;
    claude_poll(&client, &refused["id"]).await;
    let path = format!(
        "/v1/messages/batches/{}/results",
        refused["id"].as_str().unwrap()
    );
    let (_, out) = send(client.claude(reqwest::Method::GET, &path)).await;
    assert_eq!(
        out["result"]["error"]["error"]["type"],
        "invalid_request_error"
    );
    assert_eq!(
        out["result"]["error"]["error"]["message"],
        "mock: max_tokens is required"
    );
    let (status, refusal) = send(client.claude(reqwest::Method::POST, "/v1/messages/batches").json(
        &json!({"requests": [{"custom_id": "fine", "params": claude_body(OK)}, {"custom_id": "not fine!", "params": claude_body(OK)}]}),
    ))
    .await;
    assert_eq!(status, 400);
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requests.1.custom_id")
    );
    let (status, _) = send(
        client
            .http
            .post(format!("{}/v1/messages/batches", server.url))
            .header("x-api-key", "sk-wrong")
            .header("anthropic-version", "2023-06-01")
            .json(&json!({"requests": [{"custom_id": "a", "params": claude_body(OK)}]})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = send(
        client
            .http
            .get(format!("{}/v1/messages/batches/{id}", server.url))
            .header("x-api-key", KEY),
    )
    .await;
    assert_eq!(status, 400, "anthropic-version is required");

    // Cancelled.
    server.hold_batches(true);
    let batch = claude_batch(&client, &[("ok", claude_body(OK))]).await;
    let path = format!(
        "/v1/messages/batches/{}/cancel",
        batch["id"].as_str().unwrap()
    );
    let (_, canceling) = send(client.claude(reqwest::Method::POST, &path)).await;
    assert_eq!(canceling["processing_status"], "canceling");
    assert!(canceling["cancel_initiated_at"].is_string());
    assert_eq!(
        claude_poll(&client, &batch["id"]).await["processing_status"],
        "canceling"
    );
    server.hold_batches(false);
    let ended = claude_poll(&client, &batch["id"]).await;
    assert_eq!(ended["processing_status"], "ended");
    assert_eq!(ended["request_counts"]["canceled"], 1);
    let path = format!(
        "/v1/messages/batches/{}/results",
        batch["id"].as_str().unwrap()
    );
    let (_, out) = send(client.claude(reqwest::Method::GET, &path)).await;
    assert_eq!(out["result"], json!({"type": "canceled"}));
}

async fn gemini_batch(client: &Client, lines: &[(&str, Value)]) -> Value {
    let requests: Vec<Value> = lines
        .iter()
        .map(|(key, request)| json!({"request": request, "metadata": {"key": key}}))
        .collect();
    send_ok(
        client
            .gemini(
                reqwest::Method::POST,
                "/v1beta/models/gemini-mock:batchGenerateContent",
            )
            .json(
                &json!({"batch": {"displayName": "tdg-test", "model": "models/gemini-mock",
                "inputConfig": {"requests": {"requests": requests}}}}),
            ),
    )
    .await
}

async fn gemini_poll(client: &Client, name: &Value) -> Value {
    let path = format!("/v1beta/{}", name.as_str().unwrap());
    send_ok(client.gemini(reqwest::Method::GET, &path)).await
}

#[tokio::test]
async fn gemini_batches_answer_as_live_and_fault_once() {
    let server = server();
    let client = Client::new(&server);
    server.hold_batches(true);
    let lines = [
        ("ok", gemini_body(OK)),
        ("fail", gemini_body(FAIL)),
        ("expire", gemini_body(EXPIRE)),
    ];
    let operation = gemini_batch(&client, &lines).await;
    let name = &operation["name"];
    assert!(name.as_str().unwrap().starts_with("batches/"));
    let metadata = &operation["metadata"];
    assert_eq!(metadata["state"], "BATCH_STATE_PENDING");
    assert_eq!(metadata["model"], "models/gemini-mock");
    assert_eq!(metadata["displayName"], "tdg-test");
    assert_eq!(metadata["batchStats"]["requestCount"], "3");
    let held = gemini_poll(&client, name).await;
    assert_eq!(held["metadata"]["state"], "BATCH_STATE_RUNNING");
    assert_eq!(held.get("done"), None, "Google leaves out `done: false`");
    assert_eq!(held.get("response"), None);

    server.hold_batches(false);
    let ended = gemini_poll(&client, name).await;
    assert_eq!(ended["done"], true);
    assert_eq!(ended["metadata"]["state"], "BATCH_STATE_SUCCEEDED");
    assert_eq!(
        ended["metadata"]["batchStats"],
        json!({"requestCount": "3", "successfulRequestCount": "1", "failedRequestCount": "2"})
    );
    let responses = ended["response"]["inlinedResponses"]["inlinedResponses"]
        .as_array()
        .unwrap();
    let keys: Vec<&Value> = responses.iter().map(|r| &r["metadata"]["key"]).collect();
    assert_eq!(
        keys,
        ["ok", "fail", "expire"],
        "Gemini keeps the input order"
    );
    let live_path = "/v1beta/models/gemini-mock:generateContent";
    let live = send_ok(
        client
            .gemini(reqwest::Method::POST, live_path)
            .json(&lines[0].1),
    )
    .await;
    assert_eq!(responses[0]["response"], live);
    assert_eq!(
        responses[1]["error"],
        json!({"code": 13, "message": "mock: batch line failed", "status": "INTERNAL"})
    );
    assert_eq!(responses[2]["error"]["code"], 4);
    assert_eq!(responses[2]["error"]["status"], "DEADLINE_EXCEEDED");

    let again = gemini_batch(&client, &lines[1..]).await;
    let ended = gemini_poll(&client, &again["name"]).await;
    let responses = ended["response"]["inlinedResponses"]["inlinedResponses"]
        .as_array()
        .unwrap();
    for (response, (_, body)) in responses.iter().zip(&lines[1..]) {
        let (_, live) = send(client.gemini(reqwest::Method::POST, live_path).json(body)).await;
        assert_eq!(response["response"], live);
    }
    assert_eq!(server.batch_submissions()["expire"], 2);
    assert_eq!(server.batch_request_bodies()[2], lines[2].1);

    // A refused line, a bad key, an unknown batch.
    let mut bare = gemini_body(OK);
    bare.as_object_mut().unwrap().remove("systemInstruction");
    let refused = gemini_batch(&client, &[("bare", bare)]).await;
    let ended = gemini_poll(&client, &refused["name"]).await;
    let error = &ended["response"]["inlinedResponses"]["inlinedResponses"][0]["error"];
    assert_eq!(error["status"], "INVALID_ARGUMENT");
    assert_eq!(error["message"], "mock: systemInstruction missing");
    let (status, _) = send(
        client
            .http
            .get(format!("{}/v1beta/{}", server.url, name.as_str().unwrap()))
            .header("x-goog-api-key", "wrong"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = send(
        client
            .http
            .post(format!(
                "{}/v1beta/models/gemini-mock:batchGenerateContent",
                server.url
            ))
            .header("x-goog-api-key", "wrong")
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = send(client.gemini(reqwest::Method::GET, "/v1beta/batches/999")).await;
    assert_eq!(status, 404);

    // Cancelled.
    server.hold_batches(true);
    let operation = gemini_batch(&client, &[("ok", gemini_body(OK))]).await;
    let path = format!("/v1beta/{}:cancel", operation["name"].as_str().unwrap());
    let (status, empty) = send(client.gemini(reqwest::Method::POST, &path)).await;
    assert_eq!((status, empty), (200, json!({})));
    assert_eq!(
        gemini_poll(&client, &operation["name"]).await["metadata"]["state"],
        "BATCH_STATE_RUNNING"
    );
    server.hold_batches(false);
    let cancelled = gemini_poll(&client, &operation["name"]).await;
    assert_eq!(cancelled["metadata"]["state"], "BATCH_STATE_CANCELLED");
    assert_eq!(cancelled["done"], true);
    assert_eq!(cancelled.get("response"), None);
}

#[tokio::test]
async fn the_faults_come_once_per_api_and_live_counts_are_untouched() {
    let server = server();
    let client = Client::new(&server);
    let batch = openai_batch(&client, &[("fail", openai_body(FAIL))]).await;
    assert_eq!(
        openai_poll(&client, &batch["id"]).await["request_counts"]["failed"],
        1
    );
    // The same id in another API's batch is that API's first time.
    let batch = claude_batch(&client, &[("fail", claude_body(FAIL))]).await;
    assert_eq!(
        claude_poll(&client, &batch["id"]).await["request_counts"]["errored"],
        1
    );
    assert_eq!(server.batch_submissions()["fail"], 2);
    assert_eq!(
        server.served(),
        0,
        "batch calls are not live model requests"
    );
}

/// The ids of a list page's batches.
fn page_ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|batch| batch["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn openai_batches_are_listed_newest_first_a_page_at_a_time() {
    let server = server();
    let client = Client::new(&server);
    // Two days old, from other clients of the key; then three of ours, just now.
    server.add_other_batches(3, std::time::Duration::from_secs(2 * 24 * 3600));
    let mut ours = Vec::new();
    for _ in 0..3 {
        let batch = openai_batch(&client, &[("ok", openai_body(OK))]).await;
        ours.push(batch["id"].as_str().unwrap().to_string());
    }
    let list = |query: &str| client.openai(reqwest::Method::GET, &format!("/v1/batches{query}"));
    let all = send_ok(list("")).await;
    assert_eq!(all["object"], "list");
    assert_eq!(all["has_more"], false);
    let ids = page_ids(&all);
    assert_eq!(ids.len(), 6);
    assert_eq!(
        ids[..3],
        [ours[2].clone(), ours[1].clone(), ours[0].clone()],
        "newest first"
    );
    let created: Vec<u64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|batch| batch["created_at"].as_u64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");
    assert!(created[0] - created[5] >= 2 * 24 * 3600 - 5);

    // Pages of 4 and the rest, `after` the last id of the one before.
    let first = send_ok(list("?limit=4")).await;
    assert_eq!(page_ids(&first), ids[..4]);
    assert_eq!(first["first_id"], ids[0].as_str());
    assert_eq!(first["last_id"], ids[3].as_str());
    assert_eq!(first["has_more"], true);
    let after = first["last_id"].as_str().unwrap();
    let second = send_ok(list(&format!("?limit=4&after={after}"))).await;
    assert_eq!(page_ids(&second), ids[4..]);
    assert_eq!(second["has_more"], false);
    // The limit is 1 to 100.
    for bad in ["0", "101", "many"] {
        let (status, body) = send(list(&format!("?limit={bad}"))).await;
        assert_eq!(status, 400, "limit={bad}: {body}");
    }
    // Lists are counted with their query, and can be made to fail.
    server.fail_batch_lists(true);
    let (status, _) = send(list("?limit=1")).await;
    assert_eq!(status, 500);
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == format!("/v1/batches?limit=4&after={after}"))
    );
}

#[tokio::test]
async fn openai_output_files_expire_or_are_deleted_and_then_answer_404() {
    let server = server();
    let client = Client::new(&server);
    let (status, file) = upload(&client, "batch", &openai_file(&[("ok", openai_body(OK))])).await;
    assert_eq!(status, 200, "{file}");
    let create = |policy: Value| {
        client
            .openai(reqwest::Method::POST, "/v1/batches")
            .json(&json!({
                "input_file_id": file["id"], "endpoint": "/v1/chat/completions",
                "completion_window": "24h", "output_expires_after": policy,
            }))
    };
    for bad in [
        json!({"anchor": "created_at", "seconds": 60}),
        json!({"anchor": "completed_at", "seconds": 3600}),
    ] {
        let (status, body) = send(create(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let batch = send_ok(create(json!({"anchor": "created_at", "seconds": 7200}))).await;
    let ended = openai_poll(&client, &batch["id"]).await;
    assert_eq!(ended["status"], "completed");
    let output = &ended["output_file_id"];
    let path = format!("/v1/files/{}", output.as_str().unwrap());
    let object = send_ok(client.openai(reqwest::Method::GET, &path)).await;
    assert_eq!(
        object["expires_at"].as_u64().unwrap(),
        object["created_at"].as_u64().unwrap() + 7200
    );
    assert_eq!(openai_file_lines(&client, output).await.len(), 1);

    // Expired: the file answers as one that does not exist; the batch stays.
    server.let_batch_results_expire();
    let content = format!("{path}/content");
    let (status, body) = send(client.openai(reqwest::Method::GET, &content)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(
        openai_poll(&client, &batch["id"]).await["status"],
        "completed"
    );

    // Deleted: gone at once.
    let other = openai_batch(&client, &[("ok", openai_body(OK))]).await;
    let output = openai_poll(&client, &other["id"]).await["output_file_id"].clone();
    let path = format!("/v1/files/{}", output.as_str().unwrap());
    let deleted = send_ok(client.openai(reqwest::Method::DELETE, &path)).await;
    assert_eq!(
        deleted,
        json!({"id": output, "object": "file", "deleted": true})
    );
    let (status, _) = send(client.openai(reqwest::Method::GET, &format!("{path}/content"))).await;
    assert_eq!(status, 404);
    let (status, _) = send(client.openai(reqwest::Method::DELETE, &path)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn archived_anthropic_batches_keep_their_state_but_not_their_results() {
    let server = server();
    let client = Client::new(&server);
    let batch = claude_batch(&client, &[("ok", claude_body(OK))]).await;
    // In progress: archiving leaves it alone.
    server.let_batch_results_expire();
    let ended = claude_poll(&client, &batch["id"]).await;
    assert_eq!(ended["processing_status"], "ended");
    assert_eq!(ended["archived_at"], Value::Null);
    let url = ended["results_url"].as_str().unwrap().to_string();
    let path = url.trim_start_matches(&server.url).to_string();
    let (status, _) = send(client.claude(reqwest::Method::GET, &path)).await;
    assert_eq!(status, 200);

    server.let_batch_results_expire();
    let archived = claude_poll(&client, &batch["id"]).await;
    assert!(archived["archived_at"].is_string(), "{archived}");
    assert_eq!(archived["processing_status"], "ended");
    assert_eq!(archived["results_url"], url.as_str());
    let (status, body) = send(client.claude(reqwest::Method::GET, &path)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["type"], "not_found_error");
}
