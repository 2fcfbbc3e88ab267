//! `generate --batch-api` against the mock server's batch endpoints (OpenAI files and
//! batches, Anthropic message batches, Gemini batch mode): a run killed twice while
//! its batches are in flight ends with exactly the pairs of a live run, every chunk
//! submitted once; failed and expired lines are asked again (in a follow-up batch, or
//! live); `--no-wait` submits and exits, `--resume` collects; `tdg batch status` and
//! `cancel` show and stop what is in flight.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::mock_server::MockServer;
use common::{
    assert_fails_with_code, assert_success, first_difference, qa_files, read_json, without_times,
};

/// Polls quickly, so that tests do not wait a minute between looks.
pub(crate) const FAST_POLL: [&str; 2] = ["--batch-poll-interval", "0.05"];

pub(crate) fn generate(
    provider: &str,
    server: &MockServer,
    chunks: &Path,
    qa_dir: &Path,
    extra: &[&str],
) -> Command {
    let mut command = common::generate_command(provider, &[&server.url], chunks, qa_dir, extra);
    // Any key: the mock takes it, and the cloud providers want one.
    command
        .env("OPENAI_API_KEY", "sk-test")
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("GEMINI_API_KEY", "g-test");
    command
}

pub(crate) fn batch(action: &str, qa_dir: &Path) -> Output {
    common::tdg_isolated(qa_dir.parent().unwrap())
        .env("OPENAI_API_KEY", "sk-test")
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("GEMINI_API_KEY", "g-test")
        .args(["batch", action, "--qa-dir"])
        .arg(qa_dir)
        .output()
        .unwrap()
}

