//! The checkpoint and its outputs, driven as a user drives them: a re-chunked
//! document on `--resume`, `validate` and `stats` on the original tool's Q&A files,
//! a failure log that lists what is failed now, and the end-of-run line.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::mock_server::{Fault, MockServer};
use common::{assert_success, mock_questions, questions, read_json, tdg_isolated, write_document};
use serde_json::Value;

fn generate(server: &MockServer, root: &Path, extra: &[&str]) -> Output {
    common::generate_command(
        "openai",
        &[&server.url],
        &root.join("chunks"),
        &root.join("qa"),
        extra,
    )
    .output()
    .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stats_json(dir: &Path) -> Value {
    let output = tdg_isolated(dir)
        .args(["stats", "qa", "--json"])
        .output()
        .unwrap();
    assert_success(&output);
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_rechunked_document_ends_with_exactly_the_pairs_of_its_current_chunks() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let first = [
        "The Licensor grants a copyright license.",
        "The license covers reproduction.",
        "Patents are licensed too.",
        "Trademarks are not licensed.",
    ];
    write_document(dir.path(), "doc", first);
    assert_success(&generate(&server, dir.path(), &[]));
    assert_eq!(server.request_count(), 4);

    // Re-chunked: the second chunk's text changed and the last chunk is gone.
    let second = [
        "The Licensor grants a copyright license.",
        "The license covers reproduction and distribution.",
        "Patents are licensed too.",
    ];
    write_document(dir.path(), "doc", second);
    let output = generate(&server, dir.path(), &["--resume"]);
    assert_success(&output);
    assert_eq!(
        server.request_count(),
        5,
        "only the changed chunk is asked again"
    );
    let log = stderr(&output);
    assert!(
        log.contains(
            "1 chunks changed since the last run and are asked again; 1 chunks no longer exist"
        ),
        "{log}"
    );

    let qa = read_json(dir.path().join("qa/doc_qa.json"));
    assert_eq!(questions(&qa), mock_questions(&second));
    assert_eq!(qa["status"], "completed");
    assert_eq!(qa["completed_chunks"], serde_json::json!([0, 1, 2]));
    assert_eq!(qa["summary"]["total_chunks"], 3);
    assert_eq!(qa["summary"]["completed_chunks"], 3);
    assert_eq!(qa["summary"]["total_qa_pairs"], 9);
    let sources: Vec<&str> = qa["training_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair["source_text"].as_str().unwrap())
        .collect();
    assert_eq!(sources[3], second[1], "the pairs sit beside the new text");
    let stats = stats_json(dir.path());
    assert_eq!(stats["total"]["pairs"], 9);
    assert_eq!(stats["total"]["chunks_completed"], 3);
    assert!(
        log.contains("9 pairs kept in the Q&A files (3 new)"),
        "{log}"
    );

    // Nothing changed since: nothing is asked, nothing is reported as changed.
    let output = generate(&server, dir.path(), &["--resume"]);
    assert_success(&output);
    assert_eq!(server.request_count(), 5);
    assert!(!stderr(&output).contains("changed since the last run"));
}

#[test]
fn validate_imports_the_original_tools_files_and_stats_show_their_pairs() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    std::fs::create_dir_all(&qa_dir).unwrap();
    let original = common::fixtures().join("Apache-2.0_qa.json");
    std::fs::copy(&original, qa_dir.join("Apache-2.0_qa.json")).unwrap();

    let output = tdg_isolated(dir.path())
        .args(["validate", "--qa-dir", "qa", "--retry-base-ms", "1"])
        .args(["--provider", "openai", "--base-url", &server.url])
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(
        server.request_count(),
        51,
        "one judgment per pair of the file"
    );
    assert!(stderr(&output).contains("imported 51 pairs of 1 Q&A files"));

    let stats = stats_json(dir.path());
    assert_eq!(stats["source"], "checkpoint");
    assert_eq!(stats["total"]["pairs"], 51);
    assert_eq!(stats["total"]["chunks_completed"], 17);
    assert_eq!(stats["total"]["total_chunks"], 17);
    assert_eq!(stats["quality"]["judge"]["scored"], 51);
    // The file keeps the original's pairs, in order.
    let before = read_json(&original);
    let after = read_json(qa_dir.join("Apache-2.0_qa.json"));
    assert_eq!(after["training_pairs"], before["training_pairs"]);
    assert_eq!(after["status"], "completed");
    assert_eq!(after["completion_time"], before["completion_time"]);

    // A second validate judges nothing again and imports nothing again.
    let output = tdg_isolated(dir.path())
        .args(["validate", "--qa-dir", "qa", "--retry-base-ms", "1"])
        .args(["--provider", "openai", "--base-url", &server.url])
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(server.request_count(), 51);
    assert_eq!(stats_json(dir.path())["total"]["pairs"], 51);
}

#[test]
fn validate_on_a_directory_without_a_run_creates_no_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("qa")).unwrap();
    let output = tdg_isolated(dir.path())
        .args(["validate", "--qa-dir", "qa", "--provider", "openai"])
        .args(["--base-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    // A wrong --qa-dir is a wrong setting: 78, as for generate's missing chunks.
    common::assert_fails_with_code(
        &output,
        78,
        "holds no tdg checkpoint and no *_qa.json files",
    );
    assert!(!dir.path().join("qa/.tdg-checkpoint.sqlite3").exists());
}

#[test]
fn stats_on_a_missing_or_empty_checkpoint_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    std::fs::create_dir_all(&qa_dir).unwrap();
    std::fs::copy(
        common::fixtures().join("Apache-2.0_qa.json"),
        qa_dir.join("Apache-2.0_qa.json"),
    )
    .unwrap();
    let store = qa_dir.join(".tdg-checkpoint.sqlite3");

    let stats = stats_json(dir.path());
    assert_eq!(stats["source"], "qa-files");
    assert_eq!(stats["total"]["pairs"], 51);
    assert!(!store.exists(), "stats created a checkpoint");

    std::fs::write(&store, b"").unwrap();
    let stats = stats_json(dir.path());
    assert_eq!(stats["source"], "qa-files");
    assert_eq!(stats["total"]["pairs"], 51);
    assert_eq!(
        std::fs::metadata(&store).unwrap().len(),
        0,
        "stats wrote to it"
    );
    for suffix in ["-wal", "-shm"] {
        assert!(
            !qa_dir
                .join(format!(".tdg-checkpoint.sqlite3{suffix}"))
                .exists()
        );
    }
}

