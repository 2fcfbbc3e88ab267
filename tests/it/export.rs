//! `tdg export`: the shared corpus generated against the mock server, exported as a
//! dataset folder (Parquet and JSON Lines, 90/5/5 by document), and read back as a
//! trainer reads it: by `datasets.load_dataset` and `pyarrow` (Python), and by tdg's
//! own checkpoint for the card's settings.

use crate::common;

pub(crate) mod load;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use common::mock_server::MockServer;
use common::{assert_success, corpus, read, read_json, tdg_isolated};
use serde_json::Value;

/// The 90/5/5 split the issue asks for.
const SPLIT: &str = "train=0.9,validation=0.05,test=0.05";
/// The corpus's documents and their chunks.
const DOCUMENTS: [(&str, usize); 3] = [("Apache-2.0", 17), ("GPL-3", 48), ("node-url-api", 71)];

/// The pairs of each document's Q&A file (what the quality gate kept of the mock's 3 a
/// chunk), and the chunks they come from.
fn kept_pairs(stem: &str) -> (usize, usize) {
    let qa = read_json(qa_dir().join(format!("{stem}_qa.json")));
    let pairs = qa["training_pairs"].as_array().unwrap();
    let chunks: BTreeSet<&str> = pairs
        .iter()
        .map(|pair| pair["chunk_id"].as_str().unwrap())
        .collect();
    (pairs.len(), chunks.len())
}

/// The pairs of every Q&A file.
fn all_pairs() -> usize {
    DOCUMENTS.iter().map(|(stem, _)| kept_pairs(stem).0).sum()
}

/// The corpus generated once against the mock server (openai, temperature 0.3): the
/// Q&A directory, shared by the tests of this module, which only read it.
fn qa_dir() -> &'static Path {
    static QA: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &QA.get_or_init(|| {
        let server = MockServer::start();
        let root = tempfile::tempdir().unwrap();
        let qa = root.path().join("qa");
        let output = common::generate_command(
            "openai",
            &[&server.url],
            &corpus(),
            &qa,
            &["--model", "mock-model", "--temperature", "0.3"],
        )
        .output()
        .unwrap();
        assert_success(&output);
        (root, qa)
    })
    .1
}

/// Runs `tdg export` of the corpus into `out` with `extra` arguments.
fn export(out: &Path, extra: &[&str]) -> Output {
    tdg_isolated(out.parent().unwrap())
        .arg("export")
        .arg(qa_dir())
        .arg("--output-dir")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// Every record of every split's JSON Lines files in `out`, by split.
fn jsonl_splits(out: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut splits: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for entry in std::fs::read_dir(out.join("data")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let split = name.split('-').next().unwrap().to_string();
        assert!(name.ends_with(".jsonl"), "unexpected file {name}");
        let records = splits.entry(split).or_default();
        for line in read(&path).lines() {
            records.push(serde_json::from_str(line).unwrap());
        }
    }
    splits
}

/// The document of each chunk text, from the Q&A files.
fn document_of_text() -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (stem, _) in DOCUMENTS {
        let qa = read_json(qa_dir().join(format!("{stem}_qa.json")));
        for pair in qa["training_pairs"].as_array().unwrap() {
            map.insert(
                pair["source_text"].as_str().unwrap().to_string(),
                stem.to_string(),
            );
        }
    }
    map
}

/// The documents of each split, from records whose `input` is the chunk text.
fn documents_by_split(splits: &BTreeMap<String, Vec<Value>>) -> BTreeMap<String, BTreeSet<String>> {
    let documents = document_of_text();
    splits
        .iter()
        .map(|(split, records)| {
            let stems = records
                .iter()
                .map(|record| documents[record["input"].as_str().unwrap()].clone())
                .collect();
            (split.clone(), stems)
        })
        .collect()
}

