//! `tdg push`, against a fake Hub on 127.0.0.1 that checks the requests: the repository
//! is created, Parquet goes through LFS to storage, the commit holds every file, and
//! the token is sent only in the `Authorization` header of requests to the Hub.
//! (No real push is possible here: the tests cannot reach huggingface.co.)

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::fake_hub::FakeHub;
use crate::common::{self, assert_success, tdg_isolated};

const TOKEN: &str = "hf_fake_secret_token_123";

/// A small exported dataset folder (Parquet, three splits) in `root`, with `extra`
/// export arguments.
fn exported(root: &Path, extra: &[&str]) -> PathBuf {
    let qa = root.join("qa");
    for (stem, count) in [("alpha", 4), ("beta", 2), ("gamma", 3)] {
        let questions: Vec<String> = (0..count)
            .map(|i| format!("{stem} question {i}?"))
            .collect();
        common::write_qa_file(&qa, stem, &questions);
    }
    let out = root.join("dataset");
    let output = tdg_isolated(root)
        .arg("export")
        .arg(&qa)
        .arg("--output-dir")
        .arg(&out)
        .args(["--output-type", "parquet", "--format", "sharegpt"])
        .args(["--split", "train=0.8,validation=0.1,test=0.1"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&output);
    out
}

/// Runs `tdg push` of `folder` to `hub` with `token` and `extra` arguments.
fn push(hub: &FakeHub, folder: &Path, token: Option<&str>, extra: &[&str]) -> Output {
    let home = folder.parent().unwrap().join("hf-home");
    let mut command = tdg_isolated(folder.parent().unwrap());
    command
        .args(["-vv", "push"])
        .arg(folder)
        .args(extra)
        .env("HF_ENDPOINT", &hub.url)
        .env("HF_HOME", &home);
    if let Some(token) = token {
        command.env("HF_TOKEN", token);
    }
    command.output().unwrap()
}

#[test]
fn a_push_creates_the_repo_and_commits_every_file_with_parquet_by_lfs() {
    let root = tempfile::tempdir().unwrap();
    let folder = exported(root.path(), &["--license", "cc-by-4.0"]);
    let hub = FakeHub::start();
    hub.require_token(TOKEN);
    let output = push(
        &hub,
        &folder,
        Some(TOKEN),
        &["--repo", "org/qa-set", "--private"],
    );
    assert_success(&output);
    assert_eq!(hub.repo("org/qa-set"), Some(true));
    let commits = hub.commits();
    assert_eq!(commits.len(), 1);
    let commit = &commits[0];
    assert_eq!(
        (commit.repo.as_str(), commit.revision.as_str()),
        ("org/qa-set", "main")
    );
    assert_eq!(commit.summary, "Upload dataset with tdg");
    let names: Vec<&String> = commit.files.keys().collect();
    assert_eq!(
        names,
        [
            "README.md",
            "data/test-00000-of-00001.parquet",
            "data/train-00000-of-00001.parquet",
            "data/validation-00000-of-00001.parquet",
            "dataset_info.json",
        ]
    );
    for (name, bytes) in &commit.files {
        assert!(
            std::fs::read(folder.join(name)).unwrap() == *bytes,
            "{name} differs on the hub"
        );
    }
    assert_eq!(commit.lfs.len(), 3, "{:?}", commit.lfs);
    assert!(commit.lfs.iter().all(|name| name.ends_with(".parquet")));

    // The token: only in the Authorization header, and only to the Hub, never to storage.
    let requests = hub.requests();
    for request in &requests {
        let is_storage = request.path.starts_with("/storage/");
        assert_eq!(
            request.header("authorization").is_some(),
            !is_storage,
            "{} {}",
            request.method,
            request.path
        );
        if let Some(value) = request.header("authorization") {
            assert_eq!(value, format!("Bearer {TOKEN}"));
        }
        assert!(!request.path.contains(TOKEN));
        for (name, value) in &request.headers {
            assert!(name == "authorization" || !value.contains(TOKEN), "{name}");
        }
        assert!(!String::from_utf8_lossy(&request.body).contains(TOKEN));
    }
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.starts_with("/storage/"))
            .count(),
        3
    );
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!log.contains(TOKEN), "{log}");
    assert!(
        log.contains("pushed 5 file(s) to dataset org/qa-set"),
        "{log}"
    );

    // Again: the repository exists, and storage already holds every Parquet file.
    let again = push(
        &hub,
        &folder,
        Some(TOKEN),
        &["--repo", "org/qa-set", "--message", "again"],
    );
    assert_success(&again);
    assert_eq!(hub.commits().len(), 2);
    assert_eq!(hub.commits()[1].summary, "again");
    let uploads = hub
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/storage/"))
        .count();
    assert_eq!(uploads, 3, "nothing is uploaded twice");
}

#[test]
fn a_push_to_a_branch_creates_it() {
    let root = tempfile::tempdir().unwrap();
    let folder = exported(root.path(), &["--license", "mit"]);
    let hub = FakeHub::start();
    hub.require_token(TOKEN);
    assert_success(&push(
        &hub,
        &folder,
        Some(TOKEN),
        &["--repo", "org/set", "--revision", "v1.0"],
    ));
    assert!(hub.has_branch("org/set", "v1.0"));
    assert_eq!(hub.commits()[0].revision, "v1.0");
    assert_eq!(hub.repo("org/set"), Some(false));
}

#[test]
fn a_push_without_token_license_or_rights_says_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let hub = FakeHub::start();
    hub.require_token(TOKEN);
    // Each is a wrong setting: 78, do not run again before fixing it.
    let unlicensed = exported(root.path(), &[]);
    let output = push(&hub, &unlicensed, Some(TOKEN), &["--repo", "org/set"]);
    common::assert_fails_with_code(&output, 78, "the card names no license");
    common::assert_fails_with_code(&output, 78, "--license");

    let other = tempfile::tempdir().unwrap();
    let folder = exported(other.path(), &["--license", "mit"]);
    let output = push(&hub, &folder, None, &["--repo", "org/set"]);
    common::assert_fails_with_code(&output, 78, "no Hugging Face token: set HF_TOKEN");
    let output = push(
        &hub,
        &folder,
        Some("hf_wrong_token_456"),
        &["--repo", "org/set"],
    );
    common::assert_fails_with_code(&output, 78, "401");
    common::assert_fails_with_code(&output, 78, "the token was refused");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hf_wrong_token_456"));
    let output = push(&hub, &folder, Some(TOKEN), &["--repo", "not-a-repo"]);
    common::assert_fails_with_code(&output, 78, "is not ORG/NAME");
    assert!(hub.commits().is_empty());
    // The token file the Hub's own tools write is read when HF_TOKEN is not set.
    let home = folder.parent().unwrap().join("hf-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("token"), format!("{TOKEN}\n")).unwrap();
    assert_success(&push(&hub, &folder, None, &["--repo", "org/set"]));
}
