//! Shards: N processes with the environment a scheduler gives them split the reference
//! corpus with no coordination; one is killed part way and rerun; `tdg merge` joins
//! them into Q&A files equal, pair for pair, to those of one unsharded run.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::mock_server::MockServer;
use common::{assert_success, first_difference, qa_files, read_json, without_times};
use serde_json::Value;

fn generate(server: &MockServer, chunks: &Path, qa_dir: &Path, extra: &[&str]) -> Command {
    common::generate_command("openai", &[&server.url], chunks, qa_dir, extra)
}

fn merge(qa_dir: &Path, extra: &[&str]) -> std::process::Output {
    common::tdg_isolated(qa_dir.parent().unwrap())
        .arg("merge")
        .arg(qa_dir)
        .args(extra)
        .output()
        .unwrap()
}

/// Chunk outcomes in a shard's checkpoint (0 before it exists).
fn outcomes(shard_dir: &Path) -> i64 {
    rusqlite::Connection::open_with_flags(
        shard_dir.join(".tdg-checkpoint.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .and_then(|store| store.query_row("SELECT COUNT(*) FROM chunks", [], |row| row.get(0)))
    .unwrap_or(0)
}

#[test]
fn four_shards_one_killed_and_rerun_merge_into_the_files_of_one_run() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = common::corpus();

    let single = dir.path().join("single");
    assert_success(&generate(&server, &chunks, &single, &[]).output().unwrap());
    let asked_by_single = server.request_count();

    // Four Kubernetes pods: JOB_COMPLETION_INDEX from the Indexed Job, --shards from
    // the manifest. Pod 2 is killed after a few chunks, then rescheduled.
    let sharded = dir.path().join("sharded");
    let pod = |index: u32, extra: &[&str]| {
        let mut command = generate(
            &server,
            &chunks,
            &sharded,
            &[&["--shards", "4"], extra].concat(),
        );
        command.env("JOB_COMPLETION_INDEX", index.to_string());
        command
    };
    for index in [0, 1, 3] {
        assert_success(&pod(index, &[]).output().unwrap());
    }
    server.set_latency(Duration::from_millis(30));
    let killed_dir = sharded.join("shard-0002-of-0004");
    let mut child = pod(2, &["--concurrency", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while outcomes(&killed_dir) < 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "shard 2 ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "shard 2 never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_before_kill = outcomes(&killed_dir);
    server.set_latency(Duration::ZERO);
    // Merging now reports the unfinished shard: exit code 1, and says what to do.
    let early = merge(&sharded, &[]);
    assert_eq!(early.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("--resume"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    assert_success(&pod(2, &["--resume"]).output().unwrap());

    // Every chunk was asked once over all shards, but for those in flight at the kill.
    let asked_by_shards = server.request_count() - asked_by_single;
    assert!(
        (asked_by_single..=asked_by_single + 1).contains(&asked_by_shards),
        "{asked_by_shards} requests for {asked_by_single} chunks"
    );
    let merged = merge(&sharded, &[]);
    assert_success(&merged);

    let expected = qa_files(&single);
    let names = |files: &[PathBuf]| -> Vec<String> {
        files
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&qa_files(&sharded)), names(&expected));
    for path in &expected {
        let one_run = read_json(path);
        let joined = read_json(sharded.join(path.file_name().unwrap()));
        let (joined, one_run) = (without_times(&joined), without_times(&one_run));
        assert!(
            joined == one_run,
            "{}: the merged file differs from one run's at {}",
            path.display(),
            first_difference(&joined, &one_run, "")
        );
        assert_eq!(
            joined["processing_info"]["status"],
            one_run["processing_info"]["status"]
        );
    }

    // The shards split the chunks: none in two, each with some.
    let manifest = read_json(sharded.join("merge_manifest.json"));
    let shards = manifest["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 4);
    let per_shard: Vec<u64> = shards
        .iter()
        .map(|s| s["chunks"].as_u64().unwrap())
        .collect();
    assert!(per_shard.iter().all(|&n| n > 0), "{per_shard:?}");
    assert!(done_before_kill < per_shard[2] as i64);
    let single_chunks: u64 = expected
        .iter()
        .map(|path| {
            read_json(path)["completed_chunks"]
                .as_array()
                .unwrap()
                .len() as u64
        })
        .sum();
    assert_eq!(per_shard.iter().sum::<u64>(), single_chunks);
    for file in manifest["files"].as_array().unwrap() {
        let bytes = std::fs::read(sharded.join(file["name"].as_str().unwrap())).unwrap();
        assert_eq!(file["sha256"], crate::common::fake_hub::sha256_hex(&bytes));
    }

    // A reviewer rejects a pair in the merged directory; merging again (after a shard
    // reran) replaces the merge but keeps the decision, and stats read it.
    let first_file = &expected[0];
    let rejected =
        read_json(sharded.join(first_file.file_name().unwrap()))["training_pairs"][0]["question"]
            .as_str()
            .unwrap()
            .to_string();
    {
        use tdg::checkpoint::{CheckpointStore, Decision, DecisionAction};
        let mut store = CheckpointStore::open(&sharded).unwrap();
        let name = first_file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let stem = name.trim_end_matches("_qa.json").to_string();
        store
            .record_decision(&Decision {
                stem,
                position: 0,
                question: rejected.clone(),
                action: DecisionAction::Reject,
                edit: None,
                edit_follow_ups: None,
                reviewer: "ada".into(),
            })
            .unwrap();
    }
    assert_success(&merge(&sharded, &[]));
    let after = common::questions(&read_json(sharded.join(first_file.file_name().unwrap())));
    assert!(
        !after.contains(&rejected),
        "the decision was lost by the merge"
    );
    assert_eq!(
        after.len() + 1,
        common::questions(&read_json(first_file)).len()
    );
    assert!(!sharded.join(".tdg-merge-staging").exists());
    let stats = common::tdg_isolated(dir.path())
        .args(["stats", "--json"])
        .arg(&sharded)
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(
        stats["total"]["chunks_completed"].as_u64(),
        Some(single_chunks)
    );
    assert_eq!(stats["quality"]["review"]["rejected"], 1, "{stats}");
}

#[test]
fn slurm_arrays_shard_by_themselves_and_merge_refuses_what_does_not_belong_together() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = common::corpus();
    let qa = dir.path().join("qa");
    // A Slurm array numbered from 1: SLURM_ARRAY_TASK_ID 1 and 2 of 2.
    let task = |id: u32, extra: &[&str]| {
        let mut command = generate(&server, &chunks, &qa, extra);
        command
            .env("SLURM_ARRAY_TASK_ID", id.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "2");
        command.output().unwrap()
    };
    assert_success(&task(1, &[]));
    assert!(
        qa.join("shard-0000-of-0002")
            .join(".tdg-checkpoint.sqlite3")
            .is_file()
    );

    // A shard missing: named, and --partial merges what is there. Run again once the
    // shard has run, the merge goes through: 75.
    let missing = merge(&qa, &[]);
    common::assert_fails_with_code(&missing, 75, "shards 1 of 2 have no directory");
    assert_eq!(
        merge(&qa, &["--partial"]).status.code(),
        Some(1),
        "documents are incomplete"
    );

    // A shard made with other settings: the setting is named.
    assert_success(&task(2, &["--temperature", "0.2"]));
    let differ = merge(&qa, &[]);
    common::assert_fails_with_code(&differ, 78, "temperature");
    assert_success(&merge(&qa, &["--allow-different-settings"]));

    // A directory holding a run that is not a merge is never overwritten.
    let other = dir.path().join("other");
    assert_success(
        &generate(&server, &chunks, &other, &["--limit", "1"])
            .output()
            .unwrap(),
    );
    let refused = merge(
        &qa,
        &[
            "--allow-different-settings",
            "--output",
            other.to_str().unwrap(),
        ],
    );
    common::assert_fails_with_code(&refused, 78, "not a merge");
}

#[test]
fn a_wrong_shard_is_a_clear_error_and_a_permanent_one() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = common::corpus();
    let qa = dir.path().join("qa");
    let output = generate(&server, &chunks, &qa, &["--shards", "4"])
        .output()
        .unwrap();
    // A scheduler must not retry it: exit code 78.
    common::assert_fails_with_code(&output, 78, "JOB_COMPLETION_INDEX");
    let output = generate(&server, &chunks, &qa, &["--shard", "4/4"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "a malformed flag is a usage error"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn corpus_wide_duplicates_are_dropped_across_shards_as_in_one_run() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Two documents with the same texts: under --dedupe corpus the second one's
    // questions are all duplicates of the first one's, wherever their chunks ran.
    let texts = [
        "Harbour dues are paid at the master's office before departure.",
        "Pilots board incoming vessels two miles beyond the breakwater.",
        "Cargo manifests are filed with customs within one day of arrival.",
        "Anchorage in the outer roads is free for the first three days.",
    ];
    let chunks = common::write_document(dir.path(), "alpha", texts);
    common::write_document(dir.path(), "beta", texts);
    let single = dir.path().join("single");
    let flags = ["--dedupe", "corpus"];
    assert_success(
        &generate(&server, &chunks, &single, &flags)
            .output()
            .unwrap(),
    );
    let sharded = dir.path().join("sharded");
    for shard in ["0/2", "1/2"] {
        let args = [&flags[..], &["--shard", shard]].concat();
        assert_success(
            &generate(&server, &chunks, &sharded, &args)
                .output()
                .unwrap(),
        );
    }
    assert_success(&merge(&sharded, &[]));
    let pairs =
        |dir: &Path, stem: &str| common::questions(&read_json(dir.join(format!("{stem}_qa.json"))));
    assert_eq!(pairs(&single, "alpha").len(), 12);
    assert!(pairs(&single, "beta").is_empty());
    // A shard alone cannot see its twins in the other shard: it keeps some of beta's.
    let kept_by_shards: usize = ["shard-0000-of-0002", "shard-0001-of-0002"]
        .iter()
        .map(|shard| pairs(&sharded.join(shard), "beta").len())
        .sum();
    assert!(
        kept_by_shards > 0,
        "the chunks' twins all fell in one shard"
    );
    for stem in ["alpha", "beta"] {
        assert_eq!(pairs(&sharded, stem), pairs(&single, stem), "{stem}");
    }
}

#[test]
fn a_dry_run_counts_only_the_shards_chunks() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks_to_ask = |extra: &[&str]| -> u64 {
        let output = generate(&server, &common::corpus(), &dir.path().join("qa"), extra)
            .arg("--dry-run")
            .output()
            .unwrap();
        assert_success(&output);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let count = text
            .split(" chunks to ask about")
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .and_then(|n| n.parse().ok());
        count.unwrap_or_else(|| panic!("no chunk count in: {text}"))
    };
    let whole = chunks_to_ask(&[]);
    let per_shard: Vec<u64> = (0..4)
        .map(|k| chunks_to_ask(&["--shard", &format!("{k}/4")]))
        .collect();
    assert!(
        per_shard.iter().all(|&n| n > 0 && n < whole),
        "{per_shard:?}"
    );
    assert_eq!(per_shard.iter().sum::<u64>(), whole);
    assert_eq!(server.request_count(), 0);
}
