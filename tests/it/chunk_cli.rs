//! `tdg chunk` from the outside: the licence texts chunk to the original chunker's
//! files field for field, LangChain's own splitter agrees on real texts, the other
//! strategies keep their promises, colliding names and unreadable files are said, a
//! second run rewrites only what changed, and `generate` runs on what it wrote.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::mock_server::MockServer;
use common::{corpus, fixtures, read_json, tdg_isolated};
use serde_json::Value;

fn documents() -> PathBuf {
    fixtures().join("documents")
}

/// `tdg chunk INPUTS --chunks-dir root/chunks EXTRA` in `root`.
fn chunk(root: &Path, inputs: &[&Path], extra: &[&str]) -> Output {
    tdg_isolated(root)
        .arg("chunk")
        .args(inputs)
        .arg("--chunks-dir")
        .arg(root.join("chunks"))
        .args(extra)
        .output()
        .unwrap()
}

/// `tdg generate` on `root/chunks` against a mock server; the Q&A directory.
fn generate_on(root: &Path) -> PathBuf {
    let server = MockServer::start();
    let qa = root.join("qa");
    let output = common::generate_command("openai", &[&server.url], &root.join("chunks"), &qa, &[])
        .output()
        .unwrap();
    common::assert_success(&output);
    qa
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A copy of the fixture `names` in `root/docs`.
fn copy_documents(root: &Path, names: &[&str]) -> PathBuf {
    let docs = root.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for name in names {
        std::fs::copy(documents().join(name), docs.join(name)).unwrap();
    }
    docs
}

#[test]
fn the_licence_texts_chunk_to_the_original_chunkers_files_field_for_field() {
    let root = tempfile::tempdir().unwrap();
    let docs = copy_documents(root.path(), &["GPL-3.txt", "Apache-2.0.txt"]);
    let output = chunk(root.path(), &[&docs], &[]);
    common::assert_success(&output);
    for stem in ["GPL-3", "Apache-2.0"] {
        let original = read_json(corpus().join(format!("{stem}_chunks.json")));
        let ours = read_json(root.path().join(format!("chunks/{stem}_chunks.json")));
        let keys = |value: &Value| {
            value
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&ours), keys(&original), "{stem}: top-level keys");
        assert_eq!(
            ours["metadata"]["file_size"],
            original["metadata"]["file_size"]
        );
        assert_eq!(keys(&ours["metadata"]), keys(&original["metadata"]));
        assert_eq!(
            ours["processing_info"]["total_chunks"],
            original["processing_info"]["total_chunks"]
        );
        let (ours, original) = (
            ours["chunks"].as_array().unwrap(),
            original["chunks"].as_array().unwrap(),
        );
        assert_eq!(ours.len(), original.len(), "{stem}: chunk count");
        for (position, (mine, theirs)) in ours.iter().zip(original).enumerate() {
            assert_eq!(
                keys(mine),
                keys(theirs),
                "{stem} chunk {position}: keys and their order"
            );
            for field in [
                "text",
                "chunk_id",
                "chunk_index",
                "document_index",
                "word_count",
                "char_count",
                "start_char",
                "end_char",
            ] {
                assert_eq!(
                    mine[field], theirs[field],
                    "{stem} chunk {position}: {field}"
                );
            }
            // The original's metadata keys in its order, then the exact offsets.
            let mut metadata = keys(&mine["metadata"]);
            assert_eq!(
                metadata.split_off(metadata.len() - 2),
                ["start_index", "end_index"]
            );
            assert_eq!(
                metadata,
                keys(&theirs["metadata"]),
                "{stem} chunk {position}: metadata keys"
            );
            let text: Vec<char> = std::fs::read_to_string(documents().join(format!("{stem}.txt")))
                .unwrap()
                .chars()
                .collect();
            let (start, end) = (
                mine["metadata"]["start_index"].as_u64().unwrap() as usize,
                mine["metadata"]["end_index"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                text[start..end].iter().collect::<String>(),
                mine["text"].as_str().unwrap()
            );
        }
    }
}

/// LangChain's splitter, run by `scripts/langchain_chunks.py`, on `files`.
fn langchain_chunks(
    size: usize,
    overlap: usize,
    files: &[PathBuf],
) -> serde_json::Map<String, Value> {
    let output = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/langchain_chunks.py"))
        .args([size.to_string(), overlap.to_string()])
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "LangChain's splitter did not run (pip install langchain-text-splitters): {}",
        stderr(&output)
    );
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn langchains_own_splitter_gives_the_same_chunks_on_real_texts_and_sizes() {
    let files: Vec<PathBuf> = ["GPL-3.txt", "Apache-2.0.txt", "clippy-README.md"]
        .iter()
        .map(|name| documents().join(name))
        .collect();
    for (size, overlap) in [(1000, 200), (300, 50), (80, 0), (40, 39)] {
        let expected = langchain_chunks(size, overlap, &files);
        let root = tempfile::tempdir().unwrap();
        let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let output = chunk(
            root.path(),
            &inputs,
            &[
                "--chunk-size",
                &size.to_string(),
                "--chunk-overlap",
                &overlap.to_string(),
            ],
        );
        common::assert_success(&output);
        for file in &files {
            let stem = file.file_stem().unwrap().to_string_lossy();
            let ours: Vec<Value> =
                read_json(root.path().join(format!("chunks/{stem}_chunks.json")))["chunks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|chunk| chunk["text"].clone())
                    .collect();
            let theirs = expected[&file.display().to_string()].as_array().unwrap();
            assert_eq!(&ours, theirs, "{stem} at size {size}, overlap {overlap}");
        }
    }
}

fn chunk_texts(path: &Path) -> Vec<(String, Value)> {
    read_json(path)["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|chunk| {
            (
                chunk["text"].as_str().unwrap().to_string(),
                chunk["metadata"].clone(),
            )
        })
        .collect()
}

#[test]
fn markdown_keeps_code_blocks_whole_and_records_each_chunks_heading_path() {
    let root = tempfile::tempdir().unwrap();
    let docs = copy_documents(root.path(), &["clippy-README.md"]);
    let output = chunk(
        root.path(),
        &[&docs],
        &[
            "--strategy",
            "markdown",
            "--chunk-size",
            "400",
            "--chunk-overlap",
            "0",
        ],
    );
    common::assert_success(&output);
    let chunks = chunk_texts(&root.path().join("chunks/clippy-README_chunks.json"));
    assert!(chunks.len() > 10, "{} chunks", chunks.len());
    for (text, _) in &chunks {
        assert!(
            text.chars().count() <= 400 || !text.contains("\n\n"),
            "an oversized chunk of blocks: {text}"
        );
        assert_eq!(
            text.matches("```").count() % 2,
            0,
            "a code block cut: {text}"
        );
    }
    let (_, metadata) = chunks
        .iter()
        .find(|(text, _)| text.contains("rustup component add clippy"))
        .expect("the install step");
    assert_eq!(
        metadata["headings"],
        serde_json::json!([
            "Clippy",
            "Usage",
            "As a cargo subcommand (`cargo clippy`)",
            "Step 2: Install Clippy"
        ])
    );
    let text = std::fs::read_to_string(docs.join("clippy-README.md")).unwrap();
    for (chunk, metadata) in &chunks {
        let start = metadata["start_index"].as_u64().unwrap() as usize;
        let end = metadata["end_index"].as_u64().unwrap() as usize;
        assert_eq!(
            &text
                .chars()
                .skip(start)
                .take(end - start)
                .collect::<String>(),
            chunk
        );
    }
}

#[test]
fn sentences_are_never_cut_and_tokens_are_counted_in_the_named_encoding() {
    let root = tempfile::tempdir().unwrap();
    let docs = copy_documents(root.path(), &["Apache-2.0.txt"]);
    let output = chunk(
        root.path(),
        &[&docs],
        &[
            "--strategy",
            "sentences",
            "--chunk-size",
            "120",
            "--chunk-overlap",
            "30",
            "--size-unit",
            "tokens",
            "--tokenizer",
            "cl100k_base",
        ],
    );
    common::assert_success(&output);
    let file = read_json(root.path().join("chunks/Apache-2.0_chunks.json"));
    assert_eq!(file["processing_info"]["size_unit"], "tokens:cl100k_base");
    let encoding = tiktoken_rs::cl100k_base().unwrap();
    let chunks = chunk_texts(&root.path().join("chunks/Apache-2.0_chunks.json"));
    let mut oversized = 0;
    for (text, _) in &chunks {
        let tokens = encoding.encode_ordinary(text).len();
        // Only a single sentence longer than the size may exceed it.
        if tokens > 120 {
            oversized += 1;
            assert!(
                !text[..text.len() - 1].contains(". "),
                "{tokens} tokens of several sentences: {text}"
            );
        }
        let last = text.trim_end().chars().last().unwrap();
        assert!(
            ".:;)\"".contains(last) || text.ends_with("APPENDIX") || last.is_alphanumeric(),
            "ends mid-sentence: {text}"
        );
    }
    assert!(oversized < chunks.len() / 4);
    // Consecutive chunks overlap in whole sentences.
    let shared = chunks.windows(2).filter(|pair| {
        let first_sentence = pair[1].0.split_inclusive(". ").next().unwrap().trim();
        pair[0].0.contains(first_sentence)
    });
    assert!(
        shared.count() > 0,
        "no chunk starts with its predecessor's last sentence"
    );
}

#[test]
fn chunks_fit_the_embedded_models_own_tokens() {
    let Some(model) = crate::embedded::test_model() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let docs = copy_documents(root.path(), &["Apache-2.0.txt"]);
    let output = chunk(
        root.path(),
        &[&docs],
        &[
            "--strategy",
            "markdown",
            "--chunk-size",
            "200",
            "--chunk-overlap",
            "0",
            "--size-unit",
            "tokens",
            "--tokenizer",
            model.to_str().unwrap(),
        ],
    );
    common::assert_success(&output);
    let vocabulary = tdg::provider::embedded::vocabulary(model.to_str().unwrap()).unwrap();
    let chunks = chunk_texts(&root.path().join("chunks/Apache-2.0_chunks.json"));
    let sizes: Vec<usize> = chunks
        .iter()
        .map(|(text, _)| vocabulary.count(text))
        .collect();
    assert!(sizes.iter().all(|size| *size <= 200), "{sizes:?}");
    // Filled, not cut at every paragraph: most chunks are more than half full.
    assert!(
        sizes.iter().filter(|size| **size > 100).count() * 2 > sizes.len(),
        "{sizes:?}"
    );
}

#[test]
fn colliding_names_unreadable_files_and_other_formats_are_said_and_the_rest_goes_on() {
    let root = tempfile::tempdir().unwrap();
    let docs = root.path().join("docs");
    for dir in ["a", "b"] {
        std::fs::create_dir_all(docs.join(dir)).unwrap();
        std::fs::write(
            docs.join(dir).join("notes.md"),
            format!("# Notes {dir}\n\nText of {dir}.\n"),
        )
        .unwrap();
    }
    std::fs::write(docs.join("latin1.txt"), b"caf\xe9 au lait").unwrap();
    std::fs::write(docs.join("wide.txt"), b"\xff\xfeh\0i\0").unwrap();
    std::fs::write(docs.join("image.xyz"), b"\x89PNG").unwrap();
    std::fs::write(docs.join("draft.md"), "# Draft\n").unwrap();
    std::fs::copy(
        documents().join("Apache-2.0.txt"),
        docs.join("Apache-2.0.txt"),
    )
    .unwrap();
    let output = chunk(root.path(), &[&docs], &["--exclude", "draft.*"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let log = stderr(&output);
    assert!(
        log.contains("latin1.txt: it is not valid UTF-8 (byte 3, line 1)"),
        "{log}"
    );
    assert!(log.contains("wide.txt: it is UTF-16"), "{log}");
    let summary = read_json(root.path().join("chunks/chunking_summary.json"));
    assert_eq!(
        (
            summary["written"].as_u64(),
            summary["failed"].as_u64(),
            summary["skipped"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(
        summary["skipped_by_extension"][".xyz"][0],
        docs.join("image.xyz").display().to_string()
    );
    let stems: Vec<&str> = summary["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["stem"].as_str().unwrap())
        .collect();
    assert_eq!(
        stems,
        ["Apache-2.0", "a_notes.md", "b_notes.md", "latin1", "wide"]
    );
    let renamed = &summary["documents"][1];
    assert_eq!(renamed["renamed"], "another document is also `notes`");
    assert!(
        summary["documents"][3]["error"]
            .as_str()
            .unwrap()
            .contains("not valid UTF-8")
    );
    assert_eq!(
        chunk_texts(&root.path().join("chunks/b_notes.md_chunks.json"))[0].1["headings"],
        serde_json::json!(["Notes b"])
    );
    assert!(!root.path().join("chunks/draft_chunks.json").exists());
    assert!(!root.path().join("chunks/latin1_chunks.json").exists());
}

#[test]
fn a_second_run_rewrites_only_the_documents_that_changed() {
    let root = tempfile::tempdir().unwrap();
    let docs = copy_documents(root.path(), &["GPL-3.txt", "Apache-2.0.txt"]);
    common::assert_success(&chunk(root.path(), &[&docs], &[]));
    let chunks = root.path().join("chunks");
    let stamp = |stem: &str| {
        read_json(chunks.join(format!("{stem}_chunks.json")))["metadata"]["processed_at"].clone()
    };
    let (gpl, apache) = (stamp("GPL-3"), stamp("Apache-2.0"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    common::assert_success(&chunk(root.path(), &[&docs], &[]));
    assert_eq!(
        (stamp("GPL-3"), stamp("Apache-2.0")),
        (gpl.clone(), apache.clone())
    );
    let summary = read_json(chunks.join("chunking_summary.json"));
    assert_eq!(
        (summary["written"].as_u64(), summary["unchanged"].as_u64()),
        (Some(0), Some(2))
    );

    let mut text = std::fs::read_to_string(docs.join("Apache-2.0.txt")).unwrap();
    text.push_str("\nOne more paragraph at the end.\n");
    std::fs::write(docs.join("Apache-2.0.txt"), text).unwrap();
    common::assert_success(&chunk(root.path(), &[&docs], &[]));
    assert_eq!(stamp("GPL-3"), gpl);
    assert_ne!(stamp("Apache-2.0"), apache);
    // Other settings are other chunks: every file is made again.
    common::assert_success(&chunk(root.path(), &[&docs], &["--chunk-size", "500"]));
    assert_ne!(stamp("GPL-3"), gpl);
    assert_eq!(
        read_json(chunks.join("GPL-3_chunks.json"))["processing_info"]["chunk_size"],
        500
    );
}

#[test]
fn settings_come_from_the_environment_and_the_config_file_and_bad_ones_exit_78() {
    let root = tempfile::tempdir().unwrap();
    let docs = copy_documents(root.path(), &["Apache-2.0.txt"]);
    std::fs::write(
        root.path().join("tdg.toml"),
        "chunks_dir = \"from-config\"\n\n[chunk]\nchunk_size = 400\nchunk_overlap = 0\n",
    )
    .unwrap();
    let output = tdg_isolated(root.path())
        .arg("chunk")
        .arg(&docs)
        .env("CHUNKER_CHUNK_SIZE", "300")
        .output()
        .unwrap();
    common::assert_success(&output);
    let file = read_json(root.path().join("from-config/Apache-2.0_chunks.json"));
    assert_eq!(
        (
            file["processing_info"]["chunk_size"].as_u64(),
            file["processing_info"]["chunk_overlap"].as_u64()
        ),
        (Some(300), Some(0))
    );

    let output = chunk(
        root.path(),
        &[&docs],
        &["--chunk-size", "100", "--chunk-overlap", "100"],
    );
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("--chunk-overlap 100 must be smaller than --chunk-size 100"),
        "{}",
        stderr(&output)
    );
    let output = chunk(root.path(), &[&docs], &["--size-unit", "tokens"]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("--tokenizer must be given with --size-unit tokens"),
        "{}",
        stderr(&output)
    );
    let output = chunk(root.path(), &[&root.path().join("nowhere")], &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("nowhere: no such file or folder"),
        "{}",
        stderr(&output)
    );
    std::fs::write(root.path().join("tdg.toml"), "[chunk]\nchunk_sise = 400\n").unwrap();
    let output = chunk(root.path(), &[&docs], &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("chunk_sise"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn generate_runs_on_the_chunk_files_tdg_chunk_wrote() {
    let root = tempfile::tempdir().unwrap();
    let docs = copy_documents(root.path(), &["Apache-2.0.txt", "clippy-README.md"]);
    common::assert_success(&chunk(root.path(), &[&docs], &["--strategy", "markdown"]));
    let qa = generate_on(root.path());
    for stem in ["Apache-2.0", "clippy-README"] {
        let chunks = read_json(root.path().join(format!("chunks/{stem}_chunks.json")))["chunks"]
            .as_array()
            .unwrap()
            .len();
        let qa_file = read_json(qa.join(format!("{stem}_qa.json")));
        assert_eq!(
            qa_file["completed_chunks"].as_array().unwrap().len(),
            chunks,
            "{stem}"
        );
        assert!(
            !qa_file["training_pairs"].as_array().unwrap().is_empty(),
            "{stem}"
        );
    }
}

#[test]
fn ctrl_c_stops_between_documents_leaving_every_file_whole_and_a_summary_that_says_so() {
    let root = tempfile::tempdir().unwrap();
    let docs = root.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let text = std::fs::read_to_string(documents().join("GPL-3.txt")).unwrap();
    for index in 0..400 {
        std::fs::write(
            docs.join(format!("licence-{index:03}.txt")),
            format!("{index}\n\n{text}"),
        )
        .unwrap();
    }
    let chunks = root.path().join("chunks");
    let mut child = tdg_isolated(root.path())
        .arg("chunk")
        .arg(&docs)
        .arg("--chunks-dir")
        .arg(&chunks)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let written = || {
        std::fs::read_dir(&chunks)
            .map(|dir| dir.count())
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while written() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "no chunk files were written"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    let summary = read_json(chunks.join("chunking_summary.json"));
    assert_eq!(code, Some(130));
    assert_eq!(summary["interrupted"], true);
    let done = summary["written"].as_u64().unwrap();
    assert!((1..400).contains(&done), "{done} written");
    let files: Vec<PathBuf> = std::fs::read_dir(&chunks)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with("_chunks.json"))
        .collect();
    // Every file there is whole (and no temporary is left), and the next run does the rest.
    assert_eq!(files.len() as u64, done);
    for file in &files {
        assert_eq!(read_json(file)["processing_info"]["total_chunks"], 48);
    }
    common::assert_success(&chunk(root.path(), &[&docs], &[]));
    let summary = read_json(chunks.join("chunking_summary.json"));
    assert_eq!(
        (summary["unchanged"].as_u64(), summary["written"].as_u64()),
        (Some(done), Some(400 - done))
    );
}

#[test]
fn a_folder_of_real_documents_in_every_format_gives_a_chunk_file_each_and_generate_runs() {
    let root = tempfile::tempdir().unwrap();
    // The bundled documents and, beside them, a corrupt PDF.
    let broken = fixtures().join("broken-documents");
    let output = chunk(root.path(), &[&documents(), &broken], &[]);
    let log = stderr(&output);
    // The truncated PDF fails alone, named, and the exit code says a document failed.
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("zstd-manual-truncated.pdf: the pdf loader failed"),
        "{log}"
    );
    // The scan is warned page by page.
    assert!(
        log.contains("zstd-manual-scanned.pdf: page 1 has almost no text"),
        "{log}"
    );
    let summary = read_json(root.path().join("chunks/chunking_summary.json"));
    let outcome = |stem: &str| {
        summary["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["stem"] == stem)
            .unwrap_or_else(|| panic!("{stem} is not in the summary: {summary}"))
            .clone()
    };
    assert_eq!(outcome("zstd-manual-truncated")["outcome"], "failed");
    assert_eq!(
        outcome("zstd-manual-scanned")["pages_without_text"],
        serde_json::json!([1])
    );
    for (stem, format) in [
        ("clippy-README", "md"),
        ("libffi-primitive-types", "html"),
        ("libffi-readme.docx", "docx"),
        ("libffi-readme.odt", "odt"),
        ("libffi-readme.epub", "epub"),
        ("zstd-manual", "pdf"),
        ("artistic-two-column", "pdf"),
    ] {
        let report = outcome(stem);
        assert_eq!(
            (report["outcome"].as_str(), report["format"].as_str()),
            (Some("written"), Some(format)),
            "{report}"
        );
        let file = read_json(root.path().join(format!("chunks/{stem}_chunks.json")));
        assert!(file["chunks"].as_array().unwrap().len() > 1, "{stem}");
    }
    // A PDF is one document per page: page numbers in the metadata, chunk ids per page.
    let pdf = read_json(root.path().join("chunks/zstd-manual_chunks.json"));
    let pages: std::collections::BTreeSet<u64> = pdf["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|chunk| {
            let page = chunk["metadata"]["page"].as_u64().unwrap();
            assert_eq!(chunk["document_index"].as_u64().unwrap() + 1, page);
            assert!(
                chunk["chunk_id"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{}_", page - 1))
            );
            page
        })
        .collect();
    assert_eq!(
        outcome("zstd-manual")["pages"].as_u64(),
        Some(pages.len() as u64)
    );
    assert!(pages.len() > 3, "{pages:?}");
    // A two-column page reads column by column: the left column's last paragraph, then
    // the right column's first, and typesetters' ligatures are letters again.
    let two_columns: String =
        chunk_texts(&root.path().join("chunks/artistic-two-column_chunks.json"))
            .iter()
            .filter(|(_, metadata)| metadata["page"] == 1)
            .map(|(text, _)| text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
    let left = two_columns
        .find("that you do at least ONE of the following")
        .expect("the left column's end");
    let right = two_columns
        .find("place your modifications in the Public")
        .expect("the right column's start");
    assert!(left < right, "{two_columns}");
    assert!(
        !two_columns.contains('\u{FB01}'),
        "a ligature left: {two_columns}"
    );
    // The Word file's headings became heading paths.
    let docx = chunk_texts(&root.path().join("chunks/libffi-readme.docx_chunks.json"));
    assert!(
        docx.iter()
            .any(|(_, metadata)| metadata["headings"] == serde_json::json!(["What is libffi?"]))
    );

    let qa = generate_on(root.path());
    for stem in [
        "libffi-primitive-types",
        "libffi-readme.epub",
        "zstd-manual",
    ] {
        assert!(
            !read_json(qa.join(format!("{stem}_qa.json")))["training_pairs"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{stem}"
        );
    }
}
