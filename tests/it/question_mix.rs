//! The mix of question types (`--question-types`): the prompt sent asks for it, each
//! pair's type is checked and kept in the checkpoint, the Q&A files carry it only
//! under `--with-quality`, the training files never do, and `stats` counts it.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::mock_server::MockServer;
use common::{read, read_json, tdg_isolated};
use serde_json::{Value, json};
use tdg::checkpoint::{Access, CheckpointStore};

/// A chunk whose pairs the mock labels `Factual`, `inferential` and `opinion`, and
/// one whose pairs carry no type.
const TEXTS: [&str; 2] = [
    "MOCK-TYPED Whales sing long songs in the deep ocean.",
    "Dolphins sleep with one half of the brain at a time.",
];

/// Generates Q&A for the sea document into `root/qa`, with Alpaca training files in
/// `root/training`, and `extra` arguments.
fn generate(server: &MockServer, root: &Path, extra: &[&str]) -> Output {
    let chunks = common::write_document(root, "sea", TEXTS);
    let mut args = vec!["--format", "alpaca", "--training-dir"];
    let training = root.join("training");
    args.push(training.to_str().unwrap());
    args.extend(extra);
    common::generate_command("openai", &[&server.url], &chunks, &root.join("qa"), &args)
        .output()
        .unwrap()
}

/// The `question_type` of each pair of a Q&A file (`null` when absent).
fn types_of(qa: &Value) -> Vec<Value> {
    qa["training_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair.get("question_type").cloned().unwrap_or(Value::Null))
        .collect()
}

#[test]
fn a_mix_is_asked_for_checked_recorded_and_counted() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        &server,
        dir.path(),
        &[
            "--question-types",
            "factual=2,inferential=1",
            "--with-quality",
        ],
    );
    common::assert_success(&output);
    // Under --structured, the schema lets a pair carry only a type asked for.
    let structured = generate(
        &server,
        &dir.path().join("structured"),
        &[
            "--question-types",
            "factual=2,inferential=1",
            "--structured",
        ],
    );
    common::assert_success(&structured);
    let requests = server.requests();
    let schema = &requests.last().unwrap().body["response_format"]["json_schema"]["schema"];
    assert_eq!(
        schema["properties"]["qa_pairs"]["items"]["properties"]["type"]["enum"],
        json!(["factual", "inferential"])
    );

    // The prompt asks for the mix, and for each pair's type.
    let request = &server.requests()[0];
    let user = request.body["messages"][1]["content"].as_str().unwrap();
    assert!(user.starts_with("Generate 3 "), "{user}");
    assert!(
        user.contains("- Ask exactly these types of questions: 2 factual, 1 inferential.\n"),
        "{user}"
    );
    assert!(user.contains(r#""type": "factual"}"#), "{user}");

    // The Q&A file (under --with-quality) gives each pair's type: the labels asked
    // for, lower-cased; `opinion` was not asked for, and the second chunk gave none.
    let qa = read_json(dir.path().join("qa/sea_qa.json"));
    assert_eq!(
        types_of(&qa),
        [
            json!("factual"),
            json!("inferential"),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null
        ]
    );
    assert!(qa["training_pairs"][0]["quality"].is_object());

    // The checkpoint keeps the types and the mix the chunks were asked with.
    let store = CheckpointStore::open_existing(&dir.path().join("qa"), Access::ReadOnly).unwrap();
    let record = store.latest_run_record().unwrap().unwrap();
    assert_eq!(
        record.question_types,
        [("factual".to_string(), 2), ("inferential".to_string(), 1)]
    );
    assert_eq!(record.questions_per_chunk, 3);
    let answers = store.raw_answers().unwrap();
    let stored: Vec<Option<&str>> = answers[0]
        .pairs
        .iter()
        .map(|pair| pair.question_type.as_deref())
        .collect();
    assert_eq!(stored, [Some("factual"), Some("inferential"), None]);
    assert_eq!(answers[0].asked.question_types, ["factual", "inferential"]);
    drop(store);

    // `stats --json` counts the kept pairs by type, per document and in total.
    let stats = tdg_isolated(dir.path())
        .args(["stats", "qa", "--json"])
        .output()
        .unwrap();
    common::assert_success(&stats);
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    let mix = json!({"factual": 1, "inferential": 1, "unlabelled": 4});
    assert_eq!(stats["documents"][0]["question_types"], mix);
    assert_eq!(stats["total"]["question_types"], mix);
    let table = tdg_isolated(dir.path())
        .args(["stats", "qa"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("Question types of kept pairs:"), "{table}");
    assert!(
        table.contains("1 factual, 1 inferential, 4 unlabelled"),
        "{table}"
    );
}

#[test]
fn types_stay_out_of_the_qa_files_without_with_quality_and_out_of_training_files() {
    let (typed, plain) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = MockServer::start();
    let mix = ["--question-types", "factual=2,inferential=1"];
    common::assert_success(&generate(&server, typed.path(), &mix));
    common::assert_success(&generate(&server, plain.path(), &[]));
    // Without a mix, the prompt still asks for diverse types, each labelled.
    let user = server.requests().last().unwrap().body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(user.contains("Ask diverse types of questions"), "{user}");
    assert!(user.contains(r#"in its "type" field"#), "{user}");
    for root in [typed.path(), plain.path()] {
        let qa = read(root.join("qa/sea_qa.json"));
        assert!(!qa.contains("question_type"), "{qa}");
    }
    // The Alpaca records are the same whether a mix was asked or not: no type in them.
    let alpaca = |root: &Path| read(root.join("training/sea_trainingdata.jsonl"));
    assert_eq!(alpaca(typed.path()), alpaca(plain.path()));
    let first: Value = serde_json::from_str(alpaca(typed.path()).lines().next().unwrap()).unwrap();
    assert_eq!(
        first.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["text"]
    );
}

#[test]
fn a_bad_mix_stops_before_any_request() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        &server,
        dir.path(),
        &["--question-types", "factual=2,trivia=1"],
    );
    common::assert_fails_with_code(
        &output,
        78,
        "--question-types must be made of the known question types (factual, analytical, explanatory, inferential); `trivia` is not one",
    );
    let output = generate(
        &server,
        dir.path(),
        &[
            "--question-types",
            "factual=2",
            "--questions-per-chunk",
            "3",
        ],
    );
    common::assert_fails_with_code(&output, 78, "add up to --questions-per-chunk (3)");
    assert_eq!(server.request_count(), 0);
}
