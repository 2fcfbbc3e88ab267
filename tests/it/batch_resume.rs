//! What a resumed `generate --batch-api` run takes up from the batches of an earlier
//! one, against the mock's batch APIs as the providers document them: a chunk whose
//! text changed while its batch ran is asked again, not given the answer to its old
//! text; a batch whose results the provider no longer keeps (an expired OpenAI output
//! file, an archived Anthropic batch) has its chunks asked again, in a new batch or
//! live; and a batch whose creation answer was lost is found however many batches
//! other runs on the key made since, the lookup reading back only to its record. A
//! ledger written before text hashes were kept is still read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::batch_api::{FAST_POLL, assert_same_qa_files, batch, generate, recorded_batches};
use crate::common;
use common::mock_server::MockServer;
use common::{assert_fails_with_code, assert_success, read_json};

const TEXTS: [&str; 3] = [
    "The Apache License grants a perpetual, worldwide, royalty-free patent license.",
    "The licensee must give recipients a copy of the license with every copy shipped.",
    "Contributions are submitted under the terms of the license by default.",
];

fn document(root: &Path, texts: &[&str]) -> PathBuf {
    common::write_document(root, "licence", texts)
}

/// How many chunks of `licence` the Q&A file in `qa` records as completed.
fn completed(qa: &Path) -> usize {
    read_json(qa.join("licence_qa.json"))["completed_chunks"]
        .as_array()
        .unwrap()
        .len()
}

/// How many times each chunk went into a batch, by position.
fn submissions_by_position(server: &MockServer) -> Vec<usize> {
    (0..TEXTS.len())
        .map(|position| {
            let prefix = format!("licence-{position}-");
            server
                .batch_submissions()
                .iter()
                .filter(|(id, _)| id.starts_with(&prefix))
                .map(|(_, times)| times)
                .sum()
        })
        .collect()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_chunk_whose_text_changed_while_its_batch_ran_is_asked_again_not_given_the_old_answer() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (chunks, qa) = a_held_batch("openai", &server, dir.path());
    assert_eq!(server.batches_created(), 1);

    // The second chunk is edited while its batch runs.
    let edited = [
        TEXTS[0],
        "Redistributors must keep every notice of attribution intact in each copy.",
        TEXTS[2],
    ];
    document(dir.path(), &edited);
    let live = dir.path().join("live");
    assert_success(
        &generate("openai", &server, &chunks, &live, &[])
            .output()
            .unwrap(),
    );

    server.hold_batches(false);
    let resume = [&["--batch-api", "--resume"][..], &FAST_POLL].concat();
    let resumed = generate("openai", &server, &chunks, &qa, &resume)
        .output()
        .unwrap();
    assert_success(&resumed);
    let said = stderr(&resumed);
    let file = chunks.join("licence_chunks.json");
    let told = format!("{}: 1 chunk changed while its batch ran", file.display());
    assert_eq!(said.matches(&told).count(), 1, "{said}");
    // The edited chunk went into a second batch; the others were collected once.
    assert_eq!(server.batches_created(), 2);
    assert_eq!(submissions_by_position(&server), [1, 2, 1]);
    // The pairs are those of a live run on the edited document: none from the old text.
    assert_same_qa_files(&qa, &live);
    let pairs = read_json(qa.join("licence_qa.json"))["training_pairs"].to_string();
    assert!(!pairs.contains("recipients"), "{pairs}");
}

/// Submits `TEXTS` to `provider` with `--no-wait` while the batches are held: (the
/// chunks directory, the Q&A directory).
fn a_held_batch(provider: &str, server: &MockServer, dir: &Path) -> (PathBuf, PathBuf) {
    let chunks = document(dir, &TEXTS);
    let qa = dir.join("qa");
    server.hold_batches(true);
    let no_wait = [&["--batch-api", "--no-wait"][..], &FAST_POLL].concat();
    assert_success(
        &generate(provider, server, &chunks, &qa, &no_wait)
            .output()
            .unwrap(),
    );
    (chunks, qa)
}

