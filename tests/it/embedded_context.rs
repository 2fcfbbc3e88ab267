//! The embedded engine at the edges of its context and its chat template, on the
//! real test model: a chunk whose prompt leaves less room than `--max-tokens` is
//! answered within the room left (the answer still parses) and said per chunk with
//! the `--context-size` that fits; a prompt that does not fit at all is refused with
//! that advice, never "lower --max-tokens"; a model that carries no chat template is
//! said so once and prompted in the template its special tokens tell; and
//! `--chat-template` takes a llama.cpp name or a Jinja file, which `tdg prompt` shows.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tdg::checkpoint::ChunkStatus;

use crate::common::{corpus, read_json, tdg};
use crate::embedded::{OMP_WAIT_POLICY, generate, recorded, stderr, test_model};

/// `root/long/GPL-3_chunks.json` with one chunk: the first `count` chunks of the
/// bundled file as one text (about 250 tokens each).
fn one_long_chunk(root: &Path, count: usize) -> PathBuf {
    let mut document = read_json(corpus().join("GPL-3_chunks.json"));
    let chunks = document["chunks"].as_array_mut().unwrap();
    let text: Vec<&str> = chunks[..count]
        .iter()
        .map(|chunk| chunk["text"].as_str().unwrap())
        .collect();
    let mut first = chunks[0].clone();
    first["text"] = json!(text.join("\n\n"));
    *chunks = vec![first];
    let dir = root.join("long");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("GPL-3_chunks.json"), document.to_string()).unwrap();
    dir
}

/// A copy of the model whose GGUF carries no chat template: the key is renamed in
/// place (same length, so nothing else in the file moves).
fn without_chat_template(model: &Path, dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(model).unwrap();
    let key = b"tokenizer.chat_template";
    let at = bytes
        .windows(key.len())
        .position(|window| window == key)
        .expect("the test model carries a chat template");
    bytes[at + key.len() - 1] = b'X';
    assert!(
        !bytes.windows(key.len()).any(|window| window == key),
        "one template key"
    );
    let copy = dir.join("no-template.gguf");
    std::fs::write(&copy, bytes).unwrap();
    copy
}

#[test]
fn an_answer_the_context_cuts_still_parses_and_the_cut_is_said_with_what_to_change() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let chunks = one_long_chunk(dir.path(), 6);
    let qa_dir = dir.path().join("qa");
    // About 1,600 prompt tokens and 1,000 answer tokens do not fit in 2,048.
    let output = generate(
        &model,
        &chunks,
        &qa_dir,
        &["--max-tokens", "1000", "--context-size", "2048"],
    )
    .output()
    .unwrap();
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    let answers = recorded(&qa_dir);
    assert_eq!(answers.len(), 1, "{log}");
    let (_, status, raw, pairs) = &answers[0];
    assert_eq!(*status, ChunkStatus::Completed, "{raw}\n{log}");
    let parsed: Value = serde_json::from_str(raw)
        .unwrap_or_else(|e| panic!("the cut answer still parses ({e}): {raw}"));
    assert_eq!(parsed["qa_pairs"].as_array().map(Vec::len), Some(*pairs));

    // Said for that chunk, with the room left and the context that fits.
    let line = log
        .lines()
        .find(|line| line.contains("GPL-3_chunks.json, chunk 0 (0_0)"))
        .unwrap_or_else(|| panic!("the cut is said per chunk: {log}"));
    let number_after = |marker: &str| -> u32 {
        let rest = &line[line
            .find(marker)
            .unwrap_or_else(|| panic!("{marker}: {line}"))
            + marker.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let prompt_tokens = number_after("its prompt is ");
    let left = number_after("which leaves ");
    assert!(prompt_tokens > 1000, "{line}");
    assert_eq!(left, 2048 - prompt_tokens, "{line}");
    assert!(line.contains("of --max-tokens 1000"), "{line}");
    let needed = number_after("give --context-size ");
    assert!(
        needed >= prompt_tokens + 1000 && needed % 256 == 0,
        "{line}"
    );
    assert!(!line.contains("lower --max-tokens"), "{line}");

    // Given that context, the same chunk is answered in full, and nothing is said.
    let roomy = dir.path().join("roomy");
    let output = generate(
        &model,
        &chunks,
        &roomy,
        &[
            "--max-tokens",
            "1000",
            "--context-size",
            &needed.to_string(),
        ],
    )
    .output()
    .unwrap();
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(!log.contains("which leaves"), "{log}");
    assert_eq!(recorded(&roomy)[0].1, ChunkStatus::Completed, "{log}");
}

#[test]
fn a_prompt_beyond_the_context_is_refused_with_the_context_that_fits() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let chunks = one_long_chunk(dir.path(), 4);
    let qa_dir = dir.path().join("qa");
    let output = generate(
        &model,
        &chunks,
        &qa_dir,
        &["--context-size", "512", "--max-retries", "0"],
    )
    .output()
    .unwrap();
    let log = stderr(&output);
    let store = tdg::checkpoint::CheckpointStore::open(&qa_dir).unwrap();
    let failed = store.raw_answers().unwrap();
    let reasons: Vec<String> = failed
        .iter()
        .map(|answer| format!("{:?}: {}", answer.status, answer.raw_response))
        .collect();
    assert!(
        log.contains("too many for a sequence's context of 512 tokens")
            && log.contains("give --context-size"),
        "{log}\n{reasons:?}"
    );
    assert!(!log.contains("lower --max-tokens"), "{log}");
    // A context beyond what the model was trained on is refused before any chunk.
    let output = generate(
        &model,
        &chunks,
        &dir.path().join("qa2"),
        &["--context-size", "1000000"],
    )
    .output()
    .unwrap();
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(78), "{log}");
    assert!(
        log.contains("--context-size 1000000 is more than the 8192 tokens"),
        "{log}"
    );
}

