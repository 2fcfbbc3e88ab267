//! The tasks beyond single pairs (`--task reasoning|conversation`), against the mock
//! server answering as each provider documents: a reasoning model's trace is kept
//! with its answer wherever the provider returns it, a conversation keeps every
//! exchange, and the exports put both where trainers read them.

mod calibration;
mod conversation;
mod embedded;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::mock_server::{MockServer, Thinking, trace_for};
use crate::common::{assert_success, read_json, tdg_isolated, write_document};

/// Two chunks of real text (the Apache License's first two).
pub(crate) fn licence_chunks(root: &Path) -> PathBuf {
    let corpus = read_json(crate::common::corpus().join("Apache-2.0_chunks.json"));
    let texts: Vec<String> = corpus["chunks"].as_array().unwrap()[1..3]
        .iter()
        .map(|chunk| chunk["text"].as_str().unwrap().to_string())
        .collect();
    write_document(root, "licence", texts)
}

/// `tdg generate` with `provider` at `server` on the two licence chunks into
/// `root/qa`, with `extra` flags; returns the Q&A file.
pub(crate) fn generate(server: &MockServer, provider: &str, root: &Path, extra: &[&str]) -> Value {
    let chunks = licence_chunks(root);
    let qa_dir = root.join("qa");
    let output = tdg_isolated(root)
        .args([
            "generate",
            "--provider",
            provider,
            "--base-url",
            &server.url,
        ])
        .args(["--model", "mock-model", "--questions-per-chunk", "2"])
        .arg("--chunks-dir")
        .arg(&chunks)
        .arg("--qa-dir")
        .arg(&qa_dir)
        .args(extra)
        .env("OPENAI_API_KEY", "sk-test")
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("GEMINI_API_KEY", "g-test")
        .output()
        .unwrap();
    assert_success(&output);
    read_json(qa_dir.join("licence_qa.json"))
}

/// Asserts that each of `pairs` (a Q&A file's) carries the mock server's trace for
/// its chunk as its reasoning; `what` names the run in the message.
pub(crate) fn assert_mock_traces(pairs: &[Value], what: &str) {
    for pair in pairs {
        let chunk = pair["source_text"].as_str().unwrap();
        assert_eq!(
            pair["reasoning"].as_str(),
            Some(trace_for(chunk).as_str()),
            "{what}: {pair:#}"
        );
    }
}

/// The last request body the server saw on `path`.
fn last_body(server: &MockServer, path_part: &str) -> Value {
    server
        .requests()
        .into_iter()
        .rev()
        .find(|request| request.path.contains(path_part))
        .unwrap_or_else(|| panic!("no request to {path_part}"))
        .body
}

#[test]
fn a_reasoning_model_s_trace_is_kept_with_each_answer_from_every_provider() {
    for (provider, path, thinking) in [
        ("local", "/api/chat", Thinking::Apart),
        ("openai", "/v1/chat/completions", Thinking::Apart),
        ("claude", "/v1/messages", Thinking::Apart),
        ("gemini", ":generateContent", Thinking::Apart),
        ("openai", "/v1/chat/completions", Thinking::InText),
    ] {
        let server = MockServer::start();
        server.set_thinking(thinking);
        let dir = tempfile::tempdir().unwrap();
        let qa = generate(&server, provider, dir.path(), &["--task", "reasoning"]);
        let pairs = qa["training_pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), 4, "{provider} {thinking:?}: {qa:#}");
        assert_mock_traces(pairs, &format!("{provider} {thinking:?}"));
        for pair in pairs {
            assert!(!pair["answer"].as_str().unwrap().contains("<think>"));
        }
        // Each provider was asked for its trace as it documents.
        let body = last_body(&server, path);
        match provider {
            "local" => assert_eq!(body["think"], true),
            "claude" => {
                assert_eq!(body["thinking"]["type"], "enabled");
                assert_eq!(body["thinking"]["budget_tokens"], 1024);
            }
            "gemini" => assert_eq!(
                body["generationConfig"]["thinkingConfig"]["includeThoughts"],
                true
            ),
            _ => {}
        }
    }
}

#[test]
fn the_qa_task_asks_for_no_trace_and_keeps_none() {
    let server = MockServer::start();
    server.set_thinking(Thinking::Apart);
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, "local", dir.path(), &[]);
    assert!(last_body(&server, "/api/chat").get("think").is_none());
    let pairs = qa["training_pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 4);
    assert!(
        pairs.iter().all(|pair| pair.get("reasoning").is_none()),
        "{qa:#}"
    );
    assert!(qa["qa_generation_info"].get("task").is_none(), "{qa:#}");
}

#[test]
fn reparse_finds_a_provider_s_separate_trace_again_in_the_raw_answer() {
    let server = MockServer::start();
    server.set_thinking(Thinking::Apart);
    let dir = tempfile::tempdir().unwrap();
    let before = generate(&server, "gemini", dir.path(), &["--task", "reasoning"]);
    let output = tdg_isolated(dir.path())
        .args(["reparse", "--qa-dir"])
        .arg(dir.path().join("qa"))
        .output()
        .unwrap();
    assert_success(&output);
    let after = read_json(dir.path().join("qa/licence_qa.json"));
    assert_eq!(after["training_pairs"], before["training_pairs"]);
}

#[test]
fn without_a_trace_the_reasoning_task_drops_the_pairs_and_says_why() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, "openai", dir.path(), &["--task", "reasoning"]);
    assert_eq!(qa["training_pairs"].as_array().unwrap().len(), 0, "{qa:#}");
    let output = tdg_isolated(dir.path())
        .arg("stats")
        .arg(dir.path().join("qa"))
        .output()
        .unwrap();
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("4 reasoning-empty"), "{stdout}");
}

