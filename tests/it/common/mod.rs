//! Helpers shared by the integration tests: the tdg binary, test plugins built on
//! demand, and fixture paths.

pub mod fake_hub;
pub mod mock_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The directory of the test fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// A compiled-component cache shared by the tests, so each plugin compiles once.
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("tdg-component-cache")
}

/// The tdg binary, with the shared cache and no colour.
pub fn tdg() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdg"));
    command
        .env("TDG_CACHE_DIR", shared_cache_dir())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    command
}

/// Builds the test plugin `tests/plugins/<name>` for wasm32-wasip2 (once per test
/// process) and returns the component's path.
pub fn test_plugin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let target_dir = BUILT.get_or_init(|| {
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("wasm-plugins");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "-p",
                "tdg-test-plugin-hostile",
            ])
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the test plugins failed");
        target_dir
    });
    let path = target_dir
        .join("wasm32-wasip2")
        .join("release")
        .join(format!("tdg_test_plugin_{}.wasm", name.replace('-', "_")));
    assert!(path.is_file(), "no test plugin at {}", path.display());
    path
}

/// A file's text.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

/// The tdg binary with an empty environment (no keys or GENERATOR_* settings from
/// the machine) in the working directory `cwd` (so no stray .env or tdg.toml).
pub fn tdg_isolated(cwd: &Path) -> Command {
    let mut command = tdg();
    command
        .env_clear()
        .env("TDG_CACHE_DIR", shared_cache_dir())
        .env("NO_COLOR", "1")
        .current_dir(cwd);
    command
}

/// The chunk files of the shared corpus.
pub fn corpus() -> PathBuf {
    fixtures().join("corpus")
}

/// Reads a JSON file.
pub fn read_json(path: impl AsRef<Path>) -> serde_json::Value {
    serde_json::from_str(&read(path)).expect("valid JSON")
}

/// Builds the example Python parser (`plugins/examples/python-parser`) with
/// componentize-py, once per test process, and returns the component's path.
pub fn python_parser() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let source =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/examples/python-parser");
            let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-plugins");
            std::fs::create_dir_all(&out_dir).unwrap();
            let out = out_dir.join("python_parser.wasm");
            let status = Command::new("componentize-py")
                .current_dir(&source)
                .args([
                    "-d",
                    "../../../wit/v0.3",
                    "-w",
                    "parser-plugin",
                    "componentize",
                    "app",
                    "-o",
                ])
                .arg(&out)
                .status()
                .unwrap_or_else(|e| {
                    panic!(
                        "componentize-py is needed for this test (pip install componentize-py): {e}"
                    )
                });
            assert!(
                status.success(),
                "componentize-py failed to build {}",
                source.display()
            );
            out
        })
        .clone()
}

/// `tdg generate` with `provider` against the servers `urls` (each a `--base-url`),
/// with fast retries, isolated, in `qa_dir`'s parent directory.
pub fn generate_command(
    provider: &str,
    urls: &[&str],
    chunks: &Path,
    qa_dir: &Path,
    extra: &[&str],
) -> Command {
    let mut command = tdg_isolated(qa_dir.parent().expect("the Q&A directory has a parent"));
    command.args(["generate", "--provider", provider, "--retry-base-ms", "1"]);
    for url in urls {
        command.args(["--base-url", url]);
    }
    command
        .arg("--chunks-dir")
        .arg(chunks)
        .arg("--qa-dir")
        .arg(qa_dir)
        .args(extra);
    command
}

/// Writes `root/chunks/<stem>_chunks.json`, one ready document whose chunks hold
/// `texts`, and returns the chunks directory.
pub fn write_document<S: AsRef<str>>(
    root: &Path,
    stem: &str,
    texts: impl IntoIterator<Item = S>,
) -> PathBuf {
    let dir = root.join("chunks");
    std::fs::create_dir_all(&dir).unwrap();
    let chunks: Vec<serde_json::Value> = texts
        .into_iter()
        .map(|text| serde_json::json!({"text": text.as_ref()}))
        .collect();
    let document = serde_json::json!({"status": "completed", "chunks": chunks});
    std::fs::write(
        dir.join(format!("{stem}_chunks.json")),
        document.to_string(),
    )
    .unwrap();
    dir
}

/// Writes `dir/<stem>_qa.json`, a completed Q&A file whose pairs ask `questions`
/// (answers and chunk ids made from the stem and the pair's place).
pub fn write_qa_file<S: AsRef<str>>(dir: &Path, stem: &str, questions: &[S]) {
    std::fs::create_dir_all(dir).unwrap();
    let pairs: Vec<serde_json::Value> = questions
        .iter()
        .enumerate()
        .map(|(i, question)| {
            serde_json::json!({"question": question.as_ref(), "answer": format!("{stem} answer {i}."),
                "chunk_id": format!("{stem}_{i}"), "chunk_index": i})
        })
        .collect();
    std::fs::write(
        dir.join(format!("{stem}_qa.json")),
        serde_json::json!({"status": "completed", "training_pairs": pairs}).to_string(),
    )
    .unwrap();
}

/// Fails the test, showing tdg's error output, unless the command succeeded.
pub fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "tdg failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The questions of a Q&A file, in order.
pub fn questions(qa: &serde_json::Value) -> Vec<String> {
    qa["training_pairs"]
        .as_array()
        .expect("training_pairs is an array")
        .iter()
        .map(|pair| pair["question"].as_str().unwrap().to_string())
        .collect()
}

/// The questions the mock server makes for chunks with `texts`, 3 per chunk, in order.
pub fn mock_questions(texts: &[&str]) -> Vec<String> {
    texts
        .iter()
        .flat_map(|text| mock_server::pairs_for(text, 3))
        .map(|(question, _)| question)
        .collect()
}

/// Fails the test unless tdg exited with 1 and its error output holds `message`.
pub fn assert_fails_with(output: &std::process::Output, message: &str) {
    assert_fails_with_code(output, 1, message);
}

/// Asserts that tdg failed with exit code `code` (78: a wrong setting; 75: a fault
/// that may pass) and said `message` on stderr.
pub fn assert_fails_with_code(output: &std::process::Output, code: i32, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(
        stderr.contains(message),
        "expected `{message}` in: {stderr}"
    );
}

/// A Q&A file without what differs between any two runs: the times things happened.
pub fn without_times(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .filter(|(key, _)| !key.ends_with("_at") && !key.ends_with("_time"))
                .map(|(key, value)| (key.clone(), without_times(value)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(without_times).collect())
        }
        other => other.clone(),
    }
}

/// Where two JSON values first differ, as a path.
pub fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> String {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                if x.get(key) != y.get(key) {
                    let (x, y) = (&x.get(key).cloned(), &y.get(key).cloned());
                    return first_difference(
                        x.as_ref().unwrap_or(&serde_json::Value::Null),
                        y.as_ref().unwrap_or(&serde_json::Value::Null),
                        &format!("{at}.{key}"),
                    );
                }
            }
            at.to_string()
        }
        (serde_json::Value::Array(x), serde_json::Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| first_difference(x, y, &format!("{at}[{i}]")))
            .unwrap_or_default(),
        _ => format!("{at}: {a} vs {b}"),
    }
}

pub fn qa_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with("_qa.json"))
        .collect();
    files.sort();
    files
}
