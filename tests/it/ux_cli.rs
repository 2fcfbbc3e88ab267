//! What a newcomer meets: previews, dry runs with cost estimates, progress,
//! statistics, spending caps, completions, and errors that say what to do.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::mock_server::MockServer;
use common::{corpus, read_json, tdg_isolated};
use serde_json::Value;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn generate(server: &MockServer, chunks: &Path, qa_dir: &Path, extra: &[&str]) -> Output {
    common::generate_command("openai", &[&server.url], chunks, qa_dir, extra)
        .output()
        .unwrap()
}

fn one_document(root: &Path, texts: &[&str]) -> PathBuf {
    common::write_document(root, "doc", texts)
}

#[test]
fn prompt_prints_the_exact_messages_for_a_custom_template() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("t.jinja");
    std::fs::write(&template, "{{ num_questions }} questions for {{ vars.team }} on {{ document.file_name }}:\n{{ text }}").unwrap();
    let output = tdg_isolated(dir.path())
        .args([
            "prompt",
            "--file",
            "Apache-2.0",
            "--chunk",
            "3",
            "--questions-per-chunk",
            "4",
            "--var",
            "team=legal",
        ])
        .args(["--qa-system-message", "Be precise."])
        .arg("--qa-prompt-template-file")
        .arg(&template)
        .arg("--chunks-dir")
        .arg(corpus())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let chunks = read_json(corpus().join("Apache-2.0_chunks.json"));
    let text = chunks["chunks"][3]["text"].as_str().unwrap();
    let expected = format!(
        "# Apache-2.0_chunks.json · chunk 3 (id {})\n\n## system\nBe precise.\n\n## user\n4 questions for legal on Apache-2.0.txt:\n{text}\n",
        chunks["chunks"][3]["chunk_id"].as_str().unwrap()
    );
    assert_eq!(stdout(&output), expected);

    let json_output = tdg_isolated(dir.path())
        .args(["prompt", "--json", "--chunks-dir"])
        .arg(corpus())
        .output()
        .unwrap();
    let messages: Value = serde_json::from_str(&stdout(&json_output)).unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[1]["role"], "user");
}

