//! End-to-end throughput of `tdg generate` against the mock model server, everything
//! included: loading chunks, the prompt plugin, HTTP, the parser plugin and the
//! durable checkpoint. Reports, for BENCHMARKS.md:
//!
//! - (a) wall time for 2,000 chunks at 200 ms latency with `--concurrency 64`,
//!   against the floor ceil(2000/64) × 0.2 s;
//! - (b) chunks per second with a zero-latency server;
//! - (c) peak RSS at 1,000 and at 50,000 chunks;
//! - (d) the time from start to the first request, with a warm plugin cache.
//!
//! Run: `cargo bench --bench throughput` (add `-- a`, `-- b`, `-- c` or `-- d` for one).
//! The mock server runs in this process on its own threads; tdg runs as a child
//! process, as a user runs it.
//!
//! Side by side: with `TDG_BENCH_ORIGINAL` set to the command that starts the original
//! Python tool (for example `python /opt/seed/src/generate_qa.py`), `-- side` runs
//! (a) and (b) with both tools, one after the other, against the same mock server
//! (lenient, so it accepts the original's requests) with the same command-line flags:
//! `--provider local --model qwen3:14b --ollama-base-url URL --chunks-dir … --qa-dir …`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tdg_mock_server::MockServer;

#[path = "common/peak_rss.rs"]
mod peak_rss;

const CHUNKS_PER_DOCUMENT: usize = 100;

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let work = tempfile::tempdir().expect("a temporary directory");
    let cache = work.path().join("cache");
    // Warm the compiled-plugin cache, as any second run finds it.
    let status = tdg(&cache)
        .arg("plugins")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    if wants("a") {
        let chunks = corpus(work.path(), "a", 2000);
        let server = MockServer::start();
        server.stop_recording();
        server.set_latency(Duration::from_millis(200));
        let started = Instant::now();
        let elapsed = run(&cache, &server, &chunks, &work.path().join("qa-a"), 64);
        let floor = (2000f64 / 64.0).ceil() * 0.2;
        println!(
            "(a) 2,000 chunks, 200 ms latency, concurrency 64: {:.2} s; floor {floor:.2} s; {:+.1}% over the floor",
            elapsed.as_secs_f64(),
            (elapsed.as_secs_f64() / floor - 1.0) * 100.0
        );
        if let (Some(first), Some(last)) = (server.first_request_at(), server.last_answer_at()) {
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!(
                "    start to first request {:.0} ms; first request to last answer {:.0} ms; last answer to exit {:.0} ms",
                ms(first - started),
                ms(last - first),
                ms(started + elapsed - last)
            );
        }
    }
    if wants("b") {
        let chunks = corpus(work.path(), "b", 20_000);
        let server = MockServer::start();
        server.stop_recording();
        let elapsed = run(&cache, &server, &chunks, &work.path().join("qa-b"), 64);
        println!(
            "(b) 20,000 chunks, zero latency, concurrency 64: {:.2} s, {:.0} chunks/s",
            elapsed.as_secs_f64(),
            20_000.0 / elapsed.as_secs_f64()
        );
    }
    if wants("c") {
        for count in [1_000, 50_000] {
            let chunks = corpus(work.path(), &format!("c{count}"), count);
            let server = MockServer::start();
            server.stop_recording();
            let peak = peak_rss_kib(
                &cache,
                &server,
                &chunks,
                &work.path().join(format!("qa-c{count}")),
            );
            println!(
                "(c) peak RSS at {count} chunks: {:.1} MiB",
                peak as f64 / 1024.0
            );
        }
    }
    if only.iter().any(|o| o == "side") {
        side_by_side(&cache, work.path());
    }
    if wants("d") {
        let chunks = corpus(work.path(), "d", 100);
        let mut samples = Vec::new();
        for round in 0..7 {
            let server = MockServer::start();
            server.stop_recording();
            let qa_dir = work.path().join(format!("qa-d{round}"));
            let started = Instant::now();
            let mut child = generate(&cache, &server, &chunks, &qa_dir, 16)
                .spawn()
                .unwrap();
            while server.first_request_at().is_none() {
                std::thread::sleep(Duration::from_micros(200));
            }
            samples.push(server.first_request_at().unwrap() - started);
            child.wait().unwrap();
        }
        samples.sort();
        println!(
            "(d) start to first request, warm cache: median {:.1} ms (min {:.1}, max {:.1}, 7 runs)",
            samples[3].as_secs_f64() * 1e3,
            samples[0].as_secs_f64() * 1e3,
            samples[6].as_secs_f64() * 1e3
        );
    }
}

