//! Nothing lost, ever: panics, chunks a server refuses, exhausted quotas, servers that
//! never answer, two runs on one directory, secrets in URLs, and servers that refuse
//! a JSON schema. Each test runs `tdg` against the mock server.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::mock_server::{Fault, MockServer, refusals};
use common::{
    assert_fails_with, assert_fails_with_code, assert_success, read_json, write_document,
};
use serde_json::Value;

/// Runs `command`, killing it and failing the test if it takes longer than `limit`.
fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "tdg took longer than {limit:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn generate(url: &str, chunks: &Path, qa_dir: &Path, extra: &[&str]) -> Command {
    common::generate_command("openai", &[url], chunks, qa_dir, extra)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The failure log's entries, by chunk position.
fn failures(qa_dir: &Path) -> Vec<(u64, String)> {
    common::read(qa_dir.join("qa_generation_failures.jsonl"))
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            (
                entry["chunk_position"].as_u64().unwrap(),
                entry["error"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_20_mb_chunk_fails_alone_with_a_message_and_exit_1() {
    let server = MockServer::start();
    let root = tempfile::tempdir().unwrap();
    let huge = "lorem ipsum dolor sit amet ".repeat((20 << 20) / 27);
    let texts = [
        "The first chunk is short.",
        huge.as_str(),
        "The last chunk is short too.",
    ];
    let chunks = write_document(root.path(), "doc", texts);
    let qa_dir = root.path().join("qa");
    let output = output_within(
        generate(&server.url, &chunks, &qa_dir, &[]),
        Duration::from_secs(120),
    );
    assert_fails_with(&output, "doc_chunks.json: chunk 1");
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["completed_chunks"], serde_json::json!([0, 2]));
    assert_eq!(qa["failed_chunks"].as_array().unwrap().len(), 1);
    let logged = failures(&qa_dir);
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].0, 1);
    assert!(
        logged[0].1.contains("more than the 1 MiB tdg accepts"),
        "{}",
        logged[0].1
    );
    assert_eq!(server.request_count(), 2, "the huge chunk is never sent");
}

#[test]
fn a_plugin_that_runs_out_of_memory_and_writes_to_stderr_fails_its_chunk_not_the_run() {
    // Under a small memory cap the default prompt plugin runs out of memory on a
    // chunk of a few hundred KiB; Rust's allocator then writes to stderr, a blocking
    // WASI stream, before it aborts.
    let server = MockServer::start();
    let root = tempfile::tempdir().unwrap();
    let big = "tokio runtime blocking stderr ".repeat(20_000);
    let texts = ["A short chunk first.", big.as_str(), "A short chunk last."];
    let chunks = write_document(root.path(), "doc", texts);
    let qa_dir = root.path().join("qa");
    let mut command = generate(&server.url, &chunks, &qa_dir, &[]);
    command.args(["--plugin-memory-mb", "3"]);
    let output = output_within(command, Duration::from_secs(120));
    let log = stderr(&output);
    assert!(!log.contains("panicked"), "{log}");
    assert_fails_with(&output, "doc_chunks.json: chunk 1");
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["completed_chunks"], serde_json::json!([0, 2]));
    let logged = failures(&qa_dir);
    assert_eq!(logged.len(), 1);
    assert!(logged[0].1.contains("ran out of memory"), "{}", logged[0].1);
}

#[test]
fn a_chunk_the_server_refuses_fails_alone_and_the_others_finish() {
    let server = MockServer::start();
    server.push_faults([Fault::Body {
        status: 413,
        body: serde_json::json!({"error": {"message": "mock: request entity too large"}}),
    }]);
    let root = tempfile::tempdir().unwrap();
    let texts = [
        "The first chunk meets a 413.",
        "MOCK-TOO-LONG is over the context.",
        "The third is fine.",
    ];
    let chunks = write_document(root.path(), "doc", texts);
    let qa_dir = root.path().join("qa");
    let output = output_within(
        generate(&server.url, &chunks, &qa_dir, &["--concurrency", "1"]),
        Duration::from_secs(60),
    );
    assert_fails_with(&output, "doc_chunks.json: chunk 0");
    assert!(stderr(&output).contains("doc_chunks.json: chunk 1"));
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["completed_chunks"], serde_json::json!([2]));
    assert_eq!(qa["training_pairs"].as_array().unwrap().len(), 3);
    let logged = failures(&qa_dir);
    assert!(
        logged[0]
            .1
            .contains("HTTP 413): mock: request entity too large"),
        "{logged:?}"
    );
    assert!(
        logged[1]
            .1
            .contains("maximum context length is 128000 tokens"),
        "{logged:?}"
    );
}

