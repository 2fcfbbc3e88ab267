//! A chunk's page and heading path, as `tdg chunk` records them in its metadata
//! (`page`, `headings`), shown by `tdg prompt` and kept through `generate` into the
//! checkpoint, where `tdg review` serves them beside the chunk's text.

use crate::common;

use std::path::{Path, PathBuf};

use common::mock_server::MockServer;
use common::tdg_isolated;
use serde_json::json;

const TEMPLATE: &str = "Write {{ num_questions }} question-answer pairs about the text as a JSON array.\n\"\"\"\n{{ text }}\n\"\"\"\n";

/// A chunk file of two chunks: one on page 2 under `Install › From source`, one with
/// no place recorded.
fn placed_document(root: &Path) -> PathBuf {
    let dir = root.join("chunks");
    std::fs::create_dir_all(&dir).unwrap();
    let document = json!({
        "status": "completed",
        "metadata": {"file_name": "guide.pdf", "file_type": ".pdf"},
        "chunks": [
            {"text": "Run cargo build in the checkout to compile the tool from its sources.",
             "chunk_id": "1_0", "chunk_index": 0, "document_index": 1,
             "metadata": {"source": "guide.pdf", "page": 2, "headings": ["Install", "From source"]}},
            {"text": "The lighthouse beam reaches twenty nautical miles on clear nights.",
             "chunk_id": "0_1", "chunk_index": 1,
             "metadata": {"source": "guide.pdf"}},
        ],
    });
    std::fs::write(dir.join("guide_chunks.json"), document.to_string()).unwrap();
    dir
}

#[test]
fn prompt_names_the_chunks_page_and_heading_path() {
    let root = tempfile::tempdir().unwrap();
    let chunks = placed_document(root.path());
    let heading = |position: &str| {
        let output = tdg_isolated(root.path())
            .args(["prompt", "--chunk", position, "--chunks-dir"])
            .arg(&chunks)
            .output()
            .unwrap();
        common::assert_success(&output);
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        heading("0"),
        "# guide_chunks.json · chunk 0 (id 1_0) · page 2 · Install › From source"
    );
    assert_eq!(heading("1"), "# guide_chunks.json · chunk 1 (id 0_1)");
}

#[test]
fn review_serves_the_chunks_page_and_heading_path_from_the_checkpoint() {
    let server = MockServer::start();
    let root = tempfile::tempdir().unwrap();
    let chunks = placed_document(root.path());
    let template = root.path().join("template.jinja");
    std::fs::write(&template, TEMPLATE).unwrap();
    let qa = root.path().join("qa");
    let output = common::generate_command(
        "openai",
        &[&server.url],
        &chunks,
        &qa,
        &["--qa-prompt-template-file", template.to_str().unwrap()],
    )
    .output()
    .unwrap();
    common::assert_success(&output);
    // The chunk file may change or go once the run is over: the place is the checkpoint's.
    std::fs::remove_dir_all(&chunks).unwrap();

    let review = crate::review::ReviewServer::start(&qa);
    let (status, placed) = review.get("/api/chunk?stem=guide&position=0");
    assert_eq!(status, 200, "{placed}");
    assert_eq!(placed["page"], 2);
    assert_eq!(placed["headings"], json!(["Install", "From source"]));
    let (_, unplaced) = review.get("/api/chunk?stem=guide&position=1");
    assert_eq!(unplaced["page"], serde_json::Value::Null);
    assert_eq!(unplaced["headings"], json!([]));
    assert!(unplaced["text"].as_str().unwrap().contains("lighthouse"));
}
