//! The exit codes a scheduler acts on, per command and fault: 75 for a fault that may
//! pass (run again), 78 for a wrong setting (do not). Every command goes through one
//! mapping (`tdg::cli::exit_code`); these run the binary against servers that fail.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::fake_hub::{FakeHub, Served};
use crate::common::mock_server::MockServer;
use crate::common::{self, assert_fails_with_code, assert_success, tdg_isolated};

/// An address where nothing listens.
fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// A server that takes connections and never answers; it lives as long as the test.
fn silent_server() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepting = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in accepting.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 1024];
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = stream.read(&mut buffer);
            held.push(stream);
        }
    });
    (listener, url)
}

/// A Q&A directory generated against the mock server: one document, two chunks.
fn generated(root: &Path) -> PathBuf {
    let server = MockServer::start();
    let chunks = common::write_document(
        root,
        "doc",
        [
            "The Apache License grants a perpetual, worldwide, royalty-free patent license.",
            "The licensee must give recipients a copy of the license with the work.",
        ],
    );
    let qa = root.join("qa");
    let output = common::generate_command("openai", &[&server.url], &chunks, &qa, &[])
        .env("OPENAI_API_KEY", "sk-test")
        .output()
        .unwrap();
    assert_success(&output);
    qa
}

fn validate(qa: &Path, url: &str, extra: &[&str]) -> Output {
    tdg_isolated(qa.parent().unwrap())
        .args([
            "validate",
            "--provider",
            "openai",
            "--base-url",
            url,
            "--max-retries",
            "0",
        ])
        .arg("--qa-dir")
        .arg(qa)
        .args(extra)
        .env("OPENAI_API_KEY", "sk-test")
        .output()
        .unwrap()
}

#[test]
fn validate_against_an_unreachable_server_exits_75() {
    let root = tempfile::tempdir().unwrap();
    let qa = generated(root.path());
    let output = validate(&qa, &unreachable_url(), &[]);
    assert_fails_with_code(&output, 75, "cannot reach the model server");
}

#[test]
fn validate_takes_generates_timeouts_from_options_and_the_environment() {
    let root = tempfile::tempdir().unwrap();
    let qa = generated(root.path());
    let (_server, url) = silent_server();
    // From the options: a server that never answers is given up on after them.
    let output = validate(
        &qa,
        &url,
        &[
            "--request-timeout",
            "1",
            "--first-byte-timeout",
            "1",
            "--max-timeouts",
            "1",
        ],
    );
    assert_fails_with_code(&output, 75, "does not answer");
    // From the environment, as generate reads it.
    let output = tdg_isolated(root.path())
        .args([
            "validate",
            "--provider",
            "openai",
            "--base-url",
            &url,
            "--max-retries",
            "0",
        ])
        .arg("--qa-dir")
        .arg(&qa)
        .env("OPENAI_API_KEY", "sk-test")
        .env("GENERATOR_REQUEST_TIMEOUT", "1")
        .env("GENERATOR_MAX_TIMEOUTS", "1")
        .output()
        .unwrap();
    assert_fails_with_code(&output, 75, "does not answer");
    // A bad value is a wrong setting, named.
    let output = validate(&qa, &url, &["--request-timeout", "0"]);
    assert_fails_with_code(&output, 78, "--request-timeout");
}

#[test]
fn batch_status_and_cancel_against_an_unreachable_provider_exit_75() {
    let root = tempfile::tempdir().unwrap();
    let server = MockServer::start();
    server.hold_batches(true);
    let chunks = common::write_document(root.path(), "doc", ["One sentence of text here."]);
    let qa = root.path().join("qa");
    let submitted = common::generate_command(
        "openai",
        &[&server.url],
        &chunks,
        &qa,
        &["--batch-api", "--no-wait"],
    )
    .env("OPENAI_API_KEY", "sk-test")
    .output()
    .unwrap();
    assert_success(&submitted);
    for action in ["status", "cancel"] {
        let output = tdg_isolated(root.path())
            .args(["batch", action, "--provider", "openai", "--base-url"])
            .arg(unreachable_url())
            .arg("--qa-dir")
            .arg(&qa)
            .env("OPENAI_API_KEY", "sk-test")
            .output()
            .unwrap();
        assert_fails_with_code(&output, 75, "could not be");
    }
}

