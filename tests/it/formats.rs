//! The format plugins write exactly the fields their consumers document, through
//! `convert` and `generate --format`, as JSON Lines or one JSON array; and plugins are
//! found by name in the plugin directories, or by path.

use crate::common;

use std::path::Path;

use common::mock_server::MockServer;
use common::{fixtures, read, read_json, tdg_isolated};
use serde_json::{Value, json};

/// The shape of a JSON value: its keys (recursively, arrays by their first element)
/// and the kinds of its leaves.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => json!([items.first().map(shape)]),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

/// Converts the reference Q&A file into `dir/out_name` and reads the records back.
fn convert(dir: &Path, out_name: &str, format: &str, extra: &[&str]) -> Vec<Value> {
    let out = dir.join(out_name);
    let output = tdg_isolated(dir)
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .arg("--output-dir")
        .arg(&out)
        .args(["--format", format])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    read(&file)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn alpaca_json_matches_llama_factory_and_axolotl() {
    let dir = tempfile::tempdir().unwrap();
    let sample = read_json(fixtures().join("format-samples/alpaca.json"));
    let records = convert(dir.path(), "plain", "alpaca-json", &[]);
    assert_eq!(records.len(), 51);
    assert_eq!(shape(&records[0]), shape(&sample[0]));
    let qa = read_json(fixtures().join("Apache-2.0_qa.json"));
    assert_eq!(
        records[0],
        json!({"instruction": qa["training_pairs"][0]["question"], "input": "", "output": qa["training_pairs"][0]["answer"]})
    );
    let with_source = convert(
        dir.path(),
        "with-source",
        "alpaca-json",
        &["--format-opt", "input=source"],
    );
    assert_eq!(
        with_source[0]["input"],
        qa["training_pairs"][0]["source_text"]
    );
}

#[test]
fn sharegpt_matches_its_documented_layout() {
    let dir = tempfile::tempdir().unwrap();
    let sample = read_json(fixtures().join("format-samples/sharegpt.json"));
    let records = convert(
        dir.path(),
        "with-system",
        "sharegpt",
        &[
            "--format-opt",
            "system=You answer questions about licenses.",
        ],
    );
    assert_eq!(shape(&records[0]), shape(&sample[0]));
    let froms: Vec<&str> = records[0]["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["from"].as_str().unwrap())
        .collect();
    assert_eq!(froms, ["system", "human", "gpt"]);
    let without_system = convert(dir.path(), "plain", "sharegpt", &[]);
    let froms: Vec<&str> = without_system[0]["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["from"].as_str().unwrap())
        .collect();
    assert_eq!(froms, ["human", "gpt"]);
}

#[test]
fn openai_chat_matches_openai_fine_tuning_and_trl() {
    let dir = tempfile::tempdir().unwrap();
    let sample: Value = serde_json::from_str(
        read(fixtures().join("format-samples/openai-chat.jsonl"))
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let records = convert(
        dir.path(),
        "with-system",
        "openai-chat",
        &["--format-opt", "system=Be brief."],
    );
    assert_eq!(shape(&records[0]), shape(&sample));
    let roles: Vec<&str> = records[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant"]);
    assert_eq!(records[0]["messages"][0]["content"], "Be brief.");
}

#[test]
fn an_unknown_format_option_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .args(["--format", "openai-chat", "--format-opt", "sytem=x"])
        .output()
        .unwrap();
    common::assert_fails_with(
        &output,
        "unknown option `sytem`; the openai-chat format accepts `system=TEXT`",
    );
}

#[test]
fn output_type_json_writes_one_array() {
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .args([
            "--format",
            "alpaca-json",
            "--output-type",
            "json",
            "--output-dir",
            "out",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let records = read_json(dir.path().join("out/Apache-2.0_alpaca.json"));
    assert_eq!(records.as_array().unwrap().len(), 51);
    assert_eq!(
        records[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["instruction", "input", "output"]
    );
}

#[test]
fn convert_accepts_the_combined_training_data() {
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .arg("convert")
        .arg(fixtures().join("training_data.trimmed.json"))
        .args(["--format", "sharegpt", "--output-dir", "out"])
        .output()
        .unwrap();
    common::assert_success(&output);
    let combined = read_json(fixtures().join("training_data.trimmed.json"));
    let lines: Vec<Value> = read(dir.path().join("out/training_data.trimmed_sharegpt.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        combined["training_pairs"].as_array().unwrap().len()
    );
    assert_eq!(
        lines[2]["conversations"][0]["value"],
        combined["training_pairs"][2]["question"]
    );
}

#[test]
fn generate_writes_training_files_as_documents_finish() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .args([
            "generate",
            "--provider",
            "ollama",
            "--ollama-base-url",
            &server.url,
            "--format",
            "openai-chat",
        ])
        .args([
            "--format-opt",
            "system=Answer from the license.",
            "--training-dir",
            "training",
        ])
        .arg("--chunks-dir")
        .arg(common::corpus())
        .args(["--qa-dir", "qa"])
        .output()
        .unwrap();
    common::assert_success(&output);
    for (stem, chunks) in [("Apache-2.0", 17), ("GPL-3", 48), ("node-url-api", 71)] {
        let qa = read_json(dir.path().join(format!("qa/{stem}_qa.json")));
        let lines: Vec<Value> = read(dir.path().join(format!("training/{stem}_chat.jsonl")))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), chunks * 3, "{stem}");
        assert_eq!(
            lines[0]["messages"][1]["content"],
            qa["training_pairs"][0]["question"]
        );
        assert_eq!(
            lines[0]["messages"][0]["content"],
            "Answer from the license."
        );
    }
}

#[test]
fn a_plugin_name_is_found_in_the_plugin_directories() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = common::test_plugin("hostile");
    // ./plugins/<name>.wasm
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    std::fs::copy(&hostile, dir.path().join("plugins/echo.wasm")).unwrap();
    let output = tdg_isolated(dir.path())
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .args(["--format", "echo", "--output-dir", "out"])
        .output()
        .unwrap();
    common::assert_success(&output);
    assert!(read(dir.path().join("out/Apache-2.0_hostile.jsonl")).starts_with("{\"echo\": "));

    // $XDG_CONFIG_HOME/tdg/plugins/<name>.wasm
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(config.path().join("tdg/plugins")).unwrap();
    std::fs::copy(&hostile, config.path().join("tdg/plugins/echo2.wasm")).unwrap();
    let output = tdg_isolated(dir.path())
        .env("XDG_CONFIG_HOME", config.path())
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .args(["--format", "echo2", "--output-dir", "out2"])
        .output()
        .unwrap();
    common::assert_success(&output);

    // An unknown name says where it looked.
    let output = tdg_isolated(dir.path())
        .env("XDG_CONFIG_HOME", config.path())
        .arg("convert")
        .arg(fixtures().join("Apache-2.0_qa.json"))
        .args(["--format", "nowhere"])
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("unknown plugin `nowhere`") && message.contains("tdg/plugins"),
        "{message}"
    );
}

#[test]
fn plugins_lists_every_format() {
    let output = common::tdg().arg("plugins").output().unwrap();
    let listing = String::from_utf8_lossy(&output.stdout);
    for name in ["alpaca-json", "sharegpt", "openai-chat"] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(name) && l.contains("format")),
            "{name}: {listing}"
        );
    }
}
