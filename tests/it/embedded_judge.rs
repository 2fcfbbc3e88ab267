//! The judge (`tdg validate`) on the embedded engine with a real model
//! (SmolLM2-135M-Instruct, see [`super::embedded`]): its judgment is decoded under the
//! score grammar, and every recorded score is the one the model wrote.

#![cfg(feature = "embedded")]

use crate::common;
use crate::embedded::{OMP_WAIT_POLICY, stderr, test_model};

use std::path::Path;

use common::{corpus, read_json, tdg};
use serde_json::{Value, json};

/// An original-format Q&A file in `qa_dir` holding `count` pairs of the labelled set
/// (real model answers), each with its chunk's text.
fn labelled_pairs_as_original_file(qa_dir: &Path, count: usize) -> usize {
    let corpus_doc = read_json(corpus().join("Apache-2.0_chunks.json"));
    let chunk_text = |id: &str| {
        corpus_doc["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|chunk| chunk["chunk_id"] == id)
            .map(|chunk| chunk["text"].as_str().unwrap().to_string())
    };
    let labelled = common::read(common::fixtures().join("quality/labelled.jsonl"));
    let pairs: Vec<Value> = labelled
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|pair| pair["document"] == "Apache-2.0")
        .take(count)
        .map(|pair| {
            let id = pair["chunk_id"].as_str().unwrap();
            json!({
                "question": pair["question"],
                "answer": pair["answer"],
                "file_name": "Apache-2.0.txt",
                "chunk_id": id,
                "chunk_index": id.split('_').nth(1).unwrap().parse::<u32>().unwrap(),
                "source_text": chunk_text(id).unwrap(),
            })
        })
        .collect();
    std::fs::create_dir_all(qa_dir).unwrap();
    // The original tool's file for this document, holding these pairs instead.
    let mut file = read_json(common::fixtures().join("Apache-2.0_qa.json"));
    file["training_pairs"] = json!(pairs);
    std::fs::write(qa_dir.join("Apache-2.0_qa.json"), file.to_string()).unwrap();
    pairs.len()
}

/// A judgment row of the checkpoint: the three scores, the raw answer, the error.
struct RecordedJudgment {
    scores: [Option<f64>; 3],
    raw: String,
    error: Option<String>,
}

#[test]
fn the_judge_runs_on_the_embedded_engine_under_its_grammar_and_invents_no_score() {
    let Some(model) = test_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let qa_dir = dir.path().join("qa");
    let pairs = labelled_pairs_as_original_file(&qa_dir, 4);
    assert_eq!(pairs, 4);
    let output = tdg()
        .env(OMP_WAIT_POLICY.0, OMP_WAIT_POLICY.1)
        .args(["validate", "--provider", "embedded", "--model"])
        .arg(&model)
        .arg("--qa-dir")
        .arg(&qa_dir)
        .args(["--threads", "2", "--concurrency", "2"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    // Every judgment parsed (the grammar), and each recorded score is the one the
    // model wrote: read back from its raw answer, not made up.
    let db = rusqlite::Connection::open(qa_dir.join(".tdg-checkpoint.sqlite3")).unwrap();
    let mut statement = db
        .prepare("SELECT accuracy, completeness, consistency, raw_response, error FROM judgments")
        .unwrap();
    let judgments: Vec<RecordedJudgment> = statement
        .query_map([], |row| {
            Ok(RecordedJudgment {
                scores: [row.get(0)?, row.get(1)?, row.get(2)?],
                raw: row.get(3)?,
                error: row.get(4)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(judgments.len(), pairs, "one judgment per pair");
    for RecordedJudgment { scores, raw, error } in judgments {
        assert_eq!(error, None, "{raw}");
        let written: Value =
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"));
        for (key, recorded) in ["accuracy", "completeness", "consistency"]
            .into_iter()
            .zip(scores)
        {
            let score = written[key]
                .as_u64()
                .unwrap_or_else(|| panic!("{key} is not a whole number: {raw}"));
            assert!(score <= 10, "{raw}");
            assert_eq!(recorded, Some(score as f64), "{key} as written: {raw}");
        }
        assert!(written["explanation"].is_string(), "{raw}");
    }
    let stats = tdg()
        .args(["stats", "--json"])
        .arg(&qa_dir)
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["quality"]["judge"]["scored"], json!(pairs), "{stats}");
}