#[test]
fn merge_while_a_shard_is_still_running_exits_75_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let server = MockServer::start();
    let chunks = common::write_document(root.path(), "doc", ["One sentence of text here."]);
    let qa = root.path().join("qa");
    for shard in ["0/2", "1/2"] {
        let output =
            common::generate_command("openai", &[&server.url], &chunks, &qa, &["--shard", shard])
                .env("OPENAI_API_KEY", "sk-test")
                .output()
                .unwrap();
        assert_success(&output);
    }
    let running = qa.join("shard-0001-of-0002");
    let _held = tdg::dir_lock::lock(&running).unwrap();
    let output = tdg_isolated(root.path())
        .arg("merge")
        .arg(&qa)
        .output()
        .unwrap();
    assert_fails_with_code(&output, 75, "shard-0001-of-0002");
}

/// `tdg generate` of the Hub model `org/repo/model.gguf` from `endpoint`.
fn generate_from_hub(root: &Path, endpoint: &str, qa: &str) -> Output {
    let chunks = common::write_document(root, "doc", ["One sentence of text here."]);
    tdg_isolated(root)
        .args(["generate", "--model", "org/repo/model.gguf", "--chunks-dir"])
        .arg(chunks)
        .arg("--qa-dir")
        .arg(root.join(qa))
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", root.join("hf-home"))
        .output()
        .unwrap()
}

#[test]
fn hub_faults_that_may_pass_exit_75_and_a_missing_model_78() {
    let root = tempfile::tempdir().unwrap();
    let unreachable = generate_from_hub(root.path(), &unreachable_url(), "qa-unreachable");
    assert_fails_with_code(&unreachable, 75, "cannot reach the Hub");

    let hub = FakeHub::start();
    let page = b"<!DOCTYPE html><html><body>Service Unavailable</body></html>".to_vec();
    let mut served = Served::new(page, "0123456789abcdef0123456789abcdef01234567");
    served.etag = "deadbeef".into();
    hub.add("org/repo/model.gguf", served);
    let html = generate_from_hub(root.path(), &hub.url, "qa-html");
    assert_fails_with_code(&html, 75, "not a GGUF model file");

    let empty = FakeHub::start();
    let missing = generate_from_hub(root.path(), &empty.url, "qa-missing");
    assert_fails_with_code(&missing, 78, "not found");
}

fn push(folder: &Path, endpoint: &str) -> Output {
    tdg_isolated(folder.parent().unwrap())
        .arg("push")
        .arg(folder)
        .args(["--repo", "org/data"])
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", folder.parent().unwrap().join("hf-home"))
        .env("HF_TOKEN", "hf_exit_code_token")
        .output()
        .unwrap()
}

#[test]
fn push_retries_a_failing_hub_and_exits_75_when_it_stays_down() {
    let root = tempfile::tempdir().unwrap();
    let qa = generated(root.path());
    let folder = root.path().join("dataset");
    let exported = tdg_isolated(root.path())
        .arg("export")
        .arg(&qa)
        .arg("--output-dir")
        .arg(&folder)
        .args(["--license", "mit"])
        .output()
        .unwrap();
    assert_success(&exported);

    let unreachable = push(&folder, &unreachable_url());
    assert_fails_with_code(&unreachable, 75, "cannot reach the Hub");

    // Two 500s are asked past; the push goes through.
    let flaky = FakeHub::start();
    flaky.fail_next(2, 500);
    assert_success(&push(&folder, &flaky.url));
    assert_eq!(flaky.commits().len(), 1);

    // A Hub that keeps failing: a fault that may pass.
    let down = FakeHub::start();
    down.fail_next(1000, 503);
    assert_fails_with_code(&push(&folder, &down.url), 75, "503");
}
