//! The scheduler: it adapts to a server's capacity, waits out rate limits without
//! failing chunks, honours request caps, and spreads work over a fleet by speed.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::mock_server::{Fault, MockServer};
use common::read_json;
use serde_json::json;

fn corpus(root: &Path, chunks: usize) -> PathBuf {
    common::write_document(
        root,
        "doc",
        (0..chunks).map(|c| format!("Chunk {c}: kites ride the wind above the dunes.")),
    )
}

fn generate(urls: &[&str], chunks: &Path, qa_dir: &Path, extra: &[&str]) -> Output {
    common::generate_command("openai", urls, chunks, qa_dir, extra)
        .output()
        .unwrap()
}

fn assert_all_completed(qa_dir: &Path, chunks: usize) {
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["status"], "completed");
    assert_eq!(qa["summary"]["completed_chunks"], chunks);
    assert_eq!(qa["failed_chunks"], json!([]));
}

#[test]
fn a_server_at_capacity_slows_the_run_down_but_fails_nothing() {
    let server = MockServer::start();
    server.set_latency(Duration::from_millis(20));
    server.set_capacity(4);
    let dir = tempfile::tempdir().unwrap();
    let chunks = corpus(dir.path(), 120);
    let qa_dir = dir.path().join("qa");
    let output = generate(
        &[&server.url],
        &chunks,
        &qa_dir,
        &["--concurrency", "32", "--max-retries", "0"],
    );
    common::assert_success(&output);
    assert_all_completed(&qa_dir, 120);
    assert!(
        server.rejected_for_capacity() > 0,
        "the test never hit the capacity"
    );
    // After halving, the run settles near the capacity instead of hammering it.
    assert!(
        server.rejected_for_capacity() < 120,
        "{} rejections",
        server.rejected_for_capacity()
    );
}

#[test]
fn a_sustained_run_of_429s_pauses_and_drops_nothing() {
    let server = MockServer::start();
    server.push_faults((0..40).map(|_| Fault::rate_limited("0.01")));
    let dir = tempfile::tempdir().unwrap();
    let chunks = corpus(dir.path(), 10);
    let qa_dir = dir.path().join("qa");
    let output = generate(&[&server.url], &chunks, &qa_dir, &["--max-retries", "1"]);
    common::assert_success(&output);
    assert_all_completed(&qa_dir, 10);
    assert_eq!(server.request_count(), 50);
}

#[test]
fn requests_per_minute_caps_the_pace() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = corpus(dir.path(), 6);
    let qa_dir = dir.path().join("qa");
    let started = Instant::now();
    let output = generate(
        &[&server.url],
        &chunks,
        &qa_dir,
        &["--requests-per-minute", "600"],
    );
    assert!(output.status.success());
    // 600 a minute is one every 100 ms: six requests span at least 500 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_all_completed(&qa_dir, 6);
}

#[test]
fn a_fleet_is_used_by_speed() {
    let fast = MockServer::start();
    fast.set_latency(Duration::from_millis(5));
    let slow = MockServer::start();
    slow.set_latency(Duration::from_millis(60));
    let dir = tempfile::tempdir().unwrap();
    let chunks = corpus(dir.path(), 200);
    let qa_dir = dir.path().join("qa");
    let output = generate(
        &[&slow.url, &fast.url],
        &chunks,
        &qa_dir,
        &["--concurrency", "8"],
    );
    common::assert_success(&output);
    assert_all_completed(&qa_dir, 200);
    assert_eq!(fast.request_count() + slow.request_count(), 200);
    assert!(slow.request_count() > 0, "the slow server was never used");
    assert!(
        fast.request_count() > 3 * slow.request_count(),
        "fast {} vs slow {}",
        fast.request_count(),
        slow.request_count()
    );
}

#[test]
fn a_dead_server_in_a_fleet_is_routed_around() {
    let alive = MockServer::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let chunks = corpus(dir.path(), 30);
    let qa_dir = dir.path().join("qa");
    let output = generate(&[&dead, &alive.url], &chunks, &qa_dir, &[]);
    common::assert_success(&output);
    assert_all_completed(&qa_dir, 30);
    assert_eq!(alive.request_count(), 30);
}
