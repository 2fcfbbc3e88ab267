//! Chunk directories a hostile or careless user makes: two names that are one once
//! read as UTF-8, a FIFO, links to nothing or to themselves, a chunk file too large
//! to read. Each is named; none hangs the run, and the other documents go on.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::common::mock_server::MockServer;
use crate::common::{self, assert_fails_with_code};

fn generate(server: &MockServer, chunks: &Path, qa: &Path) -> std::process::Output {
    common::generate_command("openai", &[&server.url], chunks, qa, &[])
        .env("OPENAI_API_KEY", "sk-test")
        .output()
        .unwrap()
}

#[test]
fn two_names_that_decode_to_one_stem_are_an_error_naming_both() {
    let root = tempfile::tempdir().unwrap();
    let chunks = common::write_document(root.path(), "good", ["A sentence about licences."]);
    let document = std::fs::read(chunks.join("good_chunks.json")).unwrap();
    for byte in [0xfe_u8, 0xff] {
        let mut name = b"doc".to_vec();
        name.push(byte);
        name.extend_from_slice(b"_chunks.json");
        std::fs::write(chunks.join(std::ffi::OsStr::from_bytes(&name)), &document).unwrap();
    }
    let server = MockServer::start();
    let output = generate(&server, &chunks, &root.path().join("qa"));
    assert_fails_with_code(&output, 78, "are both document `doc\u{FFFD}`");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rename one of them"), "{stderr}");
    assert!(!root.path().join("qa").join("good_qa.json").exists());
}

#[test]
fn fifos_and_broken_links_are_skipped_with_a_message_and_the_rest_goes_on() {
    let root = tempfile::tempdir().unwrap();
    let chunks = common::write_document(root.path(), "good", ["A sentence about licences."]);
    let fifo = chunks.join("pipe_chunks.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink(
        chunks.join("nowhere.json"),
        chunks.join("dangling_chunks.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        chunks.join("loop_chunks.json"),
        chunks.join("loop_chunks.json"),
    )
    .unwrap();

    let server = MockServer::start();
    let qa = root.path().join("qa");
    let output = generate(&server, &chunks, &qa);
    common::assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for (name, said) in [
        (
            "pipe_chunks.json",
            "not a regular file (a FIFO, socket or device)",
        ),
        ("dangling_chunks.json", "a symbolic link to nothing"),
        ("loop_chunks.json", "a symbolic link that loops"),
    ] {
        assert!(
            stderr.contains(&format!("{name}: {said}; skipped")),
            "{name}: {stderr}"
        );
    }
    assert!(qa.join("good_qa.json").is_file());
}

#[test]
fn a_chunk_file_too_large_to_read_is_refused_unread_and_the_others_go_on() {
    let root = tempfile::tempdir().unwrap();
    let chunks = common::write_document(root.path(), "good", ["A sentence about licences."]);
    // Sparse: its size is over the bound, without the disk space.
    let huge = std::fs::File::create(chunks.join("huge_chunks.json")).unwrap();
    huge.set_len(tdg::chunks::MAX_CHUNK_FILE_BYTES + 1).unwrap();
    drop(huge);

    let server = MockServer::start();
    let qa = root.path().join("qa");
    let output = generate(&server, &chunks, &qa);
    assert_fails_with_code(&output, 1, "huge_chunks.json");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("split the document"), "{stderr}");
    assert!(qa.join("good_qa.json").is_file());
}
