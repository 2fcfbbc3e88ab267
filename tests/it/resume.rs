//! No work is ever lost: Ctrl+C, SIGTERM, SIGKILL, faulty servers and bad input, each
//! followed by `--resume`, end with exactly the pairs of an uninterrupted run.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::mock_server::{Fault, MockServer, pairs_for};
use common::{corpus, fixtures, read_json};
use serde_json::{Value, json};

fn generate_command(server: &MockServer, chunks: &Path, qa_dir: &Path, extra: &[&str]) -> Command {
    let mut command = common::generate_command("openai", &[&server.url], chunks, qa_dir, extra);
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    command
}

fn run(server: &MockServer, chunks: &Path, qa_dir: &Path, extra: &[&str]) -> Output {
    generate_command(server, chunks, qa_dir, extra)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_for_requests(server: &MockServer, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.request_count() < count {
        assert!(
            Instant::now() < deadline,
            "only {} requests arrived",
            server.request_count()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that every document of `chunks` is complete in `qa_dir`, each chunk
/// holding exactly the mock's pairs for it, once.
fn assert_exact(chunks: &Path, qa_dir: &Path) {
    for entry in std::fs::read_dir(chunks).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix("_chunks.json") else {
            continue;
        };
        let chunk_file = read_json(&path);
        let qa = read_json(qa_dir.join(format!("{stem}_qa.json")));
        assert_eq!(qa["status"], "completed", "{stem}");
        let expected: Vec<Value> = chunk_file["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|chunk| {
                pairs_for(chunk["text"].as_str().unwrap().trim_end(), 3)
                    .into_iter()
                    .map(
                        |(q, a)| json!({"question": q, "answer": a, "chunk_id": chunk["chunk_id"]}),
                    )
            })
            .collect();
        let got: Vec<Value> = qa["training_pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| json!({"question": p["question"], "answer": p["answer"], "chunk_id": p["chunk_id"]}))
            .collect();
        assert_eq!(
            got, expected,
            "{stem}: pairs differ from an uninterrupted run's"
        );
        let total = chunk_file["chunks"].as_array().unwrap().len();
        assert_eq!(
            qa["completed_chunks"],
            json!((0..total).collect::<Vec<_>>())
        );
    }
}

/// A corpus of `documents` documents with `chunks` chunks each.
fn synthetic_corpus(root: &Path, documents: usize, chunks: usize) -> PathBuf {
    let dir = root.join("chunks");
    std::fs::create_dir_all(&dir).unwrap();
    for d in 0..documents {
        let list: Vec<Value> = (0..chunks)
            .map(|c| {
                json!({"text": format!("Document {d} chunk {c}: river stones {c} gather moss {d} slowly beneath bridges."),
                       "chunk_id": format!("0_{c}"), "chunk_index": c, "start_char": c * 80, "end_char": c * 80 + 79})
            })
            .collect();
        let doc = json!({"status": "completed", "metadata": {"file_name": format!("doc{d}.txt")}, "chunks": list});
        std::fs::write(dir.join(format!("doc{d}_chunks.json")), doc.to_string()).unwrap();
    }
    dir
}

/// A run under way: a server answering in 40 ms, and a generation of the shared corpus
/// into `dir/qa` with `concurrency`, after `requests` requests have reached the server.
struct RunUnderWay {
    server: MockServer,
    dir: tempfile::TempDir,
    qa_dir: PathBuf,
    child: Child,
}

fn run_under_way(concurrency: &str, requests: usize) -> RunUnderWay {
    let server = MockServer::start();
    server.set_latency(Duration::from_millis(40));
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    let child = generate_command(&server, &corpus(), &qa_dir, &["--concurrency", concurrency])
        .spawn()
        .unwrap();
    wait_for_requests(&server, requests);
    RunUnderWay {
        server,
        dir,
        qa_dir,
        child,
    }
}

#[test]
fn ctrl_c_saves_everything_and_a_resume_finishes_exactly() {
    let RunUnderWay {
        server,
        dir: _dir,
        qa_dir,
        child,
    } = run_under_way("4", 30);
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("--resume"), "{}", stderr(&output));
    let interrupted = read_json(qa_dir.join("GPL-3_qa.json"));
    assert_eq!(interrupted["status"], "interrupted");
    let done = interrupted["completed_chunks"].as_array().unwrap().len();
    assert_eq!(
        interrupted["training_pairs"].as_array().unwrap().len(),
        done * 3
    );
    let asked_before = server.request_count();
    assert!(asked_before < 136);

    let resumed = run(
        &server,
        &corpus(),
        &qa_dir,
        &["--resume", "--concurrency", "4"],
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_exact(&corpus(), &qa_dir);
    // Requests in flight at Ctrl+C were finished and kept: nothing was asked twice.
    assert_eq!(server.request_count(), 136);
}

#[test]
fn sigterm_stops_like_ctrl_c() {
    let run = run_under_way("2", 6);
    let (child, qa_dir) = (run.child, run.qa_dir);
    signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(
        read_json(qa_dir.join("Apache-2.0_qa.json"))["status"],
        "interrupted"
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_the_state_stays_consistent() {
    let RunUnderWay {
        server,
        dir: _dir,
        qa_dir,
        child,
    } = run_under_way("4", 10);
    server.set_latency(Duration::from_secs(20));
    wait_for_requests(&server, server.request_count() + 4);
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(200));
    let second = Instant::now();
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "took {:?}",
        second.elapsed()
    );

    server.set_latency(Duration::from_millis(1));
    let resumed = run(&server, &corpus(), &qa_dir, &["--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_exact(&corpus(), &qa_dir);
}

#[test]
fn a_half_done_run_of_the_original_tool_is_resumed() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = dir.path().join("chunks");
    std::fs::create_dir(&chunks).unwrap();
    std::fs::copy(
        corpus().join("Apache-2.0_chunks.json"),
        chunks.join("Apache-2.0_chunks.json"),
    )
    .unwrap();
    let qa_dir = dir.path().join("qa");
    std::fs::create_dir(&qa_dir).unwrap();
    // The original stopped after chunks 0..=9; chunk 12 had failed.
    let mut original = read_json(fixtures().join("Apache-2.0_qa.json"));
    let kept: Vec<Value> = original["training_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["chunk_index"].as_i64().unwrap() < 10)
        .cloned()
        .collect();
    let original_pairs = kept.clone();
    original["training_pairs"] = json!(kept);
    original["status"] = json!("in_progress");
    original["completed_chunks"] = json!((0..10).collect::<Vec<_>>());
    original["failed_chunks"] = json!([12]);
    std::fs::write(qa_dir.join("Apache-2.0_qa.json"), original.to_string()).unwrap();

    let output = run(&server, &chunks, &qa_dir, &["--resume"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("10 chunks were completed by an earlier run of the original tool"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        server.request_count(),
        7,
        "only chunks 10..=16 are asked for"
    );
    let qa = read_json(qa_dir.join("Apache-2.0_qa.json"));
    assert_eq!(qa["status"], "completed");
    assert_eq!(qa["completed_chunks"], json!((0..17).collect::<Vec<_>>()));
    let pairs = qa["training_pairs"].as_array().unwrap();
    assert_eq!(
        pairs[..30],
        original_pairs[..],
        "the original's pairs are kept as they were"
    );
    assert_eq!(pairs.len(), 51);
}

#[test]
fn failed_chunks_are_retried_on_resume_unless_skipped() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = dir.path().join("chunks");
    std::fs::create_dir(&chunks).unwrap();
    let doc = json!({"status": "completed", "chunks": [{"text": "Foxes are clever."}, {"text": "MOCK-GARBAGE never works."}]});
    std::fs::write(chunks.join("doc_chunks.json"), doc.to_string()).unwrap();
    let qa_dir = dir.path().join("qa");
    assert_eq!(run(&server, &chunks, &qa_dir, &[]).status.code(), Some(1));
    assert_eq!(server.request_count(), 3);
    assert_eq!(
        read_json(qa_dir.join("doc_qa.json"))["failed_chunks"],
        json!([1])
    );

    let skipped = run(&server, &chunks, &qa_dir, &["--resume", "--skip-failed"]);
    assert_eq!(skipped.status.code(), Some(0), "{}", stderr(&skipped));
    assert_eq!(server.request_count(), 3, "--skip-failed asks nothing");

    let retried = run(&server, &chunks, &qa_dir, &["--resume"]);
    assert_eq!(retried.status.code(), Some(1));
    assert_eq!(
        server.request_count(),
        5,
        "the failed chunk is asked again (with one parse retry)"
    );
    // Each chunk records the settings it was made with.
    let store = rusqlite::Connection::open(qa_dir.join(".tdg-checkpoint.sqlite3")).unwrap();
    let settings: String = store
        .query_row("SELECT s.json FROM chunks c JOIN settings s ON s.id = c.settings_id WHERE c.position = 0", [], |r| r.get(0))
        .unwrap();
    let settings: Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(settings["provider"], "openai");
    assert_eq!(settings["questions_per_chunk"], 3);
}

#[test]
fn cut_off_answers_and_timeouts_are_retried() {
    let server = MockServer::start();
    server.push_faults([
        Fault::CutOff,
        Fault::Slow(Duration::from_secs(3)),
        Fault::CutOff,
    ]);
    let dir = tempfile::tempdir().unwrap();
    let chunks = dir.path().join("chunks");
    std::fs::create_dir(&chunks).unwrap();
    std::fs::write(
        chunks.join("doc_chunks.json"),
        json!({"chunks": [{"text": "Owls fly silently at night."}]}).to_string(),
    )
    .unwrap();
    let qa_dir = dir.path().join("qa");
    let output = run(&server, &chunks, &qa_dir, &["--request-timeout", "0.5"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.request_count(), 4);
    assert_eq!(
        read_json(qa_dir.join("doc_qa.json"))["summary"]["total_qa_pairs"],
        3
    );
}

#[test]
fn a_chunk_file_with_invalid_utf8_is_named_and_the_others_go_on() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = dir.path().join("chunks");
    std::fs::create_dir(&chunks).unwrap();
    std::fs::write(
        chunks.join("good_chunks.json"),
        json!({"chunks": [{"text": "Bats use echoes."}]}).to_string(),
    )
    .unwrap();
    std::fs::write(
        chunks.join("latin1_chunks.json"),
        b"{\"chunks\": [{\"text\": \"caf\xe9\"}]}",
    )
    .unwrap();
    let qa_dir = dir.path().join("qa");
    let output = run(&server, &chunks, &qa_dir, &[]);
    common::assert_fails_with(&output, "latin1_chunks.json is not valid JSON");
    assert_eq!(
        read_json(qa_dir.join("good_qa.json"))["status"],
        "completed"
    );
}

#[test]
fn an_unusable_qa_dir_is_named() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("qa");
    std::fs::write(&not_a_dir, "a file where the Q&A directory should be").unwrap();
    let output = run(&server, &corpus(), &not_a_dir, &[]);
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "cannot create the Q&A directory {}",
            not_a_dir.display()
        )),
        "{message}"
    );
    assert_eq!(server.request_count(), 0);
}

/// The chaos test: a server that answers 429 and 500 now and then, and a process
/// killed with SIGKILL at random moments, resumed each time. The end result equals an
/// uninterrupted run's, with every chunk holding exactly its pairs.
#[test]
fn sigkill_at_random_moments_loses_nothing_and_duplicates_nothing() {
    let seed = std::env::var("TDG_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("chaos seed: {seed} (set TDG_CHAOS_SEED to replay)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let server = MockServer::start();
    server.set_latency(Duration::from_millis(20));
    server.fail_one_in(6);
    let dir = tempfile::tempdir().unwrap();
    let chunks = synthetic_corpus(dir.path(), 5, 60);
    let qa_dir = dir.path().join("qa");

    let mut kills = 0;
    for round in 0..40 {
        let resume: &[&str] = if round == 0 { &[] } else { &["--resume"] };
        let mut child = generate_command(
            &server,
            &chunks,
            &qa_dir,
            &[resume, &["--concurrency", "4"]].concat(),
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(20..250)));
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                stderr(&output)
            );
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        // Between kills, every Q&A file on disk is whole JSON with no duplicates.
        for entry in std::fs::read_dir(&qa_dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with("_qa.json") {
                let qa = read_json(&path);
                let done = qa["completed_chunks"].as_array().unwrap().len();
                assert_eq!(
                    qa["training_pairs"].as_array().unwrap().len(),
                    done * 3,
                    "{}",
                    path.display()
                );
            }
        }
    }
    assert!(kills >= 10, "only {kills} kills landed");
    let last = run(&server, &chunks, &qa_dir, &["--resume"]);
    assert!(last.status.success(), "{}", stderr(&last));
    assert_exact(&chunks, &qa_dir);

    // The same corpus, uninterrupted, on a server without faults: identical pairs.
    let calm = MockServer::start();
    let calm_dir = dir.path().join("calm");
    assert!(run(&calm, &chunks, &calm_dir, &[]).status.success());
    for d in 0..5 {
        let name = format!("doc{d}_qa.json");
        assert_eq!(
            read_json(qa_dir.join(&name))["training_pairs"],
            read_json(calm_dir.join(&name))["training_pairs"],
            "{name}"
        );
    }
}

/// A full disk (here: a file-size limit, with SIGXFSZ ignored, so writes fail with
/// EFBIG as on a full disk) stops the run with one clear message; nothing recorded is
/// lost, and a resume finishes exactly.
#[cfg(unix)]
#[test]
fn a_full_disk_stops_the_run_cleanly_and_loses_nothing() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    let inner = generate_command(&server, &corpus(), &qa_dir, &[]);
    let output = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 150; exec \"$0\" \"$@\"")
        .arg(inner.get_program())
        .args(inner.get_args())
        .envs(inner.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(75));
    let message = stderr(&output);
    let errors: Vec<&str> = message.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.iter().any(|l| l.contains(".tdg-checkpoint.sqlite3")
            && l.contains("free disk space")
            && l.contains("--resume")),
        "{message}"
    );
    assert_eq!(
        errors.iter().filter(|l| l.contains("checkpoint")).count(),
        1,
        "said once: {message}"
    );

    let resumed = run(&server, &corpus(), &qa_dir, &["--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_exact(&corpus(), &qa_dir);
}