/// Submits `TEXTS` with `--no-wait` while the batches are held, then lets the batch
/// end (`tdg batch status` asks for it) and its results go.
fn a_batch_whose_results_went(provider: &str, server: &MockServer, dir: &Path) -> PathBuf {
    let (_, qa) = a_held_batch(provider, server, dir);
    server.hold_batches(false);
    let status = batch("status", &qa);
    assert_success(&status);
    server.let_batch_results_expire();
    qa
}

#[test]
fn an_expired_output_file_has_its_chunks_asked_again_in_a_new_batch_said_once() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = a_batch_whose_results_went("openai", &server, dir.path());
    let chunks = dir.path().join("chunks");
    assert_eq!(completed(&qa), 0);

    // `tdg batch cancel` has nothing to cancel, and says so.
    let cancel = batch("cancel", &qa);
    assert_success(&cancel);
    assert!(
        stderr(&cancel).contains("nothing to cancel"),
        "{}",
        stderr(&cancel)
    );

    let resume = [&["--batch-api", "--resume"][..], &FAST_POLL].concat();
    let resumed = generate("openai", &server, &chunks, &qa, &resume)
        .output()
        .unwrap();
    assert_success(&resumed);
    let said = stderr(&resumed);
    // Said once, naming the batch and why.
    let told: Vec<&str> = said
        .lines()
        .filter(|line| line.contains("its results are gone"))
        .collect();
    assert_eq!(told.len(), 1, "{said}");
    assert!(told[0].contains("batch batch_"), "{said}");
    assert!(told[0].contains("output file file-"), "{said}");
    assert!(told[0].contains("is gone (HTTP 404"), "{said}");
    assert!(
        told[0].contains("its 3 unanswered chunks are asked again in a new batch"),
        "{said}"
    );
    assert!(!said.contains("Check that the model"), "{said}");
    assert_eq!(completed(&qa), 3);
    assert_eq!(server.batches_created(), 2);
    assert_eq!(submissions_by_position(&server), [2, 2, 2]);

    // The batch is done with: the next resume has nothing to collect or ask.
    let status = batch("status", &qa);
    assert_success(&status);
    let table = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(table.contains("results gone\t\t\tyes"), "{table}");
    assert_success(
        &generate("openai", &server, &chunks, &qa, &resume)
            .output()
            .unwrap(),
    );
    assert_eq!(server.batches_created(), 2);
}

#[test]
fn an_archived_anthropic_batch_has_its_chunks_asked_live_with_batch_fallback_live() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = a_batch_whose_results_went("claude", &server, dir.path());
    let chunks = dir.path().join("chunks");
    let status = batch("status", &qa);
    assert_success(&status);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("ended (results gone)"),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );

    let resume = [
        &["--batch-api", "--resume", "--batch-fallback", "live"][..],
        &FAST_POLL,
    ]
    .concat();
    let resumed = generate("claude", &server, &chunks, &qa, &resume)
        .output()
        .unwrap();
    assert_success(&resumed);
    let said = stderr(&resumed);
    assert_eq!(said.matches("its results are gone").count(), 1, "{said}");
    assert!(said.contains("batch msgbatch_"), "{said}");
    assert!(said.contains("results_url answers HTTP 404"), "{said}");
    assert!(said.contains("archived at"), "{said}");
    assert!(said.contains("asked again live"), "{said}");
    assert_eq!(completed(&qa), 3);
    assert_eq!(
        server.batches_created(),
        1,
        "asked live, not in a new batch"
    );
    let live = server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/messages")
        .count();
    assert_eq!(live, 3);
}

/// The pages of `GET /v1/batches` asked for so far.
fn list_pages(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/batches?"))
        .count()
}