/// Exports the Q&A directory under `root` as `format` with `extra` flags, and returns
/// what `datasets.load_dataset` reads of the train split's first record (`None`
/// outside CI without Python's `datasets`).
pub(crate) fn exported_first_record(root: &Path, format: &str, extra: &[&str]) -> Option<Value> {
    let out = root.join(format!("export-{format}-{}", extra.join("-")));
    let output = tdg_isolated(root)
        .arg("export")
        .arg(root.join("qa"))
        .arg("--output-dir")
        .arg(&out)
        .args(["--format", format, "--license", "apache-2.0"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&output);
    // What export prints (the trainers' configuration), kept beside the folder.
    std::fs::write(out.with_extension("stdout"), &output.stdout).unwrap();
    crate::export::load::first_train_record(&out)
}

#[test]
fn exported_traces_load_in_datasets_where_the_reasoning_style_puts_them() {
    let server = MockServer::start();
    server.set_thinking(Thinking::Apart);
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, "local", dir.path(), &["--task", "reasoning"]);
    let trace = qa["training_pairs"][0]["reasoning"]
        .as_str()
        .unwrap()
        .to_string();
    let think = exported_first_record(dir.path(), "sharegpt", &[]);
    // The card says which style the records use, and the run's task.
    let card = std::fs::read_to_string(dir.path().join("export-sharegpt-/README.md")).unwrap();
    assert!(card.contains("**Reasoning.** 4 record(s)"), "{card}");
    assert!(card.contains("`--reasoning-style think`"), "{card}");
    assert!(card.contains("--task reasoning"), "{card}");
    let field_export = dir
        .path()
        .join("export-openai-chat---reasoning-style-field");
    let field = exported_first_record(dir.path(), "openai-chat", &["--reasoning-style", "field"]);
    let card = std::fs::read_to_string(field_export.join("README.md")).unwrap();
    assert!(card.contains("`--reasoning-style field`"), "{card}");
    // Axolotl is told to hand the field to the chat template.
    let axolotl = std::fs::read_to_string(field_export.with_extension("stdout")).unwrap();
    assert!(
        axolotl.contains("field_messages: messages\n    message_property_mappings:\n      role: role\n      content: content\n      reasoning_content: reasoning_content\n"),
        "{axolotl}"
    );
    let Some(think) = think else {
        return;
    };
    let turn = &think["conversations"][1];
    assert_eq!(turn["from"], "gpt");
    let value = turn["value"].as_str().unwrap();
    assert!(
        value.starts_with(&format!("<think>\n{trace}\n</think>\n\n")),
        "{think:#}"
    );
    let field = field.unwrap();
    let message = &field["messages"][1];
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["reasoning_content"].as_str(), Some(trace.as_str()));
    assert!(!message["content"].as_str().unwrap().contains("<think>"));
}

#[test]
fn stats_count_reasoning_tokens_apart_and_price_them_as_output() {
    // Gemini counts thoughts apart from the candidates (30 and 50 a request here):
    // both are billed as output.
    let server = MockServer::start();
    server.set_thinking(Thinking::Apart);
    let dir = tempfile::tempdir().unwrap();
    generate(&server, "gemini", dir.path(), &["--task", "reasoning"]);
    let output = tdg_isolated(dir.path())
        .arg("stats")
        .arg(dir.path().join("qa"))
        .output()
        .unwrap();
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Of the 160 tokens out, 60 are reasoning and 100 answers"),
        "{stdout}"
    );
}

