//! The embedded engine on a real model: SmolLM2-135M-Instruct (Q4_1) on real chunks
//! of the bundled corpus. Every answer parses under the grammar and quotes its chunk,
//! the pairs go through the quality gate, a resume after SIGKILL is exact, and Ctrl+C is clean.
//!
//! The model comes from `TDG_TEST_MODEL`, else `scripts/fetch-test-model.sh`'s cache.
//! Without it these tests are skipped with a message, except under `CI=true`, where
//! they fail.

#![cfg(feature = "embedded")]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{corpus, read_json, tdg};
use serde_json::{Value, json};
use tdg::checkpoint::{CheckpointStore, ChunkStatus};
use tdg::provider::AnswerQuotes;

/// The test model's path, or `None` (outside CI) to skip.
pub(crate) fn test_model() -> Option<PathBuf> {
    let path = std::env::var_os("TDG_TEST_MODEL")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("TDG_TEST_MODEL_DIR")
                .map(PathBuf::from)
                .or_else(|| dirs::home_dir().map(|home| home.join(".cache/tdg-test-models")))?;
            Some(cache.join("SmolLM2-135M-Instruct.Q4_1.gguf"))
        })
        .filter(|path| path.is_file());
    if path.is_none() {
        let message = "no test model: run scripts/fetch-test-model.sh and set TDG_TEST_MODEL to the path it prints";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
    }
    path
}