#[test]
fn a_lost_creation_is_found_past_a_hundred_newer_batches_of_other_runs_not_paid_twice() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = document(dir.path(), &TEXTS);
    let qa = dir.path().join("qa");
    // The batch is created but its answer is lost, and it cannot be looked up now:
    // the run stops with the submission recorded as pending.
    server.lose_next_batch_create_answer();
    server.fail_batch_lists(true);
    let extra = [&["--batch-api"][..], &FAST_POLL].concat();
    let stopped = generate("openai", &server, &chunks, &qa, &extra)
        .output()
        .unwrap();
    assert_fails_with_code(&stopped, 75, "mock: the answer was lost");
    assert_eq!(server.batches_created(), 1);
    assert_eq!(recorded_batches(&qa), 1);
    let status = batch("status", &qa);
    assert!(String::from_utf8_lossy(&status.stdout).contains("pending-"));

    // Meanwhile other shards on the same key create 150 batches.
    server.fail_batch_lists(false);
    server.add_other_batches(150, Duration::ZERO);
    let resume = [&extra[..], &["--resume"]].concat();
    let resumed = generate("openai", &server, &chunks, &qa, &resume)
        .output()
        .unwrap();
    assert_success(&resumed);
    assert!(stderr(&resumed).contains("reattaching to batch batch_"));
    assert_eq!(server.batches_created(), 1, "submitted again");
    assert_eq!(submissions_by_position(&server), [1, 1, 1]);
    assert_eq!(completed(&qa), 3);
}

#[test]
fn the_lookup_of_a_creation_that_never_happened_reads_back_only_to_its_record() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let chunks = document(dir.path(), &TEXTS);
    let qa = dir.path().join("qa");
    // 150 batches of other runs from just now, 250 from two days ago.
    server.add_other_batches(250, Duration::from_secs(2 * 24 * 3600));
    server.add_other_batches(150, Duration::ZERO);
    // The creation fails without creating anything.
    server.fail_next_batch_create();
    let extra = [&["--batch-api"][..], &FAST_POLL].concat();
    let stopped = generate("openai", &server, &chunks, &qa, &extra)
        .output()
        .unwrap();
    assert_fails_with_code(&stopped, 75, "mock: the batch could not be created");
    // Two pages: the 150 new ones, then the page that reaches the old ones; not the
    // 400 batches' five.
    assert_eq!(list_pages(&server), 2);
    assert_eq!(server.batches_created(), 0);

    // The resume finds no batch either, forgets the submission and makes it again.
    let resume = [&extra[..], &["--resume"]].concat();
    let resumed = generate("openai", &server, &chunks, &qa, &resume)
        .output()
        .unwrap();
    assert_success(&resumed);
    assert_eq!(list_pages(&server), 4);
    assert_eq!(server.batches_created(), 1);
    assert_eq!(submissions_by_position(&server), [1, 1, 1]);
    assert_eq!(completed(&qa), 3);
}

#[test]
fn a_batch_recorded_by_an_older_tdg_without_text_hashes_is_still_reattached() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (chunks, qa) = a_held_batch("openai", &server, dir.path());
    // The ledger as tdg wrote it before requests kept their text's hash.
    let store = rusqlite::Connection::open(qa.join(".tdg-checkpoint.sqlite3")).unwrap();
    store
        .execute_batch("ALTER TABLE batch_requests DROP COLUMN text_hash")
        .unwrap();
    drop(store);

    server.hold_batches(false);
    let resume = [&["--batch-api", "--resume"][..], &FAST_POLL].concat();
    let resumed = generate("openai", &server, &chunks, &qa, &resume)
        .output()
        .unwrap();
    assert_success(&resumed);
    assert!(
        !stderr(&resumed).contains("changed while"),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(
        server.batches_created(),
        1,
        "the old batch was not reattached"
    );
    assert_eq!(submissions_by_position(&server), [1, 1, 1]);
    assert_eq!(completed(&qa), 3);
}
