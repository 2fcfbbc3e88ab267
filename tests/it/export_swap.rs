//! `tdg export --overwrite` is all or nothing, and `tdg push` publishes only what a
//! card describes: an overwrite that fails half way leaves the previous export whole,
//! and a folder whose data differ from its card's manifest is refused before any
//! request, with the files the card does not name left out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::fake_hub::FakeHub;
use crate::common::{assert_fails_with_code, assert_success, tdg_isolated, test_plugin};

const TOKEN: &str = "hf_fake_secret_token_456";

/// A Q&A directory of `documents` (stem, questions) in `root`.
fn qa_dir(root: &Path, documents: &[(&str, &[&str])]) -> PathBuf {
    let qa = root.join("qa");
    for (stem, questions) in documents {
        crate::common::write_qa_file(&qa, stem, questions);
    }
    qa
}

fn export(root: &Path, qa: &Path, out: &Path, extra: &[&str]) -> Output {
    tdg_isolated(root)
        .arg("export")
        .arg(qa)
        .arg("--output-dir")
        .arg(out)
        .args(["--license", "mit"])
        .args(extra)
        .output()
        .unwrap()
}

/// Every file under `dir`, by relative path, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn an_overwrite_that_fails_half_way_leaves_the_previous_export_whole() {
    let root = tempfile::tempdir().unwrap();
    let hostile = test_plugin("hostile");
    let hostile = hostile.to_str().unwrap();
    let qa = qa_dir(root.path(), &[("alpha", &["a?", "b?"]), ("beta", &["c?"])]);
    let out = root.path().join("dataset");
    assert_success(&export(root.path(), &qa, &out, &["--format", hostile]));
    let before = snapshot(&out);
    assert!(before.contains_key("README.md"), "{:?}", before.keys());

    // A new document whose pair makes the format plugin trap: the export fails after
    // records were formatted, as a full disk or Ctrl+C would stop it.
    qa_dir(root.path(), &[("gamma", &["d?", "trap"])]);
    let failed = export(
        root.path(),
        &qa,
        &out,
        &["--format", hostile, "--overwrite"],
    );
    assert!(!failed.status.success(), "the hostile plugin traps");
    assert_eq!(snapshot(&out), before, "the previous export changed");

    // A successful overwrite replaces it whole: the new card describes the new data.
    std::fs::remove_file(qa.join("gamma_qa.json")).unwrap();
    qa_dir(root.path(), &[("delta", &["e?"])]);
    assert_success(&export(
        root.path(),
        &qa,
        &out,
        &["--format", hostile, "--overwrite"],
    ));
    let after = snapshot(&out);
    assert_ne!(after, before);
    let card = String::from_utf8(after["README.md"].clone()).unwrap();
    assert!(card.contains("delta"), "{card}");
    assert!(
        !after
            .keys()
            .any(|name| name.contains(".tdg-export-staging")),
        "{:?}",
        after.keys()
    );
}

fn push(hub: &FakeHub, folder: &Path) -> Output {
    tdg_isolated(folder.parent().unwrap())
        .args(["push"])
        .arg(folder)
        .args(["--repo", "org/data"])
        .env("HF_ENDPOINT", &hub.url)
        .env("HF_HOME", folder.parent().unwrap().join("hf-home"))
        .env("HF_TOKEN", TOKEN)
        .output()
        .unwrap()
}

#[test]
fn push_refuses_data_its_card_does_not_describe_and_sends_only_the_exports_files() {
    let root = tempfile::tempdir().unwrap();
    let qa = qa_dir(root.path(), &[("alpha", &["a?", "b?"]), ("beta", &["c?"])]);
    let out = root.path().join("dataset");
    assert_success(&export(root.path(), &qa, &out, &[]));
    let data = out.join("data");
    let data_file = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();

    // A file the export did not write is not pushed.
    std::fs::write(data.join("notes.jsonl"), "{\"private\": true}\n").unwrap();
    let hub = FakeHub::start();
    hub.require_token(TOKEN);
    let pushed = push(&hub, &out);
    assert_success(&pushed);
    let commit = &hub.commits()[0];
    assert!(
        !commit.files.contains_key("data/notes.jsonl"),
        "{:?}",
        commit.files.keys()
    );
    let name = format!("data/{}", data_file.file_name().unwrap().to_string_lossy());
    assert!(
        commit.files.contains_key(&name),
        "{:?}",
        commit.files.keys()
    );

    // Data changed after the export: refused (78), naming the file, before any request.
    let mut bytes = std::fs::read(&data_file).unwrap();
    bytes.extend_from_slice(b"{\"question\": \"added\", \"answer\": \"later\"}\n");
    std::fs::write(&data_file, bytes).unwrap();
    let other = FakeHub::start();
    other.require_token(TOKEN);
    let refused = push(&other, &out);
    assert_fails_with_code(&refused, 78, "is not the file the card describes");
    assert_fails_with_code(&refused, 78, &name);
    assert!(other.requests().is_empty(), "{:?}", other.requests());

    // A data file the card names but that is gone (an interrupted export).
    std::fs::remove_file(&data_file).unwrap();
    let missing = push(&other, &out);
    assert_fails_with_code(
        &missing,
        78,
        "is missing, though the card's manifest names it",
    );
}