#[test]
fn a_provider_batch_keeps_each_trace_as_a_live_run_does() {
    for provider in ["openai", "claude", "gemini"] {
        let server = MockServer::start();
        server.set_thinking(Thinking::Apart);
        let dir = tempfile::tempdir().unwrap();
        let extra = [
            "--task",
            "reasoning",
            "--batch-api",
            "--batch-poll-interval",
            "0.05",
        ];
        let qa = generate(&server, provider, dir.path(), &extra);
        assert_eq!(server.batches_created(), 1, "{provider}");
        let pairs = qa["training_pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), 4, "{provider}: {qa:#}");
        assert_mock_traces(pairs, provider);
    }
}

#[test]
fn tdg_prompt_shows_each_task_s_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let chunks = licence_chunks(dir.path());
    let prompt = |extra: &[&str]| {
        let output = tdg_isolated(dir.path())
            .arg("prompt")
            .arg("--chunks-dir")
            .arg(&chunks)
            .args(["--provider", "openai"])
            .args(extra)
            .output()
            .unwrap();
        assert_success(&output);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let qa = prompt(&[]);
    assert!(
        qa.contains("Generate 3 high-quality question-answer pairs"),
        "{qa}"
    );
    let reasoning = prompt(&["--task", "reasoning"]);
    assert!(
        reasoning.contains("each with a \"question\", a \"reasoning\", an \"answer\""),
        "{reasoning}"
    );
    let conversation = prompt(&["--task", "conversation", "--turns", "4"]);
    assert!(
        conversation.contains("each of 4 exchanges"),
        "{conversation}"
    );
    assert!(conversation.contains("a list of 3 more"), "{conversation}");
    // Quoted answers are for pairs: no other task's prompt asks for them.
    assert!(
        !conversation.contains("one sentence copied from the text"),
        "{conversation}"
    );
}

#[test]
fn shards_merge_into_the_traces_conversations_and_reasoning_tokens_of_one_run() {
    let server = MockServer::start();
    server.set_thinking(Thinking::Apart);
    let dir = tempfile::tempdir().unwrap();
    let chunks = licence_chunks(dir.path());
    let run = |qa_dir: &Path, extra: &[&str]| {
        let output = tdg_isolated(dir.path())
            .args([
                "generate",
                "--provider",
                "gemini",
                "--base-url",
                &server.url,
            ])
            .arg("--chunks-dir")
            .arg(&chunks)
            .arg("--qa-dir")
            .arg(qa_dir)
            .args(["--questions-per-chunk", "2"])
            .args(extra)
            .env("GEMINI_API_KEY", "g-test")
            .output()
            .unwrap();
        assert_success(&output);
    };
    for task in [
        &["--task", "reasoning"][..],
        &["--task", "conversation", "--turns", "3"][..],
    ] {
        let single = dir.path().join(format!("single-{}", task[1]));
        run(&single, task);
        let sharded = dir.path().join(format!("sharded-{}", task[1]));
        for shard in ["0/2", "1/2"] {
            run(&sharded, &[task, &["--shard", shard]].concat());
        }
        let merged = tdg_isolated(dir.path())
            .arg("merge")
            .arg(&sharded)
            .output()
            .unwrap();
        assert_success(&merged);
        let pairs = |qa: &Path| read_json(qa.join("licence_qa.json"))["training_pairs"].clone();
        assert_eq!(pairs(&sharded), pairs(&single), "{task:?}");
        let stats = |qa: &Path| {
            let output = tdg_isolated(dir.path())
                .arg("stats")
                .arg(qa)
                .output()
                .unwrap();
            assert_success(&output);
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .find(|line| line.starts_with("Of the "))
                .map(str::to_string)
        };
        assert_eq!(stats(&sharded), stats(&single), "{task:?}");
        // The reasoning tokens reached the merged checkpoint (the conversation's
        // run asked for no trace).
        assert_eq!(stats(&single).is_some(), task[1] == "reasoning", "{task:?}");
    }
}

#[test]
fn a_model_that_does_not_think_is_asked_again_without_it_once_for_the_run() {
    let server = MockServer::start();
    server.refuse_thinking();
    let dir = tempfile::tempdir().unwrap();
    let chunks = licence_chunks(dir.path());
    let output = tdg_isolated(dir.path())
        .args(["generate", "--provider", "local", "--base-url", &server.url])
        .args(["--task", "reasoning", "--concurrency", "1"])
        .arg("--chunks-dir")
        .arg(&chunks)
        .arg("--qa-dir")
        .arg(dir.path().join("qa"))
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("does not return this model's reasoning")
            .count(),
        1,
        "{stderr}"
    );
    let asked: Vec<bool> = server
        .requests()
        .iter()
        .filter(|request| request.path == "/api/chat")
        .map(|request| request.body.get("think") == Some(&serde_json::json!(true)))
        .collect();
    // One refused request with `think`, then the two chunks without it.
    assert_eq!(asked, [true, false, false], "{stderr}");
    let qa = read_json(dir.path().join("qa/licence_qa.json"));
    assert_eq!(qa["completed_chunks"], serde_json::json!([0, 1]), "{qa:#}");
}
