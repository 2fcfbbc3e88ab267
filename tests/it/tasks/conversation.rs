//! `--task conversation` against the mock: every exchange kept in the Q&A file, every
//! turn in the chat exports, the first exchange alone in Alpaca (said once), and a
//! follow-up that fails the gate cutting or dropping its conversation.

use serde_json::{Value, json};

use super::{exported_first_record, generate};
use crate::common::mock_server::MockServer;
use crate::common::{assert_success, read_json, tdg_isolated, write_document};

#[test]
fn a_conversation_keeps_its_three_exchanges_in_the_qa_file_and_the_chat_exports() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(
        &server,
        "openai",
        dir.path(),
        &["--task", "conversation", "--turns", "3"],
    );
    let pairs = qa["training_pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 4, "{qa:#}");
    for pair in pairs {
        let dialogue = pair["conversation"].as_array().unwrap();
        assert_eq!(dialogue.len(), 3, "{pair:#}");
        // The first exchange is the pair's own question and answer.
        assert_eq!(dialogue[0]["question"], pair["question"]);
        assert_eq!(dialogue[0]["answer"], pair["answer"]);
        assert!(
            dialogue[1]["question"]
                .as_str()
                .unwrap()
                .starts_with("Building on that")
        );
    }
    let Some(record) = exported_first_record(dir.path(), "sharegpt", &[]) else {
        return;
    };
    let turns = record["conversations"].as_array().unwrap();
    let from: Vec<&str> = turns.iter().map(|t| t["from"].as_str().unwrap()).collect();
    assert_eq!(from, ["human", "gpt", "human", "gpt", "human", "gpt"]);
    let messages = exported_first_record(
        dir.path(),
        "openai-chat",
        &[
            "--format-opt",
            "system=You answer questions about licences.",
        ],
    )
    .unwrap();
    let roles: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "system",
            "user",
            "assistant",
            "user",
            "assistant",
            "user",
            "assistant"
        ]
    );
}

#[test]
fn alpaca_writes_each_conversation_s_first_exchange_and_says_so_once() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, "local", dir.path(), &["--task", "conversation"]);
    let out = dir.path().join("alpaca");
    let output = tdg_isolated(dir.path())
        .arg("convert")
        .arg(dir.path().join("qa"))
        .arg("--output-dir")
        .arg(&out)
        .args(["--format", "alpaca-json"])
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("each conversation's first exchange only")
            .count(),
        1,
        "{stderr}"
    );
    let text = std::fs::read_to_string(out.join("licence_qa_alpaca.jsonl"))
        .or_else(|_| std::fs::read_to_string(out.join("licence_alpaca.jsonl")))
        .unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4);
    for (record, pair) in records.iter().zip(qa["training_pairs"].as_array().unwrap()) {
        assert_eq!(record["instruction"], pair["question"]);
        assert_eq!(record["output"], pair["answer"]);
    }
}

/// Generates conversations on one chunk whose last follow-up wanders off the text,
/// with `cut` (`--conversation-cut`), and returns the Q&A file.
fn off_topic_turn(cut: &str) -> (Value, String) {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let text = "MOCK-OFF-TOPIC-TURN Licensor grants a perpetual, worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license to reproduce the Work. Each Contributor grants You a patent license to make, use, sell and import the Work. You may redistribute copies of the Work in any medium, with or without modifications.";
    let chunks = write_document(dir.path(), "grant", [text]);
    let qa_dir = dir.path().join("qa");
    let output = tdg_isolated(dir.path())
        .args([
            "generate",
            "--provider",
            "openai",
            "--base-url",
            &server.url,
        ])
        .args([
            "--task",
            "conversation",
            "--turns",
            "3",
            "--questions-per-chunk",
            "1",
        ])
        .args(["--conversation-cut", cut])
        .arg("--chunks-dir")
        .arg(&chunks)
        .arg("--qa-dir")
        .arg(&qa_dir)
        .env("OPENAI_API_KEY", "sk-test")
        .output()
        .unwrap();
    assert_success(&output);
    let stats = tdg_isolated(dir.path())
        .arg("stats")
        .arg(&qa_dir)
        .output()
        .unwrap();
    assert_success(&stats);
    (
        read_json(qa_dir.join("grant_qa.json")),
        String::from_utf8_lossy(&stats.stdout).into_owned(),
    )
}

#[test]
fn a_follow_up_that_fails_the_gate_cuts_its_conversation_or_drops_it() {
    let (cut, stats) = off_topic_turn("cut");
    let pairs = cut["training_pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "{cut:#}");
    assert_eq!(
        pairs[0]["conversation"].as_array().unwrap().len(),
        2,
        "{cut:#}"
    );
    assert!(
        stats.contains("Conversations cut by the quality gate: 1"),
        "{stats}"
    );
    let (dropped, stats) = off_topic_turn("drop");
    assert_eq!(
        dropped["training_pairs"].as_array().unwrap().len(),
        0,
        "{dropped:#}"
    );
    assert!(stats.contains("1 ungrounded"), "{stats}");
}

#[test]
fn the_review_page_gets_each_conversation_s_turns_and_says_where_the_gate_cut_it() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(
        &server,
        "openai",
        dir.path(),
        &["--task", "conversation", "--turns", "3"],
    );
    let pair = &qa["training_pairs"][0];
    let review = crate::review::ReviewServer::start(&dir.path().join("qa"));
    let (status, page) = review.get("/api/pairs?limit=50");
    assert_eq!(status, 200, "{page}");
    let shown = page["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["question"] == pair["question"])
        .unwrap_or_else(|| panic!("{page:#}"));
    let follow_ups = shown["follow_ups"].as_array().unwrap();
    assert_eq!(follow_ups.len(), 2, "{shown:#}");
    assert_eq!(follow_ups[0]["answer"], pair["conversation"][1]["answer"]);
    assert!(shown["cut_at"].is_null(), "{shown:#}");

    // An edit of one turn is an edit of that example: the Q&A file's dialogue takes
    // it, and the model's text stays in the checkpoint.
    let mut turns: Vec<Value> = follow_ups.clone();
    turns[1]["answer"] = json!("An answer the reviewer wrote.");
    let (status, decided) = review.decide(&json!({
        "stem": shown["stem"], "position": shown["position"], "question": shown["question"],
        "action": "edit", "new_question": shown["question"], "new_answer": shown["answer"],
        "new_follow_ups": turns,
    }));
    assert_eq!(status, 200, "{decided}");
    assert_eq!(
        decided["pair"]["edited"]["follow_ups"][1]["answer"],
        "An answer the reviewer wrote."
    );
    let file = read_json(dir.path().join("qa/licence_qa.json"));
    let edited = file["training_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["question"] == pair["question"])
        .unwrap();
    assert_eq!(
        edited["conversation"][2]["answer"],
        "An answer the reviewer wrote."
    );
    assert_eq!(edited["conversation"][1], pair["conversation"][1]);
    // A blank turn is refused, naming it.
    turns[0]["question"] = json!("  ");
    let (status, refused) = review.decide(&json!({
        "stem": shown["stem"], "position": shown["position"], "question": shown["question"],
        "action": "edit", "new_question": shown["question"], "new_answer": shown["answer"],
        "new_follow_ups": turns,
    }));
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("new_follow_ups[0].question")
    );
}