#[test]
fn an_exhausted_quota_stops_the_run_with_the_servers_message_at_once() {
    let server = MockServer::start();
    server.set_fault_always(Some(Fault::Body {
        status: 429,
        body: refusals::insufficient_quota_body(),
    }));
    let root = tempfile::tempdir().unwrap();
    let chunks = write_document(root.path(), "doc", ["One chunk.", "Another chunk."]);
    let qa_dir = root.path().join("qa");
    let output = output_within(
        generate(&server.url, &chunks, &qa_dir, &[]),
        Duration::from_secs(30),
    );
    assert_fails_with_code(&output, 78, "You exceeded your current quota");
    assert!(
        server.request_count() <= 2,
        "{} requests",
        server.request_count()
    );
}

#[test]
fn a_server_that_keeps_rate_limiting_stops_the_run_past_the_bound_and_the_run_resumes() {
    let server = MockServer::start();
    server.set_fault_always(Some(Fault::rate_limited("0.05")));
    let root = tempfile::tempdir().unwrap();
    let chunks = write_document(root.path(), "doc", ["One chunk.", "Another chunk."]);
    let qa_dir = root.path().join("qa");
    let started = Instant::now();
    let output = output_within(
        generate(
            &server.url,
            &chunks,
            &qa_dir,
            &["--rate-limit-timeout", "1"],
        ),
        Duration::from_secs(30),
    );
    assert_fails_with_code(&output, 75, "kept answering 429 (rate limited)");
    assert!(
        stderr(&output).contains("mock fault 429"),
        "{}",
        stderr(&output)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    server.set_fault_always(None);
    let resumed = output_within(
        generate(&server.url, &chunks, &qa_dir, &["--resume"]),
        Duration::from_secs(30),
    );
    assert_success(&resumed);
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["status"], "completed");
    assert_eq!(qa["training_pairs"].as_array().unwrap().len(), 6);
}

#[test]
fn a_server_that_never_answers_stops_the_run_naming_the_url() {
    let server = MockServer::start();
    server.set_fault_always(Some(Fault::Slow(Duration::from_secs(5))));
    let root = tempfile::tempdir().unwrap();
    let texts: Vec<String> = (0..12).map(|i| format!("Chunk number {i}.")).collect();
    let chunks = write_document(root.path(), "doc", &texts);
    let qa_dir = root.path().join("qa");
    let started = Instant::now();
    let output = output_within(
        generate(
            &server.url,
            &chunks,
            &qa_dir,
            &[
                "--first-byte-timeout",
                "0.2",
                "--max-timeouts",
                "3",
                "--concurrency",
                "2",
            ],
        ),
        Duration::from_secs(60),
    );
    assert_fails_with_code(
        &output,
        75,
        &format!("{}/v1/chat/completions does not answer", server.url),
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        server.request_count() < 8,
        "{} requests",
        server.request_count()
    );
}

#[test]
fn a_document_whose_every_chunk_failed_is_not_completed() {
    let server = MockServer::start();
    server.set_fault_always(Some(Fault::status(500)));
    let root = tempfile::tempdir().unwrap();
    let chunks = write_document(root.path(), "doc", ["One chunk.", "Another chunk."]);
    let qa_dir = root.path().join("qa");
    let output = output_within(
        generate(&server.url, &chunks, &qa_dir, &["--max-retries", "0"]),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["status"], "in_progress");
    assert_eq!(qa["failed_chunks"].as_array().unwrap().len(), 2);
}