/// `root/chunks/GPL-3_chunks.json` holding the first `count` chunks of the bundled one.
pub(crate) fn first_chunks(root: &Path, count: usize) -> PathBuf {
    let mut document = read_json(corpus().join("GPL-3_chunks.json"));
    let chunks = document["chunks"].as_array_mut().unwrap();
    chunks.truncate(count);
    let dir = root.join("chunks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("GPL-3_chunks.json"), document.to_string()).unwrap();
    dir
}

/// OpenMP's threads spin while they wait, so engines in tests that run side by side
/// on two cores slow each other down fivefold; passive waiting lets them share.
pub(crate) const OMP_WAIT_POLICY: (&str, &str) = ("OMP_WAIT_POLICY", "PASSIVE");

/// `tdg generate` with the embedded engine, small answers, two threads.
pub(crate) fn generate(model: &Path, chunks: &Path, qa_dir: &Path, extra: &[&str]) -> Command {
    let mut command = tdg();
    command
        .env(OMP_WAIT_POLICY.0, OMP_WAIT_POLICY.1)
        .args(["generate", "--provider", "embedded", "--model"])
        .arg(model)
        .arg("--chunks-dir")
        .arg(chunks)
        .arg("--qa-dir")
        .arg(qa_dir)
        .args(["--threads", "2"]);
    // Small answers at a low temperature, unless the test says otherwise.
    for (flag, default) in [("--max-tokens", "300"), ("--temperature", "0.2")] {
        if !extra.contains(&flag) {
            command.args([flag, default]);
        }
    }
    command
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every recorded chunk, by position: (status, raw answer, pair count).
pub(crate) fn recorded(qa_dir: &Path) -> Vec<(u32, ChunkStatus, String, usize)> {
    let store = CheckpointStore::open(qa_dir).unwrap();
    store
        .raw_answers()
        .unwrap()
        .into_iter()
        .map(|raw| (raw.position, raw.status, raw.raw_response, raw.pairs.len()))
        .collect()
}

#[test]
fn every_answer_parses_under_the_grammar_and_goes_through_the_quality_gate() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let chunks = first_chunks(dir.path(), 6);
    let qa_dir = dir.path().join("qa");
    let output = generate(
        &model,
        &chunks,
        &qa_dir,
        &["--concurrency", "3", "--with-quality"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let answers = recorded(&qa_dir);
    assert_eq!(answers.len(), 6, "one answer per chunk");
    let texts = read_json(chunks.join("GPL-3_chunks.json"));
    let single_spaced = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (position, status, raw, pairs) in &answers {
        // Answers are quoted by default on the embedded engine: each is a sentence (or
        // a clause, its stop made a full stop) of its chunk, written before its question.
        let text = texts["chunks"][*position as usize]["text"]
            .as_str()
            .unwrap();
        let chunk = single_spaced(text);
        let raw_items: Value = serde_json::from_str(raw).unwrap_or_default();
        for item in raw_items["qa_pairs"].as_array().into_iter().flatten() {
            let answer = single_spaced(item["answer"].as_str().unwrap_or_default());
            let quoted = answer.trim_end_matches(['.', ';', ',']);
            assert!(
                answer.len() > 10 && chunk.contains(quoted),
                "chunk {position}: the answer is not quoted from it: {answer:?}\n{chunk}"
            );
        }
        assert!(
            raw.find("\"answer\"") < raw.find("\"question\""),
            "chunk {position}: the answer comes first: {raw}"
        );
        let json: Value = serde_json::from_str(raw)
            .unwrap_or_else(|e| panic!("chunk {position}: not JSON ({e}): {raw}"));
        let items = json["qa_pairs"].as_array().expect("qa_pairs");
        // Three pairs, or one per quotable sentence of a chunk with fewer.
        let asked = AnswerQuotes::for_answer(text, 3, 300).map_or(3, |quotes| quotes.pairs());
        assert!(asked >= 1);
        assert_eq!(
            items.len(),
            asked,
            "chunk {position}: the grammar asks for {asked}: {raw}"
        );
        for item in items {
            assert!(
                item["question"].is_string() && item["answer"].is_string(),
                "{raw}"
            );
        }
        assert_eq!(*status, ChunkStatus::Completed, "chunk {position}: {raw}");
        assert_eq!(
            *pairs, asked,
            "chunk {position}: the parser read every pair"
        );
    }

    // The quality gate saw every pair: each kept one carries its score, and the
    // stats account for all of them (kept or dropped by a named reason).
    let qa = read_json(qa_dir.join("GPL-3_qa.json"));
    assert_eq!(qa["status"], "completed");
    let kept = qa["training_pairs"].as_array().unwrap();
    for pair in kept {
        let grounding = pair["quality"]["grounding"]
            .as_f64()
            .expect("a grounding score");
        assert!((0.0..=1.0).contains(&grounding), "{pair}");
    }
    let stats = tdg()
        .args(["stats", "--json"])
        .arg(&qa_dir)
        .output()
        .unwrap();
    assert!(stats.status.success(), "{}", stderr(&stats));
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    let total = &stats["total"];
    assert_eq!(total["chunks_completed"], json!(6), "{stats}");
    assert!(total["tokens_in"].as_u64().unwrap() > 6 * 100, "{stats}");
    assert!(total["tokens_out"].as_u64().unwrap() > 6 * 20, "{stats}");
}

#[test]
fn a_resume_after_sigkill_is_exact() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let chunks = first_chunks(dir.path(), 5);
    let qa_dir = dir.path().join("qa");
    let mut child = generate(&model, &chunks, &qa_dir, &["--concurrency", "2"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(Instant::now() < deadline, "no chunk finished in time");
        if CheckpointStore::path_in(&qa_dir).exists()
            && std::panic::catch_unwind(|| recorded(&qa_dir).len()).unwrap_or(0) >= 1
        {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be killed");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = recorded(&qa_dir);
    assert!(
        !before.is_empty() && before.len() < 5,
        "{} recorded",
        before.len()
    );

    let output = generate(
        &model,
        &chunks,
        &qa_dir,
        &["--concurrency", "2", "--resume"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let after = recorded(&qa_dir);
    let positions: Vec<u32> = after.iter().map(|a| a.0).collect();
    assert_eq!(positions, [0, 1, 2, 3, 4], "each chunk once");
    for done in &before {
        let again = after.iter().find(|a| a.0 == done.0).unwrap();
        assert_eq!(again.2, done.2, "chunk {} was asked again", done.0);
    }
    let qa = read_json(qa_dir.join("GPL-3_qa.json"));
    assert_eq!(qa["status"], "completed");
    assert_eq!(qa["completed_chunks"], json!([0, 1, 2, 3, 4]));
}

#[test]
fn a_slot_reusing_its_cached_prompt_prefix_answers_as_a_fresh_one_would() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    // One slot: chunk 0, then chunk 1 (whose prompt shares only the template's prefix
    // with chunk 0's), then chunk 0's text again, which the slot serves from chunk 1's
    // cached prefix plus the rest decoded anew.
    let mut document = read_json(corpus().join("GPL-3_chunks.json"));
    let chunks = document["chunks"].as_array_mut().unwrap();
    let mut again = chunks[0].clone();
    again["chunk_id"] = serde_json::json!("again");
    chunks.truncate(2);
    chunks.push(again);
    let chunks_dir = dir.path().join("chunks");
    std::fs::create_dir_all(&chunks_dir).unwrap();
    std::fs::write(chunks_dir.join("GPL-3_chunks.json"), document.to_string()).unwrap();
    let qa_dir = dir.path().join("qa");
    let output = generate(
        &model,
        &chunks_dir,
        &qa_dir,
        &[
            "--concurrency",
            "1",
            "--temperature",
            "0",
            "--max-tokens",
            "120",
            "-v",
        ],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stderr(&output);
    let reused: u64 = log
        .split("embedded engine reused ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no reuse figure in: {log}"));
    assert!(reused > 100, "only {reused} prompt tokens reused");
    let answers = recorded(&qa_dir);
    assert_eq!(answers.len(), 3);
    // Greedy decoding: the same prompt gives the same answer, cached prefix or not.
    assert_eq!(answers[2].2, answers[0].2);
    assert_ne!(answers[1].2, answers[0].2);
}

#[test]
fn ctrl_c_stops_between_decode_steps_and_saves_everything() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let chunks = first_chunks(dir.path(), 12);
    let qa_dir = dir.path().join("qa");
    let child = generate(&model, &chunks, &qa_dir, &["--concurrency", "2"])
        .spawn()
        .unwrap();
    // Let the engine load and start decoding.
    std::thread::sleep(Duration::from_secs(4));
    let interrupted_at = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(20),
        "Ctrl+C took {:?}",
        interrupted_at.elapsed()
    );
    let qa = read_json(qa_dir.join("GPL-3_qa.json"));
    assert_eq!(qa["status"], "interrupted");
    let before = recorded(&qa_dir);
    assert!(before.len() < 12, "the run was not stopped");

    // Every answer recorded is whole, and a resume finishes exactly the rest.
    let output = generate(
        &model,
        &chunks,
        &qa_dir,
        &["--concurrency", "4", "--resume"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let after = recorded(&qa_dir);
    assert_eq!(after.len(), 12);
    for done in &before {
        let again = after.iter().find(|a| a.0 == done.0).unwrap();
        assert_eq!(again.2, done.2, "chunk {} was asked again", done.0);
    }
}

/// The README's quick-start command, with `--qa-dir` and `--limit` replaced.
/// The README's quick start after its install step: `tdg chunk …` and `tdg generate
/// …`, each as its arguments, run in `dir` with the repository's paths made absolute,
/// the chunks folder inside `dir`, `--qa-dir` and `--limit` replaced.
fn quick_start_commands(dir: &Path, qa_dir: &Path, limit: &str) -> Vec<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|line| line.contains("&& tdg generate "))
        .expect("the README's quick start runs tdg generate");
    let commands: Vec<Vec<String>> = line
        .split(" && ")
        .filter_map(|command| command.trim().strip_prefix("tdg "))
        .map(|command| {
            command
                .split_whitespace()
                .map(|argument| match argument {
                    "tests/fixtures/documents" => root.join(argument).display().to_string(),
                    "chunks" => dir.join("chunks").display().to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(
        commands.iter().map(|c| c[0].as_str()).collect::<Vec<_>>(),
        ["chunk", "generate"],
        "the quick start chunks the bundled documents, then generates: {line}"
    );
    let mut commands = commands;
    let generate = &mut commands[1];
    for (flag, value) in [("--qa-dir", qa_dir.to_str().unwrap()), ("--limit", limit)] {
        let at = generate
            .iter()
            .position(|argument| argument == flag)
            .unwrap_or_else(|| panic!("the quick start gives {flag}: {line}"));
        generate[at + 1] = value.to_string();
    }
    commands
}

#[test]
fn the_quick_start_fetches_the_default_model_from_the_hub_and_limit_asks_for_the_first_chunks() {
    let Some(model) = test_model() else { return };
    // A fake hub serves the test model under the default model's name.
    let hub = crate::common::fake_hub::FakeHub::start();
    let commit = "0123456789abcdef0123456789abcdef01234567";
    hub.add(
        tdg::provider::embedded::DEFAULT_MODEL,
        crate::common::fake_hub::Served::new(std::fs::read(&model).unwrap(), commit),
    );
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa_results");
    let hf_home = dir.path().join("hf");
    let commands = quick_start_commands(dir.path(), &qa_dir, "2");
    let chunked = common::tdg_isolated(dir.path())
        .args(&commands[0])
        .output()
        .unwrap();
    assert!(chunked.status.success(), "{}", stderr(&chunked));
    let run = |offline: bool, extra: &[&str]| {
        let mut command = common::tdg_isolated(dir.path());
        command
            .args(&commands[1])
            .args(["--threads", "2", "--max-tokens", "300"])
            .args(extra)
            .env(OMP_WAIT_POLICY.0, OMP_WAIT_POLICY.1)
            .env("HF_HOME", &hf_home)
            .env("HF_ENDPOINT", &hub.url);
        if offline {
            command.env("HF_HUB_OFFLINE", "1");
        }
        command.output().unwrap()
    };
    let output = run(false, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no provider configured: using the embedded engine"),
        "{}",
        stderr(&output)
    );
    // Stored the way the Hub's own tools store it, and used from there.
    let (org_repo, file) = tdg::provider::embedded::DEFAULT_MODEL
        .rsplit_once('/')
        .unwrap();
    let cached = hf_home
        .join("hub")
        .join(format!("models--{}", org_repo.replace('/', "--")))
        .join("snapshots")
        .join(commit)
        .join(file);
    assert_eq!(
        std::fs::metadata(&cached).unwrap().len(),
        std::fs::metadata(&model).unwrap().len()
    );
    // `--limit 2`: the first two chunks in name order, and nothing else.
    let positions: Vec<u32> = recorded(&qa_dir).iter().map(|a| a.0).collect();
    assert_eq!(positions, [0, 1]);
    let qa = read_json(qa_dir.join("Apache-2.0_qa.json"));
    assert_eq!(qa["status"], "in_progress", "the document is not finished");
    assert!(!qa_dir.join("GPL-3_qa.json").exists());

    // The next run finds the model in the cache, even offline, and continues.
    let requests = hub.requests().len();
    let again = run(true, &["--resume"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(hub.requests().len(), requests, "offline: not one request");
    let positions: Vec<u32> = recorded(&qa_dir).iter().map(|a| a.0).collect();
    assert_eq!(positions, [0, 1, 2, 3], "the next two chunks");

    let chunks = first_chunks(dir.path(), 2);
    let prompt = tdg()
        .args(["prompt", "--provider", "embedded", "--model"])
        .arg(&model)
        .arg("--chunks-dir")
        .arg(&chunks)
        .output()
        .unwrap();
    assert!(prompt.status.success(), "{}", stderr(&prompt));
    let text = String::from_utf8_lossy(&prompt.stdout);
    let (_, templated) = text
        .split_once("## text the model sees (after its chat template: the model's own)\n")
        .unwrap_or_else(|| panic!("no templated text: {text}"));
    // SmolLM2's template is ChatML.
    assert!(templated.starts_with("<|im_start|>system\n"), "{templated}");
    // Answers are quoted by default here, and the instructions say so.
    assert!(
        templated.contains(tdg::prompt::QUOTED_ANSWERS_INSTRUCTION),
        "{templated}"
    );
    assert!(
        templated.trim_end().ends_with("<|im_start|>assistant"),
        "{templated}"
    );
}
