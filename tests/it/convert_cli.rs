//! `tdg convert`, run as a user runs it.

use crate::common;

use std::ffi::OsStr;
use std::path::Path;

use common::{fixtures, read, tdg};

/// Converts the Apache-2.0 reference Q&A file into `out` with `extra` arguments, and
/// fails the test unless tdg succeeds.
fn convert_reference(out: &Path, extra: &[&OsStr]) {
    let status = tdg()
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .arg("--output-dir")
        .arg(out)
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn alpaca_output_is_byte_identical_to_the_original_tool() {
    let out = tempfile::tempdir().unwrap();
    convert_reference(out.path(), &[]);
    let produced = std::fs::read(out.path().join("Apache-2.0_trainingdata.jsonl")).unwrap();
    let reference = std::fs::read(fixtures().join("Apache-2.0_trainingdata.jsonl")).unwrap();
    assert!(
        produced == reference,
        "output differs from the original tool's"
    );
}

/// Writes a Q&A file with the given pairs into `dir`.
fn write_qa(dir: &std::path::Path, stem: &str, pairs: serde_json::Value) -> std::path::PathBuf {
    let path = dir.join(format!("{stem}_qa.json"));
    std::fs::write(
        &path,
        serde_json::json!({"status": "completed", "training_pairs": pairs}).to_string(),
    )
    .unwrap();
    path
}

#[test]
fn a_directory_converts_every_qa_file_and_skips_incomplete_pairs() {
    let input = tempfile::tempdir().unwrap();
    write_qa(
        input.path(),
        "one",
        serde_json::json!([{"question": "Q1", "answer": "A1"}]),
    );
    write_qa(
        input.path(),
        "two",
        serde_json::json!([{"question": "", "answer": "A"}, {"question": "Q", "answer": ""}, {"question": "Qü", "answer": "Aü"}]),
    );
    std::fs::write(input.path().join("notes.json"), "{}").unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = tdg()
        .arg("convert")
        .arg(input.path())
        .arg("--output-dir")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("skipping training pair 0: it has no question"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipping training pair 1: it has no answer"),
        "{stderr}"
    );
    let mut names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["one_trainingdata.jsonl", "two_trainingdata.jsonl"]);
    let two = read(out.path().join("two_trainingdata.jsonl"));
    assert_eq!(two.lines().count(), 1);
    assert!(
        two.contains("### Instruction:\\nQü\\n\\n### Response:\\nAü"),
        "{two}"
    );
}

#[test]
fn a_broken_file_is_reported_and_the_others_go_on() {
    let input = tempfile::tempdir().unwrap();
    write_qa(
        input.path(),
        "good",
        serde_json::json!([{"question": "Q", "answer": "A"}]),
    );
    std::fs::write(
        input.path().join("broken_qa.json"),
        "{\"training_pairs\": [",
    )
    .unwrap();
    let output = tdg().arg("convert").arg(input.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken_qa.json is not a valid Q&A file"),
        "{stderr}"
    );
    // Without --output-dir, training files go beside the input.
    assert_eq!(
        read(input.path().join("good_trainingdata.jsonl"))
            .lines()
            .count(),
        1
    );
    assert!(!input.path().join("broken_trainingdata.jsonl").exists());
}

#[test]
fn output_file_names_the_single_output() {
    let out = tempfile::tempdir().unwrap();
    convert_reference(
        out.path(),
        &["--output-file".as_ref(), "custom.jsonl".as_ref()],
    );
    assert_eq!(read(out.path().join("custom.jsonl")).lines().count(), 51);
}

#[test]
fn format_options_reach_the_plugin() {
    let out = tempfile::tempdir().unwrap();
    convert_reference(
        out.path(),
        &[
            "--format-opt".as_ref(),
            "preamble=Answer the question.".as_ref(),
        ],
    );
    let first = read(out.path().join("Apache-2.0_trainingdata.jsonl"))
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        first.starts_with(r#"{"text": "Answer the question.\n\n### Instruction:\n"#),
        "{first}"
    );
}

#[test]
fn an_unknown_format_name_lists_the_built_ins() {
    let output = tdg()
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .args(["--format", "alpacca"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown plugin `alpacca`"), "{stderr}");
    assert!(stderr.contains("default-prompt, alpaca"), "{stderr}");
}

#[test]
fn a_format_plugin_is_taken_by_path() {
    let out = tempfile::tempdir().unwrap();
    let plugin = common::test_plugin("hostile");
    convert_reference(out.path(), &["--format".as_ref(), plugin.as_os_str()]);
    let produced = read(out.path().join("Apache-2.0_hostile.jsonl"));
    assert!(
        produced.starts_with(r#"{"echo": "What does the text say about"#),
        "{produced}"
    );
}

#[test]
fn a_missing_input_is_named() {
    let output = tdg().args(["convert", "/nonexistent/qa"]).output().unwrap();
    common::assert_fails_with(&output, "input /nonexistent/qa does not exist");
}

#[test]
fn a_mistyped_flag_is_a_usage_error() {
    let output = tdg()
        .args(["convert", "x", "--output-dirr", "y"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--output-dir"));
}