#[test]
fn a_second_process_on_the_same_directory_is_refused_and_a_killed_ones_lock_never_blocks() {
    let server = MockServer::start();
    server.set_latency(Duration::from_millis(400));
    let root = tempfile::tempdir().unwrap();
    let texts: Vec<String> = (0..20).map(|i| format!("Chunk number {i}.")).collect();
    let chunks = write_document(root.path(), "doc", &texts);
    let qa_dir = root.path().join("qa");
    let mut first = generate(&server.url, &chunks, &qa_dir, &["--concurrency", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock_file = qa_dir.join(".tdg.lock");
    let started = Instant::now();
    while std::fs::read_to_string(&lock_file)
        .unwrap_or_default()
        .trim()
        != first.id().to_string()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let owner = format!("pid {}", first.id());
    let second = output_within(
        generate(&server.url, &chunks, &qa_dir, &["--resume"]),
        Duration::from_secs(30),
    );
    assert_fails_with_code(&second, 75, &owner);
    let mut reparse = common::tdg_isolated(root.path());
    reparse.arg("reparse").arg("--qa-dir").arg(&qa_dir);
    assert_fails_with_code(&output_within(reparse, Duration::from_secs(30)), 75, &owner);

    first.kill().unwrap();
    first.wait().unwrap();
    server.set_latency(Duration::ZERO);
    let resumed = output_within(
        generate(&server.url, &chunks, &qa_dir, &["--resume"]),
        Duration::from_secs(60),
    );
    assert_success(&resumed);
    assert_eq!(read_json(qa_dir.join("doc_qa.json"))["status"], "completed");
}

#[test]
fn secrets_in_a_base_url_never_reach_output_logs_or_files() {
    let server = MockServer::start();
    // Two failed chunks: one whose error echoes the Authorization header, one whose
    // answer holds no pair; the others succeed.
    server.push_faults([Fault::EchoAuthorization]);
    let root = tempfile::tempdir().unwrap();
    let texts = [
        "First chunk.",
        "MOCK-GARBAGE never gives pairs.",
        "Third chunk.",
    ];
    let chunks = write_document(root.path(), "doc", texts);
    let qa_dir = root.path().join("qa");
    let port = server.url.rsplit(':').next().unwrap();
    let url = format!("http://user:SECRET@127.0.0.1:{port}");
    let output = output_within(
        generate(
            &url,
            &chunks,
            &qa_dir,
            &["--max-retries", "0", "--concurrency", "1", "-vv"],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        server.requests()[0].headers.get("authorization").is_some(),
        "the credentials are sent"
    );
    let basic = "dXNlcjpTRUNSRVQ="; // base64("user:SECRET")
    let mut seen = vec![
        ("stdout".to_string(), output.stdout.clone()),
        ("stderr".into(), output.stderr.clone()),
    ];
    for entry in std::fs::read_dir(&qa_dir).unwrap() {
        let path = entry.unwrap().path();
        seen.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(
        seen.iter()
            .any(|(name, _)| name.ends_with("qa_generation_failures.jsonl"))
    );
    assert!(
        seen.iter()
            .any(|(name, _)| name.ends_with(".tdg-checkpoint.sqlite3"))
    );
    for (name, bytes) in &seen {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("SECRET"), "{name} holds the secret");
        assert!(
            !text.contains(basic),
            "{name} holds the encoded credentials"
        );
    }
    let log = stderr(&output);
    assert!(
        log.contains(&format!("http://127.0.0.1:{port}/v1/chat/completions")),
        "{log}"
    );
    assert!(log.contains("Authorization: Basic [REDACTED]"), "{log}");
}

#[test]
fn structured_output_falls_back_when_the_server_refuses_a_json_schema() {
    let server = MockServer::start();
    server.refuse_json_schema();
    let root = tempfile::tempdir().unwrap();
    let texts: Vec<String> = (0..6).map(|i| format!("Chunk number {i}.")).collect();
    let chunks = write_document(root.path(), "doc", &texts);
    let qa_dir = root.path().join("qa");
    let output = output_within(
        generate(&server.url, &chunks, &qa_dir, &["--structured"]),
        Duration::from_secs(60),
    );
    assert_success(&output);
    let log = stderr(&output);
    assert_eq!(
        log.matches("does not take response_format json_schema")
            .count(),
        1,
        "{log}"
    );
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["training_pairs"].as_array().unwrap().len(), 18);
    let forms: Vec<Value> = server
        .requests()
        .iter()
        .map(|request| request.body["response_format"].clone())
        .collect();
    let object = forms
        .iter()
        .find(|form| form["type"] == "json_object")
        .expect("a json_object request");
    assert_eq!(object["schema"]["required"][0], "qa_pairs");
    assert!(
        forms
            .iter()
            .filter(|form| form["type"] == "json_schema")
            .count()
            <= 2
    );
}

#[test]
fn when_an_answer_holds_no_pair_only_the_parsers_words_go_back() {
    let server = MockServer::start();
    let root = tempfile::tempdir().unwrap();
    let chunks = write_document(root.path(), "doc", ["MOCK-GARBAGE-ONCE then pairs."]);
    let qa_dir = root.path().join("qa");
    assert_success(&output_within(
        generate(&server.url, &chunks, &qa_dir, &[]),
        Duration::from_secs(60),
    ));
    let requests = server.requests();
    let retry = requests.last().unwrap().body["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(retry.len(), 4);
    let sent_back = retry[3]["content"].as_str().unwrap();
    assert!(
        sent_back.starts_with("The response holds no JSON."),
        "{sent_back}"
    );
    assert!(
        !sent_back.contains("Reply again with only a JSON array"),
        "{sent_back}"
    );
    assert!(
        !sent_back.contains("Your answer could not be used"),
        "{sent_back}"
    );
}

#[test]
fn plugins_inspect_reads_at_most_the_plugin_size_limit() {
    let root = tempfile::tempdir().unwrap();
    let huge = root.path().join("huge.wasm");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let mut command = common::tdg_isolated(root.path());
    command.args(["plugins", "inspect"]).arg(&huge);
    let output = output_within(command, Duration::from_secs(30));
    assert_fails_with(&output, "larger than the 256 MiB a plugin may be");
}
