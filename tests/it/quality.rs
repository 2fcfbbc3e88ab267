//! The quality gate: a server that now and then echoes the prompt's example, repeats
//! a question or answers off the text leaves none of it in the Q&A files; what was
//! dropped stays in the checkpoint, and thresholds change without calling the model.

use crate::common;

use std::path::{Path, PathBuf};

use common::mock_server::MockServer;
use common::{mock_questions, questions, read_json, tdg_isolated};
use serde_json::{Value, json};

const TEMPLATE: &str = "Write {{ num_questions }} question-answer pairs about the text as a JSON array.\n\
Example: [{\"question\": \"What is the main purpose of this policy?\", \"answer\": \"To protect information.\"}]\n\
\"\"\"\n{{ text }}\n\"\"\"\n";

const TEXTS: [&str; 4] = [
    "MOCK-ECHO The harbour master keeps a log of every vessel entering the port.",
    "MOCK-REPEAT Fishing boats return at dawn with their catch for the market.",
    "MOCK-UNGROUNDED The lighthouse beam reaches twenty nautical miles on clear nights.",
    "Storm warnings are raised on the signal mast when winds exceed forty knots.",
];

/// Flags that let the mock's off-text pair ("Which fruit is rich in potassium?")
/// through the default grounding and topic checks.
const KEEP_OFF_TEXT: &[&str] = &["--min-grounding", "0", "--no-topic-filter"];

fn setup(root: &Path) -> (PathBuf, PathBuf) {
    let chunks = common::write_document(root, "port", TEXTS);
    let template = root.join("template.jinja");
    std::fs::write(&template, TEMPLATE).unwrap();
    (chunks, template)
}

fn generate(server: &MockServer, root: &Path, extra: &[&str]) -> std::process::Output {
    let (chunks, template) = setup(root);
    let mut args = vec!["--qa-prompt-template-file", template.to_str().unwrap()];
    args.extend_from_slice(extra);
    common::generate_command("openai", &[&server.url], &chunks, &root.join("qa"), &args)
        .output()
        .unwrap()
}

#[test]
fn echoes_duplicates_and_restatements_are_dropped_but_kept_in_the_checkpoint() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    // The off-text pair is kept here (no grounding or topic check), as the
    // restatement would be without its own check.
    let output = generate(&server, dir.path(), KEEP_OFF_TEXT);
    common::assert_success(&output);
    let qa = read_json(dir.path().join("qa/port_qa.json"));
    let kept = questions(&qa);
    assert!(
        !kept
            .iter()
            .any(|q| q.contains("main purpose of this policy")),
        "an echo survived: {kept:?}"
    );
    assert!(
        !kept.iter().any(|q| q.contains("sky blue")),
        "a restatement survived: {kept:?}"
    );
    assert!(
        !kept.iter().any(|q| q.contains("come back to port")),
        "an answer cut off mid-sentence survived: {kept:?}"
    );
    // No exact or near duplicates: the genuine pairs, plus the off-text one (no threshold).
    let mut expected = mock_questions(&TEXTS);
    expected.insert(9, "Which fruit is rich in potassium?".to_string());
    assert_eq!(kept, expected);
    // The original's keys: no `quality` unless asked for.
    assert!(qa["training_pairs"][0].get("quality").is_none());

    // Everything the model said stays in the checkpoint.
    let store = rusqlite::Connection::open(dir.path().join("qa/.tdg-checkpoint.sqlite3")).unwrap();
    let stored: i64 = store
        .query_row(
            "SELECT SUM(json_array_length(pairs)) FROM chunks",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 12 + 1 + 3 + 1);

    let stats = tdg_isolated(dir.path())
        .args(["stats", "--json", "qa"])
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(
        stats["quality"]["dropped"],
        json!({"duplicate": 1, "echo": 1, "restates-question": 1, "unfinished": 1})
    );
    assert_eq!(stats["total"]["pairs"], kept.len());
    let bucketed: u64 = stats["quality"]["grounding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["pairs"].as_u64().unwrap())
        .sum();
    assert_eq!(bucketed, kept.len() as u64);
}

#[test]
fn min_grounding_drops_ungrounded_answers_and_can_change_without_the_model() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        &server,
        dir.path(),
        &["--min-grounding", "0.5", "--with-quality"],
    );
    common::assert_success(&output);
    let qa = read_json(dir.path().join("qa/port_qa.json"));
    assert_eq!(questions(&qa), mock_questions(&TEXTS));
    // --with-quality: each pair's score and evidence span, which lies in its chunk.
    for pair in qa["training_pairs"].as_array().unwrap() {
        let quality = &pair["quality"];
        assert!(quality["grounding"].as_f64().unwrap() >= 0.5, "{pair}");
        let (start, end) = (
            quality["evidence"]["start"].as_u64().unwrap() as usize,
            quality["evidence"]["end"].as_u64().unwrap() as usize,
        );
        let source: Vec<char> = pair["source_text"].as_str().unwrap().chars().collect();
        assert!(start < end && end <= source.len(), "{pair}");
        assert_eq!(quality["reasons"], json!([]));
    }
    let requests = server.request_count();

    // Lower the threshold on resume: the off-text pair comes back, no request is made.
    let output = generate(
        &server,
        dir.path(),
        &["--resume", "--min-grounding", "0", "--no-topic-filter"],
    );
    common::assert_success(&output);
    assert_eq!(server.request_count(), requests);
    assert!(
        questions(&read_json(dir.path().join("qa/port_qa.json")))
            .contains(&"Which fruit is rich in potassium?".to_string())
    );
}

