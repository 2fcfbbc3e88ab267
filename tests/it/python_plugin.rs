//! A parser written in Python (plugins/examples/python-parser, built by componentize-py)
//! works when passed by path, through `generate` and through `reparse`; and `reparse`
//! changes the pairs without a single request to the server.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::mock_server::MockServer;
use common::{mock_questions, questions, read_json, tdg_isolated};
use serde_json::json;

const TEXTS: [&str; 3] = [
    "MOCK-QA-LINES Lighthouses guide ships along rocky coasts.",
    "MOCK-QA-LINES Tide pools shelter crabs and anemones.",
    "Sea otters wrap themselves in kelp to sleep.",
];

/// Generates Q&A for the coast document into `root/qa` with `extra` arguments.
fn generate(server: &MockServer, root: &Path, extra: &[&str]) -> Output {
    let chunks = common::write_document(root, "coast", TEXTS);
    common::generate_command("openai", &[&server.url], &chunks, &root.join("qa"), extra)
        .output()
        .unwrap()
}

fn tdg(dir: &Path, args: &[&str]) -> Output {
    tdg_isolated(dir).args(args).output().unwrap()
}

#[test]
fn a_python_parser_works_through_generate() {
    let parser = common::python_parser();
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let output = generate(&server, dir.path(), &["--parser", parser.to_str().unwrap()]);
    common::assert_success(&output);
    let qa = read_json(dir.path().join("qa/coast_qa.json"));
    assert_eq!(questions(&qa), mock_questions(&TEXTS));
    assert_eq!(qa["failed_chunks"], json!([]));
}

#[test]
fn reparse_rescues_a_run_without_calling_the_model() {
    let parser = common::python_parser();
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    // The default parser reads JSON only: the two Q/A-line answers fail.
    let output = generate(&server, dir.path(), &["--parse-retries", "0"]);
    assert_eq!(output.status.code(), Some(1));
    let before = read_json(dir.path().join("qa/coast_qa.json"));
    assert_eq!(before["failed_chunks"], json!([0, 1]));
    let requests = server.request_count();

    let output = tdg(
        dir.path(),
        &[
            "reparse",
            "--qa-dir",
            "qa",
            "--parser",
            parser.to_str().unwrap(),
        ],
    );
    common::assert_success(&output);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("3 chunks with pairs (was 1)"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let after = read_json(dir.path().join("qa/coast_qa.json"));
    assert_eq!(after["failed_chunks"], json!([]));
    assert_eq!(after["status"], "completed");
    assert_eq!(questions(&after), mock_questions(&TEXTS));
    assert_eq!(server.request_count(), requests, "reparse asked the model");

    // And back: the default parser again leaves the Q/A-line answers without pairs.
    let output = tdg(dir.path(), &["reparse", "--qa-dir", "qa"]);
    assert!(output.status.success());
    assert_eq!(
        read_json(dir.path().join("qa/coast_qa.json"))["failed_chunks"],
        json!([0, 1])
    );
    assert_eq!(server.request_count(), requests);
}

#[test]
fn reparse_needs_a_tdg_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("qa")).unwrap();
    let output = tdg(dir.path(), &["reparse", "--qa-dir", "qa"]);
    common::assert_fails_with(&output, "holds no tdg checkpoint");
}

#[test]
fn a_python_parser_gives_each_pair_its_reasoning_under_the_reasoning_task() {
    let parser = common::python_parser();
    let server = MockServer::start();
    server.set_thinking(common::mock_server::Thinking::InText);
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        &server,
        dir.path(),
        &["--parser", parser.to_str().unwrap(), "--task", "reasoning"],
    );
    common::assert_success(&output);
    let qa = read_json(dir.path().join("qa/coast_qa.json"));
    let pairs = qa["training_pairs"].as_array().unwrap();
    assert!(!pairs.is_empty(), "{qa:#}");
    crate::tasks::assert_mock_traces(pairs, "the Python parser");
}