#[test]
fn jsonl_export_splits_90_5_5_by_document_with_no_document_in_two_splits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dataset");
    let output = export(
        &out,
        &[
            "--format",
            "alpaca-json",
            "--format-opt",
            "input=source",
            "--split",
            SPLIT,
            "--seed",
            "7",
        ],
    );
    assert_success(&output);
    let splits = jsonl_splits(&out);
    assert_eq!(
        splits.keys().collect::<Vec<_>>(),
        ["test", "train", "validation"]
    );
    for name in ["train", "validation", "test"] {
        assert!(
            out.join(format!("data/{name}-00000-of-00001.jsonl"))
                .is_file(),
            "{name}"
        );
    }
    assert_eq!(splits.values().map(Vec::len).sum::<usize>(), all_pairs());
    let by_split = documents_by_split(&splits);
    let mut seen = BTreeSet::new();
    for stems in by_split.values() {
        assert_eq!(stems.len(), 1, "{by_split:?}");
        for stem in stems {
            assert!(
                seen.insert(stem.clone()),
                "{stem} is in two splits: {by_split:?}"
            );
        }
    }
    // Every record is the format plugin's, as convert makes it.
    let record = &splits["train"][0];
    assert_eq!(
        record.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["instruction", "input", "output"]
    );
    // LLaMA-Factory's entries name each split's file; Axolotl's lines are printed.
    let info = read_json(out.join("dataset_info.json"));
    assert_eq!(
        info["dataset"]["file_name"],
        "data/train-00000-of-00001.jsonl"
    );
    assert_eq!(info["dataset"]["columns"]["query"], "input");
    assert_eq!(
        info["dataset_validation"]["file_name"],
        "data/validation-00000-of-00001.jsonl"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("datasets:\n  - path: "), "{stdout}");
    assert!(stdout.contains("test_datasets:"), "{stdout}");
    assert!(stdout.contains("    type: alpaca\n"), "{stdout}");
}

#[test]
fn the_same_seed_gives_the_same_files_and_seeds_differ() {
    let dir = tempfile::tempdir().unwrap();
    let mut assignments = BTreeSet::new();
    let mut first_bytes = None;
    for (index, seed) in ["1", "1", "2", "3"].iter().enumerate() {
        let out = dir.path().join(format!("out{index}"));
        let output = export(
            &out,
            &[
                "--format",
                "alpaca-json",
                "--format-opt",
                "input=source",
                "--split",
                SPLIT,
                "--split-by",
                "chunk",
                "--seed",
                seed,
            ],
        );
        assert_success(&output);
        let bytes = std::fs::read(out.join("data/test-00000-of-00001.jsonl")).unwrap();
        if index == 0 {
            first_bytes = Some(bytes);
        } else if index == 1 {
            assert!(
                first_bytes.as_ref() == Some(&bytes),
                "seed 1 gave two test splits"
            );
        }
        let splits = jsonl_splits(&out);
        let inputs: BTreeSet<&str> = splits["test"]
            .iter()
            .map(|r| r["input"].as_str().unwrap())
            .collect();
        assignments.insert(format!("{inputs:?}"));
    }
    assert_eq!(
        assignments.len(),
        3,
        "seeds 1, 2 and 3 should give three test splits"
    );
}

#[test]
fn three_documents_in_three_splits_leave_the_largest_in_train() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dataset");
    let output = export(
        &out,
        &[
            "--format",
            "alpaca-json",
            "--format-opt",
            "input=source",
            "--split",
            SPLIT,
            "--seed",
            "11",
        ],
    );
    assert_success(&output);
    let by_split = documents_by_split(&jsonl_splits(&out));
    let largest = DOCUMENTS
        .iter()
        .max_by_key(|(stem, _)| kept_pairs(stem).0)
        .unwrap()
        .0;
    assert_eq!(by_split["train"], BTreeSet::from([largest.to_string()]));
}

