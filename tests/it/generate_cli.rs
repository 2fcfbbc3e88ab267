//! `tdg generate` against the mock model server, for every provider, and `tdg combine`.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::mock_server::{Fault, MockServer, chunk_text, pairs_for};
use common::{corpus, fixtures, read_json, tdg_isolated};
use serde_json::{Value, json};

/// Runs `tdg generate` on `chunks` into `qa_dir` with `provider` against `server`.
fn generate(
    server: &MockServer,
    provider: &str,
    chunks: &Path,
    qa_dir: &Path,
    extra: &[&str],
) -> Output {
    common::generate_command(provider, &[&server.url], chunks, qa_dir, extra)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every document of the corpus has a complete Q&A file in the original's layout,
/// with exactly the pairs the mock made for each chunk.
fn assert_corpus_complete(qa_dir: &Path, provider: &str, model: &str) {
    let reference = read_json(fixtures().join("Apache-2.0_qa.json"));
    let reference_keys: Vec<&String> = reference.as_object().unwrap().keys().collect();
    for stem in ["Apache-2.0", "GPL-3", "node-url-api"] {
        let chunks = read_json(corpus().join(format!("{stem}_chunks.json")));
        let qa = read_json(qa_dir.join(format!("{stem}_qa.json")));
        let keys: Vec<&String> = qa.as_object().unwrap().keys().collect();
        assert_eq!(
            keys, reference_keys,
            "{stem}: keys differ from the original's"
        );
        assert_eq!(qa["status"], "completed", "{stem}");
        assert_eq!(qa["metadata"], chunks["metadata"]);
        assert_eq!(qa["processing_info"], chunks["processing_info"]);
        let info = &qa["qa_generation_info"];
        assert_eq!(info["provider"], provider);
        assert_eq!(info["model"], model);
        assert_eq!(info["questions_per_chunk"], 3);
        let total = chunks["chunks"].as_array().unwrap().len();
        assert_eq!(
            qa["completed_chunks"],
            json!((0..total).collect::<Vec<_>>()),
            "{stem}"
        );
        assert_eq!(qa["failed_chunks"], json!([]));
        assert_eq!(
            qa["summary"],
            json!({"total_chunks": total, "completed_chunks": total, "failed_chunks": 0, "total_qa_pairs": total * 3})
        );
        let pairs = qa["training_pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), total * 3, "{stem}");
        let reference_pair_keys: Vec<&String> = reference["training_pairs"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        for (position, chunk) in chunks["chunks"].as_array().unwrap().iter().enumerate() {
            let text = chunk["text"].as_str().unwrap();
            for (i, (question, answer)) in pairs_for(text.trim_end(), 3).into_iter().enumerate() {
                let pair = &pairs[position * 3 + i];
                assert_eq!(
                    pair.as_object().unwrap().keys().collect::<Vec<_>>(),
                    reference_pair_keys
                );
                assert_eq!(
                    pair["question"],
                    question.as_str(),
                    "{stem} chunk {position}"
                );
                assert_eq!(pair["answer"], answer.as_str());
                assert_eq!(pair["chunk_id"], chunk["chunk_id"]);
                assert_eq!(pair["chunk_index"], chunk["chunk_index"]);
                assert_eq!(pair["chunk_start"], chunk["start_char"]);
                assert_eq!(pair["chunk_end"], chunk["end_char"]);
                assert_eq!(pair["source_text"], chunk["text"]);
                assert_eq!(pair["file_name"], chunks["metadata"]["file_name"]);
                assert_eq!(pair["source_file"], chunks["metadata"]["source_file"]);
            }
        }
    }
    let summary = read_json(qa_dir.join("qa_generation_summary.json"));
    let reference_summary = read_json(fixtures().join("qa_generation_summary.json"));
    assert_eq!(
        summary.as_object().unwrap().keys().collect::<Vec<_>>(),
        reference_summary
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>()
    );
    assert_eq!(summary["total_files"], 3);
    assert_eq!(summary["successful_files"], 3);
    assert_eq!(summary["failed_files"], 0);
}

fn run_provider(provider: &str, key_var: Option<(&str, &str)>, model: &str) -> MockServer {
    let server = MockServer::start_with(key_var.map(|(_, key)| key), Some(&[model]));
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    let mut command = tdg_isolated(dir.path());
    command
        .args([
            "generate",
            "--provider",
            provider,
            "--base-url",
            &server.url,
            "--model",
            model,
        ])
        .arg("--chunks-dir")
        .arg(corpus())
        .arg("--qa-dir")
        .arg(&qa_dir);
    if let Some((var, key)) = key_var {
        command.env(var, key);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_corpus_complete(&qa_dir, provider, model);
    assert_eq!(server.request_count(), 17 + 48 + 71);
    // The key never reaches the outputs.
    if let Some((_, key)) = key_var {
        for entry in std::fs::read_dir(&qa_dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(key),
                "{} holds the key",
                path.display()
            );
        }
        assert!(!stderr(&output).contains(key));
    }
    server
}

#[test]
fn openai_runs_the_corpus() {
    let server = run_provider(
        "openai",
        Some(("OPENAI_API_KEY", "sk-test-openai-123")),
        "gpt-4o-mini",
    );
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.headers["authorization"],
        "Bearer sk-test-openai-123"
    );
    assert_eq!(request.body["messages"][0]["role"], "system");
    assert_eq!(request.body["temperature"], 0.7);
    assert_eq!(request.body["max_tokens"], 2000);
}

#[test]
fn claude_runs_the_corpus() {
    let server = run_provider(
        "claude",
        Some(("ANTHROPIC_API_KEY", "sk-ant-test-456")),
        "claude-sonnet-4-5",
    );
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.headers["x-api-key"], "sk-ant-test-456");
    assert_eq!(request.headers["anthropic-version"], "2023-06-01");
    assert!(
        request.body["system"]
            .as_str()
            .unwrap()
            .starts_with("You are an expert")
    );
    assert_eq!(request.body["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn gemini_runs_the_corpus() {
    let server = run_provider(
        "gemini",
        Some(("GEMINI_API_KEY", "g-test-789")),
        "gemini-2.5-flash",
    );
    let request = &server.requests()[0];
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(request.headers["x-goog-api-key"], "g-test-789");
    assert_eq!(
        request.body["generationConfig"],
        json!({"temperature": 0.7, "maxOutputTokens": 2000})
    );
}

#[test]
fn ollama_runs_the_corpus_with_its_options() {
    let server = MockServer::start_with(None, Some(&["qwen3:14b"]));
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    let output = tdg_isolated(dir.path())
        .args([
            "generate",
            "--provider",
            "ollama",
            "--ollama-top-k",
            "40",
            "--ollama-top-p",
            "0.9",
        ])
        .args(["--ollama-stop", "###", "--ollama-stop", "END"])
        .env("OLLAMA_BASE_URL", &server.url)
        .env("OLLAMA_REPEAT_PENALTY", "1.1")
        .env("OLLAMA_NUM_PREDICT", "512")
        .env("GENERATOR_PROCESS_DIR", corpus())
        .env("GENERATOR_OUTPUT_DIR", &qa_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_corpus_complete(&qa_dir, "local", "qwen3:14b");
    let request = &server.requests()[0];
    assert_eq!(request.path, "/api/chat");
    assert_eq!(request.body["stream"], false);
    let options = &request.body["options"];
    assert_eq!(options["top_k"], 40);
    assert_eq!(options["num_predict"], 512);
    assert_eq!(options["stop"], json!(["###", "END"]));
    assert!((options["top_p"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert!((options["repeat_penalty"].as_f64().unwrap() - 1.1).abs() < 1e-6);
}

#[test]
fn structured_output_is_requested_in_each_dialect() {
    let server = MockServer::start();
    for (provider, pointer) in [
        ("openai", "/response_format/json_schema/schema"),
        ("ollama", "/format"),
        ("gemini", "/generationConfig/responseSchema"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let chunks = dir.path().join("chunks");
        std::fs::create_dir(&chunks).unwrap();
        std::fs::write(
            chunks.join("one_chunks.json"),
            json!({"status": "completed", "chunks": [{"text": "Structured output test."}]})
                .to_string(),
        )
        .unwrap();
        let before = server.requests().len();
        let output = generate(
            &server,
            provider,
            &chunks,
            &dir.path().join("qa"),
            &["--structured", "--api-key", "k"],
        );
        assert!(output.status.success(), "{provider}: {}", stderr(&output));
        let request = &server.requests()[before];
        let schema = request
            .body
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{provider}: no schema at {pointer}"));
        // Each pair is asked for its question type, one of the four tdg knows.
        let item = &schema["properties"]["qa_pairs"]["items"];
        assert_eq!(
            item["required"],
            json!(["question", "answer", "type"]),
            "{provider}"
        );
        assert_eq!(
            item["properties"]["type"]["enum"],
            json!(["factual", "analytical", "explanatory", "inferential"]),
            "{provider}"
        );
        // The array holds exactly the pairs asked for (3 by default).
        assert_eq!(
            schema["properties"]["qa_pairs"]["minItems"],
            json!(3),
            "{provider}"
        );
        assert_eq!(
            schema["properties"]["qa_pairs"]["maxItems"],
            json!(3),
            "{provider}"
        );
    }
}

/// A chunks directory holding the given chunk texts as one document.
fn chunks_dir(root: &Path, texts: &[&str]) -> std::path::PathBuf {
    let dir = root.join("chunks");
    std::fs::create_dir_all(&dir).unwrap();
    let chunks: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| json!({"text": text, "chunk_id": format!("0_{i}"), "chunk_index": i, "start_char": i * 100, "end_char": i * 100 + 99}))
        .collect();
    let doc = json!({
        "status": "completed",
        "metadata": {"file_name": "doc.txt", "source_file": "/data/doc.txt", "file_type": ".txt"},
        "processing_info": {"total_chunks": texts.len()},
        "chunks": chunks,
    });
    std::fs::write(dir.join("doc_chunks.json"), doc.to_string()).unwrap();
    dir
}

#[test]
fn messy_answers_are_parsed_and_garbage_is_asked_again() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "MOCK-FENCED The lighthouse keeper logs every passing ship.",
        "MOCK-THINK Tides rise twice a day along this coast.",
        "MOCK-WRAPPED Fog horns sound every thirty seconds.",
        "MOCK-TRUNCATED Storms close the harbour in winter.",
        "MOCK-GARBAGE-ONCE Gulls nest on the northern cliffs.",
        "MOCK-GARBAGE Nothing useful will come of this chunk.",
        "   ",
    ];
    let chunks = chunks_dir(dir.path(), &texts);
    let qa_dir = dir.path().join("qa");
    let output = generate(&server, "openai", &chunks, &qa_dir, &[]);
    // One chunk failed for good: the run says so with exit status 1.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let qa = read_json(qa_dir.join("doc_qa.json"));
    assert_eq!(qa["completed_chunks"], json!([0, 1, 2, 3, 4]));
    assert_eq!(qa["failed_chunks"], json!([5]));
    assert_eq!(qa["status"], "completed");
    let per_chunk = |position: usize| {
        qa["training_pairs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["chunk_id"] == format!("0_{position}"))
            .count()
    };
    assert_eq!(
        [
            per_chunk(0),
            per_chunk(1),
            per_chunk(2),
            per_chunk(3),
            per_chunk(4)
        ],
        [3, 3, 3, 2, 3]
    );
    // Asked again once with the parser's error, and only that, for the garbage chunks
    // (default --parse-retries 1).
    let garbage_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| {
            r.body["messages"][1]["content"]
                .as_str()
                .unwrap()
                .contains("MOCK-GARBAGE")
        })
        .collect();
    assert_eq!(garbage_requests.len(), 4);
    let retry = garbage_requests
        .iter()
        .find(|r| r.body["messages"].as_array().unwrap().len() == 4)
        .unwrap();
    assert!(
        retry.body["messages"][3]["content"]
            .as_str()
            .unwrap()
            .starts_with("The response holds no JSON.")
    );
    // The failure log holds the prompt and the raw answer of the failed chunk.
    let log = common::read(qa_dir.join("qa_generation_failures.jsonl"));
    let entry: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(entry["chunk_position"], 5);
    assert_eq!(
        entry["raw_response"],
        "I am sorry, but I would rather talk about the weather."
    );
    assert!(
        entry["prompt"][1]["content"]
            .as_str()
            .unwrap()
            .contains("Nothing useful will come of this chunk.")
    );
    // The blank chunk was skipped without a request.
    assert_eq!(server.request_count(), 8);
    assert!(stderr(&output).contains("1 skipped"), "{}", stderr(&output));
}

#[test]
fn a_custom_template_and_variables_shape_the_prompt() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = chunks_dir(dir.path(), &["Whales sing in the deep ocean."]);
    let template = dir.path().join("custom.jinja");
    std::fs::write(
        &template,
        "Write {{ num_questions }} pairs for a {{ vars.audience }} reader about {{ document.file_name }} \
         (chunk {{ chunk.id }} at {{ chunk.start }}-{{ chunk.end }}). {{ extra_instructions }}\n\"\"\"\n{{ text }}\n\"\"\"\n",
    )
    .unwrap();
    let output = generate(
        &server,
        "openai",
        &chunks,
        &dir.path().join("qa"),
        &[
            "--qa-prompt-template-file",
            template.to_str().unwrap(),
            "--var",
            "audience=young",
            "--questions-per-chunk",
            "2",
            "--qa-system-message",
            "You write quizzes.",
            "--qa-extra-instructions",
            "Keep it short.",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let request = &server.requests()[0];
    assert_eq!(request.body["messages"][0]["content"], "You write quizzes.");
    let user = request.body["messages"][1]["content"].as_str().unwrap();
    assert_eq!(
        user,
        "Write 2 pairs for a young reader about doc.txt (chunk 0_0 at 0-99). Keep it short.\n\"\"\"\nWhales sing in the deep ocean.\n\"\"\"\n"
    );
    assert_eq!(chunk_text(user), "Whales sing in the deep ocean.");
}

#[test]
fn a_broken_template_is_reported_before_any_request() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = chunks_dir(dir.path(), &["Some text."]);
    let template = dir.path().join("broken.jinja");
    std::fs::write(&template, "Line one\n{% for x in %}\n").unwrap();
    let output = generate(
        &server,
        "openai",
        &chunks,
        &dir.path().join("qa"),
        &["--qa-prompt-template-file", template.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("template {}:2:", template.display())),
        "{message}"
    );
    assert!(message.contains("syntax error"), "{message}");
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_missing_key_names_its_variable_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .args(["generate", "--provider", "claude", "--chunks-dir"])
        .arg(corpus())
        .args(["--qa-dir", "qa"])
        .output()
        .unwrap();
    common::assert_fails_with_code(
        &output,
        78,
        "no API key for claude: set ANTHROPIC_API_KEY or pass --api-key",
    );
    assert!(!dir.path().join("qa").exists());
}

#[test]
fn a_refused_key_stops_the_run_with_one_message_and_no_secret() {
    let server = MockServer::start_with(Some("right-key"), None);
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        &server,
        "openai",
        &corpus(),
        &dir.path().join("qa"),
        &["--api-key", "wrong-key-abcdef"],
    );
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(message.contains("answered HTTP 401"), "{message}");
    assert!(message.contains("OPENAI_API_KEY"), "{message}");
    assert!(!message.contains("wrong-key-abcdef"), "{message}");
    // It stopped at once instead of failing every chunk.
    assert!(
        server.request_count() <= 16,
        "{} requests",
        server.request_count()
    );
}

#[test]
fn an_unknown_model_stops_the_run_and_names_it() {
    let server = MockServer::start_with(None, Some(&["llama3"]));
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        &server,
        "ollama",
        &corpus(),
        &dir.path().join("qa"),
        &["--model", "no-such-model"],
    );
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains("HTTP 404") && message.contains("no-such-model"),
        "{message}"
    );
}

#[test]
fn an_unreachable_server_is_named() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let output = tdg_isolated(dir.path())
        .args([
            "generate",
            "--provider",
            "local",
            "--ollama-base-url",
            &url,
            "--max-retries",
            "1",
            "--retry-base-ms",
            "1",
        ])
        .arg("--chunks-dir")
        .arg(corpus())
        .args(["--qa-dir", "qa"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(75));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot reach the model server at {url}/api/chat")),
        "{message}"
    );
    assert!(
        message.contains("Check that the server is running"),
        "{message}"
    );
}

#[test]
fn transient_faults_are_retried() {
    let server = MockServer::start();
    server.push_faults([
        Fault::rate_limited("0"),
        Fault::status(500),
        Fault::status(503),
        Fault::status(529),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let chunks = chunks_dir(dir.path(), &["Bees dance to share where flowers are."]);
    let output = generate(&server, "openai", &chunks, &dir.path().join("qa"), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.request_count(), 5);
    assert_eq!(
        read_json(dir.path().join("qa/doc_qa.json"))["summary"]["total_qa_pairs"],
        3
    );
}

#[test]
fn unready_broken_and_chunkless_files_are_reported_and_the_rest_go_on() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = chunks_dir(dir.path(), &["Otters hold hands while sleeping."]);
    std::fs::write(
        chunks.join("busy_chunks.json"),
        json!({"status": "processing", "chunks": []}).to_string(),
    )
    .unwrap();
    std::fs::write(
        chunks.join("broken_chunks.json"),
        "{\"status\": \"completed\", \"chunks\": [",
    )
    .unwrap();
    std::fs::write(
        chunks.join("empty_chunks.json"),
        json!({"status": "completed"}).to_string(),
    )
    .unwrap();
    std::fs::write(chunks.join("chunking_summary.json"), "{}").unwrap();
    let qa_dir = dir.path().join("qa");
    let output = generate(&server, "openai", &chunks, &qa_dir, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("busy_chunks.json is not ready: its status is `processing`"),
        "{message}"
    );
    assert!(
        message.contains("broken_chunks.json is not valid JSON"),
        "{message}"
    );
    assert!(
        message.contains("empty_chunks.json has no `chunks` list"),
        "{message}"
    );
    assert_eq!(read_json(qa_dir.join("doc_qa.json"))["status"], "completed");
    let summary = read_json(qa_dir.join("qa_generation_summary.json"));
    assert_eq!(summary["total_files"], 4);
    assert_eq!(summary["successful_files"], 1);
    assert_eq!(summary["failed_files"], 2);
    assert_eq!(summary["qa_files_created"], json!(["doc_qa.json"]));
}

#[test]
fn an_existing_run_is_never_silently_overwritten() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = chunks_dir(
        dir.path(),
        &["Moss grows on the north side.", "Ferns like shade."],
    );
    let qa_dir = dir.path().join("qa");
    assert!(
        generate(&server, "openai", &chunks, &qa_dir, &[])
            .status
            .success()
    );
    let first = common::read(qa_dir.join("doc_qa.json"));

    let again = generate(&server, "openai", &chunks, &qa_dir, &[]);
    assert_eq!(again.status.code(), Some(78));
    let message = stderr(&again);
    assert!(
        message.contains("already holds a run (2 chunks of 1 documents in its checkpoint)"),
        "{message}"
    );
    assert!(
        message.contains("--resume") && message.contains("--overwrite"),
        "{message}"
    );
    assert_eq!(common::read(qa_dir.join("doc_qa.json")), first);
    assert_eq!(server.request_count(), 2);

    let resumed = generate(&server, "openai", &chunks, &qa_dir, &["--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(
        server.request_count(),
        2,
        "a resume of a finished run asks nothing"
    );
    assert_eq!(
        read_json(qa_dir.join("doc_qa.json"))["training_pairs"],
        read_json(qa_dir.join("doc_qa.json"))["training_pairs"]
    );

    let overwritten = generate(&server, "openai", &chunks, &qa_dir, &["--overwrite"]);
    assert!(overwritten.status.success(), "{}", stderr(&overwritten));
    assert_eq!(server.request_count(), 4);
}

#[test]
fn settings_come_from_env_config_file_and_dotenv_in_that_order() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = chunks_dir(dir.path(), &["Comets have tails of ice and dust."]);
    std::fs::write(dir.path().join("tdg.toml"), "provider = \"openai\"\nmodel = \"from-config\"\nquestions_per_chunk = 4\ntemperature = 0.2\n").unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "GENERATOR_MODEL=from-dotenv\nOPENAI_API_KEY=sk-dotenv\nGENERATOR_BASE_URL={}\n",
            server.url
        ),
    )
    .unwrap();
    let output = tdg_isolated(dir.path())
        .args(["generate", "--questions-per-chunk", "2"])
        .env("GENERATOR_TEMPERATURE", "0.4")
        .arg("--chunks-dir")
        .arg(&chunks)
        .args(["--qa-dir", "qa"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let request = &server.requests()[0];
    assert_eq!(
        request.body["model"], "from-dotenv",
        "env (from .env) beats the config file"
    );
    assert_eq!(request.headers["authorization"], "Bearer sk-dotenv");
    assert!(
        (request.body["temperature"].as_f64().unwrap() - 0.4).abs() < 1e-6,
        "env beats the config file"
    );
    assert!(
        request.body["messages"][1]["content"]
            .as_str()
            .unwrap()
            .starts_with("Generate 2 "),
        "the flag beats the config file"
    );
}

#[test]
fn help_shows_each_flags_variable() {
    let output = common::tdg().args(["generate", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "GENERATOR_PROVIDER",
        "GENERATOR_MODEL",
        "GENERATOR_TEMPERATURE",
        "GENERATOR_MAX_TOKENS",
        "GENERATOR_PROCESS_DIR",
        "GENERATOR_OUTPUT_DIR",
        "GENERATOR_QUESTIONS_PER_CHUNK",
        "GENERATOR_BATCH_PROCESSING",
        "GENERATOR_RESUME",
        "OLLAMA_BASE_URL",
        "OLLAMA_TOP_K",
        "OLLAMA_TOP_P",
        "OLLAMA_REPEAT_PENALTY",
        "OLLAMA_NUM_PREDICT",
    ] {
        assert!(
            help.contains(&format!("[env: {variable}")),
            "{variable} missing from --help"
        );
    }
    for flag in [
        "--chunks-dir",
        "--qa-dir",
        "--provider",
        "--model",
        "--api-key",
        "--temperature",
        "--max-tokens",
        "--questions-per-chunk",
        "--qa-system-message",
        "--qa-extra-instructions",
        "--qa-prompt-template-file",
        "--batch-processing",
        "--resume",
        "--ollama-base-url",
        "--ollama-top-k",
        "--ollama-top-p",
        "--ollama-repeat-penalty",
        "--ollama-num-predict",
        "--ollama-stop",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn combine_writes_the_originals_training_data() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    assert!(
        generate(&server, "ollama", &corpus(), &qa_dir, &[])
            .status
            .success()
    );
    // A document that is not finished is skipped with a message.
    let mut unfinished = read_json(qa_dir.join("Apache-2.0_qa.json"));
    unfinished["status"] = json!("interrupted");
    std::fs::write(qa_dir.join("Unfinished_qa.json"), unfinished.to_string()).unwrap();
    let out_file = dir.path().join("results/training_data.json");
    let output = tdg_isolated(dir.path())
        .args(["combine", "--qa-dir"])
        .arg(&qa_dir)
        .arg("--output-file")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("skipping Unfinished_qa.json: its status is `interrupted`"),
        "{}",
        stderr(&output)
    );
    let combined = read_json(&out_file);
    let reference = read_json(fixtures().join("training_data.trimmed.json"));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&combined), keys(&reference));
    assert_eq!(keys(&combined["metadata"]), keys(&reference["metadata"]));
    assert_eq!(
        keys(&combined["metadata"]["processing_config"]),
        keys(&reference["metadata"]["processing_config"])
    );
    assert_eq!(
        keys(&combined["documents"][0]),
        keys(&reference["documents"][0])
    );
    assert_eq!(
        combined["metadata"]["total_qa_pairs"],
        reference["metadata"]["total_qa_pairs"]
    );
    assert_eq!(combined["metadata"]["num_documents"], 3);
    assert_eq!(
        combined["metadata"]["source_qa_files"],
        json!([
            "Apache-2.0_qa.json",
            "GPL-3_qa.json",
            "node-url-api_qa.json"
        ])
    );
    assert_eq!(
        combined["metadata"]["processing_config"],
        reference["metadata"]["processing_config"]
    );
    assert_eq!(combined["training_pairs"].as_array().unwrap().len(), 408);
    assert_eq!(combined["documents"][1]["qa_pairs_count"], 144);
}