/// `tdg prompt` on the embedded engine: (the template's description, the text).
fn prompt(
    model: &Path,
    chunks: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let mut command = tdg();
    command
        .env(OMP_WAIT_POLICY.0, OMP_WAIT_POLICY.1)
        .args(["prompt", "--provider", "embedded", "--model"])
        .arg(model)
        .arg("--chunks-dir")
        .arg(chunks)
        .args(extra);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), text, stderr(&output))
}

/// The heading's template description and the text after it.
fn templated(text: &str) -> (String, String) {
    let marker = "## text the model sees (after its chat template: ";
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no templated text: {text}"));
    let rest = &text[at + marker.len()..];
    let (origin, body) = rest.split_once(")\n").unwrap();
    (origin.to_string(), body.to_string())
}

#[test]
fn a_model_without_a_chat_template_is_said_so_and_prompted_in_the_one_its_tokens_tell() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bare = without_chat_template(&model, dir.path());
    let chunks = crate::embedded::first_chunks(dir.path(), 1);

    let (ok, text, log) = prompt(&bare, &chunks, &[], &[]);
    assert!(ok, "{log}");
    let (origin, body) = templated(&text);
    assert_eq!(
        origin,
        "chatml, by its special token <|im_start|>: the model carries no chat template"
    );
    assert!(body.starts_with("<|im_start|>system\n"), "{body}");

    // A generate run says so once, and answers.
    let qa_dir = dir.path().join("qa");
    let output = generate(&bare, &chunks, &qa_dir, &["--max-tokens", "200"])
        .output()
        .unwrap();
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert_eq!(log.matches("carries no chat template").count(), 1, "{log}");
    assert!(log.contains("give --chat-template NAME|FILE"), "{log}");
    assert_eq!(recorded(&qa_dir)[0].1, ChunkStatus::Completed, "{log}");

    // The model's own template is said as such.
    let (ok, text, log) = prompt(&model, &chunks, &[], &[]);
    assert!(ok, "{log}");
    assert_eq!(templated(&text).0, "the model's own");
}

#[test]
fn chat_template_takes_a_llama_cpp_name_or_a_jinja_file() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let chunks = crate::embedded::first_chunks(dir.path(), 1);

    let (ok, text, log) = prompt(&model, &chunks, &["--chat-template", "llama3"], &[]);
    assert!(ok, "{log}");
    let (origin, body) = templated(&text);
    assert_eq!(origin, "llama3, from --chat-template");
    assert!(
        body.contains("<|start_header_id|>system<|end_header_id|>"),
        "{body}"
    );
    assert!(
        body.trim_end()
            .ends_with("<|start_header_id|>assistant<|end_header_id|>"),
        "{body}"
    );

    // From the environment, as a Jinja file.
    let file = dir.path().join("plain.jinja");
    std::fs::write(
        &file,
        "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}[assistant]",
    )
    .unwrap();
    let (ok, text, log) = prompt(
        &model,
        &chunks,
        &[],
        &[("GENERATOR_CHAT_TEMPLATE", file.to_str().unwrap())],
    );
    assert!(ok, "{log}");
    let (origin, body) = templated(&text);
    assert_eq!(origin, format!("{}, from --chat-template", file.display()));
    assert!(body.starts_with("[system] "), "{body}");
    assert!(body.contains("\n[user] "), "{body}");
    assert!(body.trim_end().ends_with("[assistant]"), "{body}");

    // A name llama.cpp does not know is a wrong setting, named.
    let (ok, _, log) = prompt(&model, &chunks, &["--chat-template", "no-such-format"], &[]);
    assert!(!ok);
    assert!(
        log.contains("llama.cpp knows no chat template named `no-such-format`"),
        "{log}"
    );
    let output = generate(
        &model,
        &chunks,
        &dir.path().join("qa"),
        &["--chat-template", "no-such-format"],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
}