#[test]
fn a_split_by_chunk_keeps_each_chunk_whole_and_shards_roll_over() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dataset");
    let output = export(
        &out,
        &[
            "--format",
            "alpaca-json",
            "--format-opt",
            "input=source",
            "--split",
            SPLIT,
            "--split-by",
            "chunk",
            "--max-rows-per-file",
            "100",
        ],
    );
    assert_success(&output);
    let splits = jsonl_splits(&out);
    assert_eq!(splits.values().map(Vec::len).sum::<usize>(), all_pairs());
    let train = splits["train"].len();
    let share = train as f64 / all_pairs() as f64;
    assert!(
        (0.88..=0.92).contains(&share),
        "train has {train} of {}",
        all_pairs()
    );
    // No chunk in two splits; documents span splits.
    let mut split_of_chunk: HashMap<String, String> = HashMap::new();
    for (split, records) in &splits {
        for record in records {
            let text = record["input"].as_str().unwrap().to_string();
            let known = split_of_chunk.entry(text).or_insert_with(|| split.clone());
            assert_eq!(known, split);
        }
    }
    let by_split = documents_by_split(&splits);
    assert!(by_split["train"].len() > 1, "{by_split:?}");
    // 100 records a file: train's shards are named i-of-n.
    let shards = train.div_ceil(100);
    for index in 0..shards {
        let name = format!("data/train-{index:05}-of-{shards:05}.jsonl");
        assert!(out.join(&name).is_file(), "{name}");
    }
}

#[test]
fn an_earlier_export_is_kept_unless_overwrite_and_bad_splits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dataset");
    assert_success(&export(&out, &[]));
    let again = export(&out, &["--split", SPLIT]);
    common::assert_fails_with(&again, "already holds an exported dataset");
    common::assert_fails_with(&again, "--overwrite");
    assert!(out.join("data/train-00000-of-00001.jsonl").is_file());
    assert_success(&export(&out, &["--split", SPLIT, "--overwrite"]));
    assert_eq!(jsonl_splits(&out).len(), 3);
    let bad = export(&out, &["--split", "train=0.9,test=0.2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("add up to 1.1"));
}

/// The YAML header of a card, and its run record.
fn card_parts(card: &str) -> (String, Value) {
    let header = card
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(header, _)| format!("{header}\n"))
        .expect("the card opens with a YAML header");
    let record = card
        .split_once("## Run record")
        .and_then(|(_, rest)| rest.split_once("```json\n"))
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(json, _)| serde_json::from_str(json).unwrap())
        .expect("the card holds a run record");
    (header, record)
}

#[test]
fn the_card_records_the_runs_settings_and_names_each_splits_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dataset");
    let output = export(
        &out,
        &[
            "--output-type",
            "parquet",
            "--format",
            "sharegpt",
            "--split",
            SPLIT,
            "--license",
            "apache-2.0",
            "--language",
            "en",
        ],
    );
    assert_success(&output);
    let card = read(out.join("README.md"));
    let (header, record) = card_parts(&card);
    assert!(header.contains("license: \"apache-2.0\"\n"), "{header}");
    assert!(header.contains("language:\n- \"en\"\n"), "{header}");
    assert!(header.contains("size_categories:\n- n<1K\n"), "{header}");
    assert!(
        header.contains("task_categories:\n- question-answering\n"),
        "{header}"
    );
    for split in ["train", "validation", "test"] {
        assert!(
            header.contains(&format!(
                "  - split: \"{split}\"\n    path:\n    - \"data/{split}-00000-of-00001.parquet\"\n"
            )),
            "{header}"
        );
    }
    // The card's settings are the run's, as the checkpoint recorded them.
    let store = tdg::checkpoint::CheckpointStore::open_existing(
        qa_dir(),
        tdg::checkpoint::Access::ReadOnly,
    )
    .unwrap();
    let run = store.latest_run_record().unwrap().unwrap();
    assert_eq!(record["run"], serde_json::to_value(&run).unwrap());
    assert_eq!(record["run"]["provider"], "openai");
    assert_eq!(record["run"]["model"], "mock-model");
    assert_eq!(record["run"]["temperature"], 0.3);
    assert_eq!(
        record["quality_filter"],
        serde_json::to_value(store.quality_filter()).unwrap()
    );
    assert_eq!(record["quality"]["kept"], all_pairs());
    assert_eq!(record["export"]["seed"], 0);
    let plugins = record["plugins"].as_array().unwrap();
    let roles: Vec<&str> = plugins
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["prompt", "parser", "format"]);
    for plugin in plugins {
        assert_eq!(plugin["sha256"].as_str().unwrap().len(), 64, "{plugin}");
    }
    assert!(
        card.contains("- provider: `openai`, model: `mock-model`"),
        "{card}"
    );
    assert!(card.contains("--temperature 0.3"), "{card}");
    for (stem, chunks) in DOCUMENTS {
        let (pairs, with_pairs) = kept_pairs(stem);
        assert!(
            card.contains(&format!("| {stem} | {chunks} | {with_pairs} | {pairs} |")),
            "{stem}: {card}"
        );
    }
    // `conversations` is a list of structs in Parquet, and LLaMA-Factory's entry says so.
    assert!(
        card.contains("- `conversations`: `List(Struct(")
            || card.contains("- `conversations`: `List("),
        "{card}"
    );
    let info = read_json(out.join("dataset_info.json"));
    assert_eq!(info["dataset"]["formatting"], "sharegpt");
    assert_eq!(info["dataset"]["tags"]["user_tag"], "human");
}