#[test]
fn each_filter_can_be_turned_off() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        &server,
        dir.path(),
        &[
            "--no-echo-filter",
            "--no-restate-filter",
            "--dedupe",
            "off",
            "--min-grounding",
            "0",
            "--no-topic-filter",
            "--no-placeholder-filter",
            "--no-question-form-filter",
            "--no-thin-answer-filter",
            "--no-repetition-filter",
            "--no-unfinished-filter",
        ],
    );
    common::assert_success(&output);
    let kept = questions(&read_json(dir.path().join("qa/port_qa.json")));
    assert_eq!(kept.len(), 17);
    for survivor in ["main purpose of this policy", "come back to port"] {
        assert!(kept.iter().any(|q| q.contains(survivor)), "{survivor}");
    }
}

fn validate(dir: &Path, extra: &[&str]) -> std::process::Output {
    tdg_isolated(dir)
        .args(["validate", "--qa-dir", "qa", "--retry-base-ms", "1"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn validate_scores_every_pair_resumes_exactly_and_min_score_drops_failures() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    // The off-text banana pair must reach the judge.
    assert!(
        generate(&server, dir.path(), KEEP_OFF_TEXT)
            .status
            .success()
    );
    let generated = server.request_count();
    let kept = questions(&read_json(dir.path().join("qa/port_qa.json")));

    // By default the judge is the run's own provider, model and server.
    let output = validate(dir.path(), &[]);
    common::assert_success(&output);
    assert_eq!(
        server.request_count() - generated,
        kept.len(),
        "one judgment per kept pair"
    );
    let judge_request = server.requests().last().unwrap().clone();
    assert_eq!(judge_request.path, "/v1/chat/completions");
    assert!(
        judge_request.body["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("Question: ")
    );

    let stats = tdg_isolated(dir.path())
        .args(["stats", "--json", "qa"])
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    let judge = &stats["quality"]["judge"];
    assert_eq!(judge["scored"], kept.len());
    assert_eq!(
        judge["passed"],
        kept.len() - 1,
        "the banana answer fails (overall 3.2)"
    );
    assert_eq!(judge["failed"], 0);

    // Exact resume: nothing left to judge, no request.
    let before = server.request_count();
    assert!(validate(dir.path(), &[]).status.success());
    assert_eq!(server.request_count(), before);

    // --min-score drops the failing pair from the Q&A file, not from the checkpoint.
    assert!(validate(dir.path(), &["--min-score", "8"]).status.success());
    let after = questions(&read_json(dir.path().join("qa/port_qa.json")));
    assert_eq!(after.len(), kept.len() - 1);
    assert!(!after.iter().any(|q| q.contains("potassium")));
    let store = rusqlite::Connection::open(dir.path().join("qa/.tdg-checkpoint.sqlite3")).unwrap();
    let overall: f64 = store
        .query_row(
            "SELECT overall FROM judgments WHERE question = 'Which fruit is rich in potassium?'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!((overall - 3.2).abs() < 1e-9, "{overall}");
}

#[test]
fn validate_never_invents_a_score() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = dir.path().join("chunks");
    std::fs::create_dir_all(&chunks).unwrap();
    let list = json!([{"text": "MOCK-JUDGE-GARBAGE Gulls follow the ferry across the bay."}]);
    std::fs::write(
        chunks.join("bay_chunks.json"),
        json!({"chunks": list}).to_string(),
    )
    .unwrap();
    let qa_dir = dir.path().join("qa");
    assert!(
        common::generate_command("openai", &[&server.url], &chunks, &qa_dir, &[])
            .output()
            .unwrap()
            .status
            .success()
    );
    let output = validate(dir.path(), &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "unreadable judgments are reported"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("could not be read"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let store = rusqlite::Connection::open(qa_dir.join(".tdg-checkpoint.sqlite3")).unwrap();
    let (scored, unscored): (i64, i64) = store
        .query_row("SELECT COUNT(overall), SUM(overall IS NULL AND error IS NOT NULL AND raw_response IS NOT NULL) FROM judgments", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((scored, unscored), (0, 3));
    // Failed judgments are asked again on the next run (each asked twice: one parse retry).
    let before = server.request_count();
    assert_eq!(validate(dir.path(), &[]).status.code(), Some(1));
    assert_eq!(server.request_count() - before, 6);
}