/// Batches the checkpoint records (0 before it exists).
pub(crate) fn recorded_batches(qa_dir: &Path) -> i64 {
    rusqlite::Connection::open_with_flags(
        qa_dir.join(".tdg-checkpoint.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .and_then(|store| store.query_row("SELECT COUNT(*) FROM batches", [], |row| row.get(0)))
    .unwrap_or(0)
}

/// Waits until `ready`, failing if `child` ends first or it takes too long.
fn wait_for(child: &mut std::process::Child, what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("tdg ended ({status}) before {what}");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "never {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asserts that the Q&A files of `dir` are those of `expected`, pair for pair.
pub(crate) fn assert_same_qa_files(dir: &Path, expected: &Path) {
    let expected_files = qa_files(expected);
    assert!(!expected_files.is_empty());
    assert_eq!(qa_files(dir).len(), expected_files.len());
    for path in &expected_files {
        let live = without_times(&read_json(path));
        let batched = without_times(&read_json(dir.join(path.file_name().unwrap())));
        assert!(
            batched == live,
            "{}: the batch run's file differs from the live run's at {}",
            path.display(),
            first_difference(&batched, &live, "")
        );
    }
}

#[test]
fn a_batch_run_killed_twice_in_flight_ends_with_the_pairs_of_a_live_run_each_chunk_submitted_once()
{
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = common::corpus();
    let live = dir.path().join("live");
    assert_success(
        &generate("openai", &server, &chunks, &live, &[])
            .output()
            .unwrap(),
    );
    let live_requests = server.request_count();

    server.hold_batches(true);
    let batched = dir.path().join("batched");
    let options = [&["--batch-api", "--batch-size", "40"][..], &FAST_POLL].concat();
    let run = |extra: &[&str]| {
        let mut command = generate(
            "openai",
            &server,
            &chunks,
            &batched,
            &[&options[..], extra].concat(),
        );
        command.stderr(std::process::Stdio::null());
        command
    };
    // First kill: every batch submitted and recorded, the run polling them.
    let mut first = run(&[]).spawn().unwrap();
    wait_for(&mut first, "the batches were polled", || {
        server.batch_polls() >= 2
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let created = server.batches_created();
    assert_eq!(
        created,
        live_requests.div_ceil(40),
        "136 chunks in batches of 40"
    );
    assert_eq!(recorded_batches(&batched), created as i64);

    // `tdg batch status` shows them in flight.
    let status = batch("status", &batched);
    assert_success(&status);
    let table = String::from_utf8_lossy(&status.stdout);
    assert_eq!(table.matches("in_progress").count(), created, "{table}");

    // Second kill: the resumed run reattached, submitted nothing, and polls.
    let polls = server.batch_polls();
    let mut second = run(&["--resume"]).spawn().unwrap();
    wait_for(&mut second, "the reattached batches were polled", || {
        server.batch_polls() >= polls + created
    });
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(
        server.batches_created(),
        created,
        "a resumed run submitted again"
    );

    // The batches finish; the third run collects them.
    server.hold_batches(false);
    assert_success(&run(&["--resume"]).output().unwrap());
    assert_eq!(server.batches_created(), created);
    let submissions = server.batch_submissions();
    assert_eq!(submissions.len(), live_requests, "every chunk in a batch");
    assert!(
        submissions.values().all(|&times| times == 1),
        "a chunk was submitted twice: {submissions:?}"
    );
    assert_same_qa_files(&batched, &live);
    // The lines are the live requests' bodies.
    let live_bodies: std::collections::BTreeSet<String> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .map(|r| r.body.to_string())
        .collect();
    let batch_bodies: std::collections::BTreeSet<String> = server
        .batch_request_bodies()
        .iter()
        .map(|b| b.to_string())
        .collect();
    assert_eq!(batch_bodies, live_bodies);
    // Stats read the batch run as any other: every chunk completed once.
    let status = batch("status", &batched);
    assert_success(&status);
    assert_eq!(
        String::from_utf8_lossy(&status.stdout)
            .matches("\tyes")
            .count(),
        created
    );
}

/// A document whose second and third chunks' lines fail and expire the first time.
fn faulty_document(root: &Path) -> std::path::PathBuf {
    common::write_document(
        root,
        "faulty",
        [
            "The Apache License grants a perpetual, worldwide, royalty-free patent license.",
            "MOCK-BATCH-FAIL-ONCE The licensee must give recipients a copy of the license.",
            "MOCK-BATCH-EXPIRE-ONCE Modified files must carry prominent notices of change.",
            "Contributions are submitted under the terms of the license by default.",
        ],
    )
}

#[test]
fn failed_and_expired_lines_go_into_a_follow_up_batch_with_every_provider() {
    for provider in ["openai", "claude", "gemini"] {
        let server = MockServer::start();
        let dir = tempfile::tempdir().unwrap();
        let chunks = faulty_document(dir.path());
        let qa = dir.path().join("qa");
        let output = generate(
            provider,
            &server,
            &chunks,
            &qa,
            &[&["--batch-api"][..], &FAST_POLL].concat(),
        )
        .output()
        .unwrap();
        assert_success(&output);
        let qa_file = read_json(qa.join("faulty_qa.json"));
        assert_eq!(
            qa_file["completed_chunks"].as_array().unwrap().len(),
            4,
            "{provider}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            qa_file["training_pairs"].as_array().unwrap().len() >= 4,
            "{provider}"
        );
        // The two faulty chunks went in twice (the batch, then the follow-up); the rest once.
        let mut times: Vec<usize> = server.batch_submissions().into_values().collect();
        times.sort();
        assert_eq!(times, [1, 1, 2, 2], "{provider}");
        assert_eq!(server.batches_created(), 2, "{provider}");
        let live = server
            .requests()
            .iter()
            .filter(|r| {
                r.path == "/v1/chat/completions"
                    || r.path == "/v1/messages"
                    || r.path.ends_with(":generateContent")
            })
            .count();
        assert_eq!(live, 0, "{provider}: a live request");
    }
}

#[test]
fn with_batch_fallback_live_the_failed_lines_are_asked_live() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = faulty_document(dir.path());
    let qa = dir.path().join("qa");
    let extra = [&["--batch-api", "--batch-fallback", "live"][..], &FAST_POLL].concat();
    assert_success(
        &generate("openai", &server, &chunks, &qa, &extra)
            .output()
            .unwrap(),
    );
    assert_eq!(
        read_json(qa.join("faulty_qa.json"))["completed_chunks"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(server.batches_created(), 1);
    assert!(server.batch_submissions().values().all(|&times| times == 1));
    let live = server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .count();
    assert_eq!(live, 2, "the failed and the expired chunk, asked live");
}

#[test]
fn no_wait_submits_and_exits_then_resume_collects_and_cancel_stops_what_is_in_flight() {
    let server = MockServer::start();
    server.hold_batches(true);
    let dir = tempfile::tempdir().unwrap();
    let chunks = faulty_document(dir.path());
    let qa = dir.path().join("qa");
    let extra = [&["--batch-api", "--no-wait"][..], &FAST_POLL].concat();
    let submitted = generate("openai", &server, &chunks, &qa, &extra)
        .output()
        .unwrap();
    assert_success(&submitted);
    let stderr = String::from_utf8_lossy(&submitted.stderr);
    assert!(stderr.contains("--resume collects"), "{stderr}");
    assert_eq!(server.batches_created(), 1);
    // Nothing answered yet: the document is not finished.
    let qa_file = read_json(qa.join("faulty_qa.json"));
    assert_eq!(qa_file["completed_chunks"].as_array().unwrap().len(), 0);

    // Submitting again with --no-wait reattaches instead of submitting twice.
    assert_success(
        &generate(
            "openai",
            &server,
            &chunks,
            &qa,
            &[&extra[..], &["--resume"]].concat(),
        )
        .output()
        .unwrap(),
    );
    assert_eq!(server.batches_created(), 1);

    // Cancel: the batch ends with nothing answered; the next run asks again.
    let cancelled = batch("cancel", &qa);
    assert_success(&cancelled);
    assert!(String::from_utf8_lossy(&cancelled.stderr).contains("cancel requested"));
    server.hold_batches(false);
    let resumed = generate(
        "openai",
        &server,
        &chunks,
        &qa,
        &[&["--batch-api", "--resume"][..], &FAST_POLL].concat(),
    )
    .output()
    .unwrap();
    assert_success(&resumed);
    assert_eq!(
        read_json(qa.join("faulty_qa.json"))["completed_chunks"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        server.batches_created(),
        2,
        "the cancelled batch's chunks went in a follow-up"
    );
}

#[test]
fn batch_options_are_checked_and_priced_at_the_batch_discount() {
    let dir = tempfile::tempdir().unwrap();
    let chunks = common::corpus();
    let qa = dir.path().join("qa");
    let server = MockServer::start();
    // Ollama has no batch API: a wrong setting, exit code 78.
    let output = generate("local", &server, &chunks, &qa, &["--batch-api"])
        .output()
        .unwrap();
    assert_fails_with_code(
        &output,
        78,
        "--batch-api must be used with a provider that has a batch API",
    );
    let output = generate("openai", &server, &chunks, &qa, &["--no-wait"])
        .output()
        .unwrap();
    assert_fails_with_code(&output, 78, "--no-wait must be given with --batch-api");
    let output = generate(
        "openai",
        &server,
        &chunks,
        &qa,
        &["--batch-api", "--batch-fallback", "later"],
    )
    .output()
    .unwrap();
    assert_fails_with_code(&output, 78, "--batch-fallback must be `batch` or `live`");

    let estimate = |extra: &[&str]| -> f64 {
        let output = generate(
            "openai",
            &server,
            &chunks,
            &qa,
            &[
                &["--dry-run", "--price-in", "2", "--price-out", "8"][..],
                extra,
            ]
            .concat(),
        )
        .output()
        .unwrap();
        assert_success(&output);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let cost = text
            .split("estimated cost: $")
            .nth(1)
            .unwrap_or_else(|| panic!("{text}"));
        cost.split_whitespace().next().unwrap().parse().unwrap()
    };
    let live = estimate(&[]);
    let batched = estimate(&["--batch-api"]);
    assert!(live > 0.0);
    assert!(
        (batched - live / 2.0).abs() < 0.0002,
        "{batched} is not half of {live}"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_batch_whose_creation_answer_was_lost_is_found_by_its_tag_not_submitted_again() {
    let server = MockServer::start();
    // The batch is created, but its answer is a 500: asking again would create a
    // second batch and pay for every chunk twice.
    server.lose_next_batch_create_answer();
    let dir = tempfile::tempdir().unwrap();
    let chunks = faulty_document(dir.path());
    let qa = dir.path().join("qa");
    let extra = [&["--batch-api"][..], &FAST_POLL].concat();
    let output = generate("openai", &server, &chunks, &qa, &extra)
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("it was created all the same"), "{stderr}");
    assert_eq!(
        read_json(qa.join("faulty_qa.json"))["completed_chunks"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // One batch, then the follow-up for the failed and the expired line: none twice.
    assert_eq!(server.batches_created(), 2);
    let mut times: Vec<usize> = server.batch_submissions().into_values().collect();
    times.sort();
    assert_eq!(times, [1, 1, 2, 2]);
}