#[test]
fn a_combined_training_data_file_exports_by_document_without_a_run_record() {
    let dir = tempfile::tempdir().unwrap();
    let combined = dir.path().join("training_data.json");
    let output = tdg_isolated(dir.path())
        .arg("combine")
        .arg("--qa-dir")
        .arg(qa_dir())
        .arg("--output-file")
        .arg(&combined)
        .output()
        .unwrap();
    assert_success(&output);
    let out = dir.path().join("dataset");
    let output = tdg_isolated(dir.path())
        .arg("export")
        .arg(&combined)
        .arg("--output-dir")
        .arg(&out)
        .args([
            "--format",
            "alpaca-json",
            "--format-opt",
            "input=source",
            "--split",
            SPLIT,
        ])
        .output()
        .unwrap();
    assert_success(&output);
    let splits = jsonl_splits(&out);
    assert_eq!(splits.values().map(Vec::len).sum::<usize>(), all_pairs());
    for stems in documents_by_split(&splits).values() {
        assert_eq!(stems.len(), 1);
    }
    let card = read(out.join("README.md"));
    assert!(
        card.contains("the generation settings are not known: exported from the combined file"),
        "{card}"
    );
}

#[test]
fn generate_from_the_card_repeats_the_run_it_records() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("dataset");
    assert_success(&export(&out, &["--license", "apache-2.0"]));
    // The card, and only the card: the chunk files and a model server.
    let server = MockServer::start();
    let again = root.path().join("again");
    let output = tdg_isolated(root.path())
        .args(["generate", "--from-card"])
        .arg(out.join("README.md"))
        .arg("--chunks-dir")
        .arg(corpus())
        .arg("--qa-dir")
        .arg(&again)
        .args(["--base-url", &server.url, "--retry-base-ms", "1"])
        .env("OPENAI_API_KEY", "test-key")
        .output()
        .unwrap();
    assert_success(&output);
    for (stem, _) in DOCUMENTS {
        let name = format!("{stem}_qa.json");
        let (first, second) = (
            read_json(qa_dir().join(&name)),
            read_json(again.join(&name)),
        );
        let info = |qa: &Value| {
            let mut info = qa["qa_generation_info"].clone();
            info.as_object_mut().unwrap().remove("generated_at");
            info
        };
        assert_eq!(info(&first), info(&second), "{stem}");
        assert_eq!(first["training_pairs"], second["training_pairs"], "{stem}");
    }
    let record = |dir: &Path| {
        let store =
            tdg::checkpoint::CheckpointStore::open_existing(dir, tdg::checkpoint::Access::ReadOnly)
                .unwrap();
        let mut run = store.latest_run_record().unwrap().unwrap();
        run.base_urls.clear();
        (run, store.quality_filter())
    };
    assert_eq!(record(&again), record(qa_dir()));

    // A card without a run record is named, before any request.
    std::fs::write(root.path().join("plain.md"), "# A dataset\n").unwrap();
    let output = tdg_isolated(root.path())
        .args(["generate", "--from-card", "plain.md", "--chunks-dir"])
        .arg(corpus())
        .args(["--qa-dir", "other", "--base-url", &server.url])
        .output()
        .unwrap();
    common::assert_fails_with_code(&output, 78, "plain.md: no `## Run record` section");
}