#[test]
fn the_failure_log_lists_the_chunks_failed_now() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    write_document(
        dir.path(),
        "doc",
        [
            "The Licensor grants a copyright license.",
            "Patents are licensed too.",
        ],
    );
    server.push_faults([Fault::status(500)]);
    let output = generate(
        &server,
        dir.path(),
        &["--max-retries", "0", "--concurrency", "1"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let log_path = dir.path().join("qa/qa_generation_failures.jsonl");
    let log = common::read(&log_path);
    assert_eq!(log.lines().count(), 1, "{log}");
    let entry: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(entry["document"], "doc");
    assert_eq!(entry["chunk_position"], 0);

    // Asked again with success: no chunk is failed now, so none is listed.
    let output = generate(&server, dir.path(), &["--resume"]);
    assert_success(&output);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert_eq!(log.lines().count(), 0, "{log}");
}

#[test]
fn the_end_of_run_line_counts_the_pairs_kept_as_the_table_does() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Two chunks with the same text: the second one's questions are duplicates.
    let text = "The Licensor grants a copyright license.";
    write_document(dir.path(), "doc", [text, text]);
    let output = generate(&server, dir.path(), &[]);
    assert_success(&output);
    let log = stderr(&output);
    assert!(
        log.contains("3 pairs kept in the Q&A files (6 new)"),
        "{log}"
    );
    assert_eq!(stats_json(dir.path())["total"]["pairs"], 3);
}