/// (a) and (b) with tdg and with the original tool (`TDG_BENCH_ORIGINAL`), each
/// against a fresh lenient mock server, with the flags both tools share.
fn side_by_side(cache: &Path, work: &Path) {
    let Ok(original) = std::env::var("TDG_BENCH_ORIGINAL") else {
        println!("(side) set TDG_BENCH_ORIGINAL to the original tool's command to compare");
        return;
    };
    let cases = [
        ("a", 2_000, Duration::from_millis(200)),
        ("b", 20_000, Duration::ZERO),
    ];
    for (case, count, latency) in cases {
        let chunks = corpus(work, &format!("side-{case}"), count);
        for tool in ["tdg", "original"] {
            let server = MockServer::start();
            server.stop_recording();
            server.set_lenient();
            server.set_latency(latency);
            let qa_dir = work.join(format!("qa-side-{case}-{tool}"));
            let mut command = if tool == "tdg" {
                let mut command = tdg(cache);
                command.arg("generate").args(["--concurrency", "64"]);
                command
            } else {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("{original} \"$@\""))
                    .arg("original");
                command
            };
            command
                .args(["--provider", "local", "--model", "qwen3:14b"])
                .arg("--ollama-base-url")
                .arg(&server.url)
                .arg("--chunks-dir")
                .arg(&chunks)
                .arg("--qa-dir")
                .arg(&qa_dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let started = Instant::now();
            let status = command.status().expect("the tool starts");
            let elapsed = started.elapsed().as_secs_f64();
            println!(
                "(side {case}) {tool}: {count} chunks at {} ms in {elapsed:.2} s, {:.0} chunks/s; {} requests served ({status})",
                latency.as_millis(),
                count as f64 / elapsed,
                server.served()
            );
        }
    }
}

/// The tdg binary with a private plugin cache and a quiet log.
fn tdg(cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdg"));
    command.env("TDG_CACHE_DIR", cache).env("RUST_LOG", "warn");
    command
}

fn generate(
    cache: &Path,
    server: &MockServer,
    chunks: &Path,
    qa_dir: &Path,
    concurrency: usize,
) -> Command {
    let mut command = tdg(cache);
    command
        .args([
            "generate",
            "--provider",
            "openai",
            "--base-url",
            &server.url,
            "--concurrency",
        ])
        .arg(concurrency.to_string())
        .arg("--chunks-dir")
        .arg(chunks)
        .arg("--qa-dir")
        .arg(qa_dir)
        .stdout(Stdio::null());
    command
}

/// Runs a whole generation and returns its wall time.
fn run(
    cache: &Path,
    server: &MockServer,
    chunks: &Path,
    qa_dir: &Path,
    concurrency: usize,
) -> Duration {
    let started = Instant::now();
    let status = generate(cache, server, chunks, qa_dir, concurrency)
        .status()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(status.success(), "generate failed");
    elapsed
}

/// Runs a whole generation under `/usr/bin/time` and returns its peak RSS in KiB.
fn peak_rss_kib(cache: &Path, server: &MockServer, chunks: &Path, qa_dir: &Path) -> u64 {
    peak_rss::peak_rss_kib(&generate(cache, server, chunks, qa_dir, 64))
}

/// A corpus of `chunks` chunks, in documents of 100, under `root/name`.
fn corpus(root: &Path, name: &str, chunks: usize) -> PathBuf {
    let dir = root.join(format!("chunks-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut left = chunks;
    let mut document = 0;
    while left > 0 {
        let count = left.min(CHUNKS_PER_DOCUMENT);
        let list: Vec<_> = (0..count)
            .map(|c| {
                json!({
                    "text": format!("Document {document}, chunk {c}. Subject to the terms and conditions of this License, \
                        each Contributor hereby grants a perpetual, worldwide, non-exclusive, no-charge, royalty-free, \
                        irrevocable copyright license to reproduce, prepare Derivative Works of, publicly display, \
                        publicly perform, sublicense, and distribute the Work in Source or Object form."),
                    "chunk_id": format!("0_{c}"),
                    "chunk_index": c,
                    "start_char": c * 400,
                    "end_char": c * 400 + 399,
                })
            })
            .collect();
        let doc = json!({"status": "completed", "metadata": {"file_name": format!("doc{document}.txt")}, "chunks": list});
        std::fs::write(
            dir.join(format!("doc{document:05}_chunks.json")),
            doc.to_string(),
        )
        .unwrap();
        left -= count;
        document += 1;
    }
    dir
}