#[test]
fn prompt_names_a_missing_file_or_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .args(["prompt", "--file", "nope", "--chunks-dir"])
        .arg(corpus())
        .output()
        .unwrap();
    common::assert_fails_with(&output, "no chunk file matches `nope`");
    let output = tdg_isolated(dir.path())
        .args([
            "prompt",
            "--file",
            "Apache-2.0",
            "--chunk",
            "99",
            "--chunks-dir",
        ])
        .arg(corpus())
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains(
            "Apache-2.0_chunks.json has 17 chunks: --chunk takes a position from 0 to 16"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_dry_run_counts_and_prices_without_calling_a_model() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    let output = generate(
        &server,
        &corpus(),
        &qa_dir,
        &["--dry-run", "--price-in", "2.5", "--price-out", "10"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(
        report.contains("dry run: 3 documents, 136 chunks to ask about"),
        "{report}"
    );
    let tokens: Vec<u64> = report
        .lines()
        .find(|l| l.starts_with("estimated tokens:"))
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (tokens_in, tokens_out) = (tokens[0], tokens[1]);
    assert_eq!(tokens_out, 136 * 3 * 80);
    assert!(tokens_in > 136 * 200, "{tokens_in}");
    let cost = tokens_in as f64 / 1e6 * 2.5 + tokens_out as f64 / 1e6 * 10.0;
    assert!(
        report.contains(&format!("estimated cost: ${cost:.4}")),
        "{report}"
    );
    assert_eq!(server.request_count(), 0);
    assert!(!qa_dir.exists());
}

#[test]
fn progress_lines_are_printed_when_stderr_is_not_a_terminal() {
    let server = MockServer::start();
    server.set_latency(Duration::from_millis(30));
    let dir = tempfile::tempdir().unwrap();
    let chunks = one_document(
        dir.path(),
        &[
            "One.", "Two.", "Three.", "Four.", "Five.", "Six.", "Seven.", "Eight.",
        ],
    );
    let output = generate(
        &server,
        &chunks,
        &dir.path().join("qa"),
        &["--concurrency", "1", "--progress-interval", "0.05"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stderr(&output);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("progress: ")).collect();
    assert!(lines.len() >= 2, "{log}");
    assert!(
        lines.iter().all(|l| l.contains("/8 chunks")
            && l.contains("pairs")
            && l.contains("chunks/s")
            && l.contains("ETA")
            && l.contains("tokens")),
        "{log}"
    );
    // -q silences them.
    let quiet = generate(
        &server,
        &chunks,
        &dir.path().join("qa-quiet"),
        &["-q", "--progress-interval", "0.05"],
    );
    assert!(quiet.status.success());
    assert!(!stderr(&quiet).contains("progress: "), "{}", stderr(&quiet));
}

#[test]
fn stats_json_agrees_with_the_qa_files() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = one_document(
        dir.path(),
        &[
            "Alpha beta gamma.",
            "MOCK-GARBAGE nothing here.",
            "",
            "Delta epsilon.",
        ],
    );
    let qa_dir = dir.path().join("qa");
    let run = generate(&server, &chunks, &qa_dir, &[]);
    assert_eq!(run.status.code(), Some(1));
    // The end-of-run report shows the same table.
    assert!(
        stderr(&run).contains("DOCUMENT") && stderr(&run).contains("Most common causes of failure"),
        "{}",
        stderr(&run)
    );

    let output = tdg_isolated(dir.path())
        .args(["stats", "--json"])
        .arg(&qa_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stats: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let qa = read_json(qa_dir.join("doc_qa.json"));
    let doc = &stats["documents"][0];
    assert_eq!(doc["document"], "doc");
    assert_eq!(doc["total_chunks"], 4);
    assert_eq!(
        doc["chunks_completed"],
        qa["completed_chunks"].as_array().unwrap().len()
    );
    assert_eq!(
        doc["chunks_failed"],
        qa["failed_chunks"].as_array().unwrap().len()
    );
    assert_eq!(doc["chunks_skipped"], 1);
    assert_eq!(doc["pairs"], qa["training_pairs"].as_array().unwrap().len());
    assert_eq!(doc["success_rate"].as_f64().unwrap(), 2.0 / 3.0);
    // The mock reports 100 tokens in and 50 out per request.
    assert_eq!(doc["tokens_in"], 100 * server.request_count());
    assert_eq!(doc["tokens_out"], 50 * server.request_count());
    assert!(doc["mean_seconds_per_chunk"].as_f64().unwrap() >= 0.0);
    assert_eq!(stats["total"]["pairs"], doc["pairs"]);
    assert_eq!(stats["failure_causes"][0]["chunks"], 1);
    assert!(
        stats["failure_causes"][0]["cause"]
            .as_str()
            .unwrap()
            .contains("held no usable pair")
    );
}

#[test]
fn stats_reads_the_original_tools_qa_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixtures().join("Apache-2.0_qa.json"),
        dir.path().join("Apache-2.0_qa.json"),
    )
    .unwrap();
    let output = tdg_isolated(dir.path())
        .args(["stats", "--json", "."])
        .output()
        .unwrap();
    let stats: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(stats["source"], "qa-files");
    assert_eq!(stats["total"]["pairs"], 51);
    assert_eq!(stats["total"]["chunks_completed"], 17);
}

#[test]
fn max_cost_stops_the_run_cleanly() {
    let server = MockServer::start();
    server.set_latency(Duration::from_millis(10));
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    // 100 tokens in per request at $1,000 per million: $0.10 a chunk.
    let output = generate(
        &server,
        &corpus(),
        &qa_dir,
        &[
            "--concurrency",
            "2",
            "--price-in",
            "1000",
            "--price-out",
            "0",
            "--max-cost",
            "0.5",
        ],
    );
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--max-cost"),
        "{}",
        stderr(&output)
    );
    assert!(
        server.request_count() < 20,
        "{} requests",
        server.request_count()
    );
    assert_eq!(
        read_json(qa_dir.join("Apache-2.0_qa.json"))["status"],
        "interrupted"
    );
    let resumed = generate(&server, &corpus(), &qa_dir, &["--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(server.request_count(), 136);
}

#[test]
fn max_cost_needs_prices() {
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .args([
            "generate",
            "--chunks-dir",
            "c",
            "--qa-dir",
            "q",
            "--max-cost",
            "5",
        ])
        .output()
        .unwrap();
    common::assert_fails_with_code(
        &output,
        78,
        "--max-cost must be given with --price-in and --price-out",
    );
}

#[test]
fn an_unknown_model_lists_the_available_ones() {
    for (provider, flag) in [("ollama", "--ollama-base-url"), ("openai", "--base-url")] {
        let server = MockServer::start_with(None, Some(&["llama3", "qwen3:14b"]));
        let dir = tempfile::tempdir().unwrap();
        let output = tdg_isolated(dir.path())
            .args([
                "generate",
                "--provider",
                provider,
                flag,
                &server.url,
                "--model",
                "lama3",
            ])
            .arg("--chunks-dir")
            .arg(corpus())
            .args(["--qa-dir", "qa"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(78));
        let message = stderr(&output);
        assert!(message.contains("lama3"), "{message}");
        assert!(
            message.contains("Models available there: llama3, qwen3:14b"),
            "{provider}: {message}"
        );
    }
}

#[test]
fn a_mistyped_flag_gets_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .args(["generate", "--chunk-dir", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--chunks-dir"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = common::tdg().args(["completions", shell]).output().unwrap();
        assert!(output.status.success());
        let script = stdout(&output);
        // fish spells long options `-l chunks-dir`.
        assert!(
            script.contains("generate") && script.contains("chunks-dir"),
            "{shell}"
        );
    }
}

/// `tdg generate --dry-run` over the corpus in `dir`, with `extra` options and
/// `env` variables, calling no model.
fn dry_run(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tdg_isolated(dir);
    command
        .args(["generate", "--dry-run", "--qa-dir", "qa", "--chunks-dir"])
        .arg(corpus())
        .args(extra);
    for (variable, value) in env {
        command.env(variable, value);
    }
    command.output().unwrap()
}

#[test]
fn a_malformed_env_file_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "GENERATOR_QUESTIONS_PER_CHUNK=2\nthis line is not a setting\nGENERATOR_MAX_TOKENS=300\n",
    )
    .unwrap();
    let output = tdg_isolated(dir.path()).arg("plugins").output().unwrap();
    common::assert_fails_with(
        &output,
        ".env, line 2: cannot read `this line is not a setting`",
    );
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn a_bad_environment_value_names_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    // Not a number: clap refuses it, naming the variable instead of the flag.
    let output = dry_run(dir.path(), &[], &[("GENERATOR_CONCURRENCY", "many")]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("invalid value 'many' for 'GENERATOR_CONCURRENCY'"),
        "{}",
        stderr(&output)
    );
    // A number out of range: the check names it too.
    let output = dry_run(dir.path(), &[], &[("GENERATOR_CONCURRENCY", "0")]);
    common::assert_fails_with_code(
        &output,
        78,
        "GENERATOR_CONCURRENCY (--concurrency) must be at least 1",
    );
}

#[test]
fn no_tokens_and_absurd_backoffs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = dry_run(dir.path(), &["--max-tokens", "0"], &[]);
    common::assert_fails_with_code(&output, 78, "--max-tokens must be at least 1");
    let output = dry_run(dir.path(), &[], &[("GENERATOR_MAX_TOKENS", "0")]);
    common::assert_fails_with_code(
        &output,
        78,
        "GENERATOR_MAX_TOKENS (--max-tokens) must be at least 1",
    );
    for absurd in ["0", "86400000"] {
        let output = dry_run(dir.path(), &["--retry-base-ms", absurd], &[]);
        common::assert_fails_with_code(
            &output,
            78,
            "--retry-base-ms must be from 1 to 60000 milliseconds",
        );
    }
    let output = tdg_isolated(dir.path())
        .args(["validate", "--qa-dir", "qa", "--max-tokens", "0"])
        .output()
        .unwrap();
    common::assert_fails_with_code(&output, 78, "--max-tokens must be at least 1");
}

#[test]
fn the_help_states_the_temperature_range_the_code_accepts() {
    let help = stdout(&common::tdg().args(["generate", "--help"]).output().unwrap());
    assert!(
        help.contains("LLM temperature, 0.0 to 2.0 [default: 0.7]"),
        "{help}"
    );
    let dir = tempfile::tempdir().unwrap();
    assert!(
        dry_run(dir.path(), &["--temperature", "2.0"], &[])
            .status
            .success()
    );
    let output = dry_run(dir.path(), &["--temperature", "2.1"], &[]);
    common::assert_fails_with_code(&output, 78, "--temperature must be between 0.0 and 2.0");
}
