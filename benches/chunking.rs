//! `tdg chunk`'s splitters on 100 MB of real text, side by side in the same run with
//! LangChain's own `RecursiveCharacterTextSplitter` (PyPI `langchain-text-splitters`,
//! through `scripts/langchain_chunks.py --time`) on the same files, for BENCHMARKS.md:
//!
//! - `recursive` in MB/s against LangChain's, with the chunk texts checked identical
//!   (a SHA-256 of every chunk text, in order);
//! - `markdown` in MB/s;
//! - the peak RSS of `tdg chunk` on the whole folder (it should be that of its largest
//!   document, not of the folder), under `/usr/bin/time`, beside its peak RSS on that
//!   largest document alone;
//! - PDF pages per second: `tdg chunk` on a 200-page PDF that groff typesets from the
//!   GPL-3 text (the whole command: the PDF loader's sandboxed component included).
//!
//! The text: the licence texts Debian installs (`/usr/share/common-licenses`) and the
//! tests' Markdown fixture, repeated into 100 documents of about 1 MB each.
//!
//! Run: `cargo bench --bench chunking` (`-- MB` for another size in MB).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};
use tdg::documents::recursive::RecursiveSplitter;
use tdg::documents::structured::{Sizer, split_markdown};

#[path = "common/peak_rss.rs"]
mod peak_rss;

const DOCUMENT_BYTES: usize = 1 << 20;

fn main() {
    let megabytes: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(100);
    let root = tempfile::tempdir().unwrap();
    let files = corpus(&root.path().join("docs"), megabytes);
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    println!("{} documents, {mb:.1} MB of text", texts.len());

    let splitter = RecursiveSplitter {
        chunk_size: 1000,
        chunk_overlap: 200,
    };
    // Timed: the splitting alone, as LangChain's figure is its split_text alone.
    let started = Instant::now();
    let split: Vec<Vec<std::ops::Range<usize>>> =
        texts.iter().map(|text| splitter.split(text)).collect();
    let ours = started.elapsed().as_secs_f64();
    let mut digest = Sha256::new();
    let mut chunks = 0;
    for (text, ranges) in texts.iter().zip(&split) {
        for range in ranges {
            digest.update(text[range.clone()].as_bytes());
            digest.update([0]);
            chunks += 1;
        }
    }
    let ours_digest = tdg_hex(&digest.finalize());
    println!(
        "recursive (tdg):       {:>8.1} MB/s, {chunks} chunks, {ours:.2} s",
        mb / ours
    );

    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/langchain_chunks.py"))
        .args(["--time", "1000", "200"])
        .args(&files)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "LangChain did not run (pip install langchain-text-splitters): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let seconds = theirs["seconds"].as_f64().unwrap();
    println!(
        "recursive (LangChain): {:>8.1} MB/s, {} chunks, {seconds:.2} s",
        mb / seconds,
        theirs["chunks"]
    );
    let identical = theirs["digest"].as_str() == Some(ours_digest.as_str());
    println!(
        "tdg is {:.1}x LangChain; chunk texts identical: {identical}",
        seconds / ours
    );
    assert!(identical, "the chunk texts differ from LangChain's");

    let started = Instant::now();
    let mut markdown_chunks = 0;
    for text in &texts {
        markdown_chunks += split_markdown(text, &Sizer::Chars, 1000, 200)
            .unwrap()
            .len();
    }
    let markdown = started.elapsed().as_secs_f64();
    println!(
        "markdown (tdg):        {:>8.1} MB/s, {markdown_chunks} chunks, {markdown:.2} s",
        mb / markdown
    );

    let largest = texts.iter().map(String::len).max().unwrap_or(0);
    let peak = peak_rss_kib(&root.path().join("docs"), &root.path().join("chunks"));
    let alone = root.path().join("largest");
    std::fs::create_dir_all(&alone).unwrap();
    let biggest = files
        .iter()
        .max_by_key(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .unwrap();
    std::fs::copy(biggest, alone.join("largest.md")).unwrap();
    let peak_alone = peak_rss_kib(&alone, &root.path().join("chunks-largest"));
    println!(
        "tdg chunk on the folder: peak RSS {:.1} MiB; on its largest document alone {:.1} MiB (largest document {:.1} MiB, folder {:.1} MiB)",
        peak as f64 / 1024.0,
        peak_alone as f64 / 1024.0,
        largest as f64 / (1 << 20) as f64,
        bytes as f64 / (1 << 20) as f64
    );

    let (pdf, pages) = typeset_pdf(&root.path().join("pdf"), 200);
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_tdg"))
        .args(["-q", "chunk"])
        .arg(pdf.parent().unwrap())
        .arg("--chunks-dir")
        .arg(root.path().join("chunks-pdf"))
        .status()
        .unwrap();
    assert!(status.success());
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "pdf (tdg chunk, pdf-loader): {:>6.1} pages/s, {pages} pages in {seconds:.2} s",
        pages as f64 / seconds
    );
}

/// A PDF of at least `pages` pages typeset by groff from the GPL-3 text, repeated, in
/// `dir`; and its page count, as `pdfinfo` reads it.
fn typeset_pdf(dir: &Path, pages: usize) -> (PathBuf, usize) {
    std::fs::create_dir_all(dir).unwrap();
    let gpl = std::fs::read_to_string("/usr/share/common-licenses/GPL-3").unwrap();
    // Plain paragraphs for groff's ms macros: a line starting with `.` or `'` would be
    // a request, so it is escaped.
    let body: String = gpl
        .split("\n\n")
        .map(|paragraph| {
            let lines: Vec<String> = paragraph
                .lines()
                .map(|line| line.trim())
                .filter(|line| !line.is_empty())
                .map(|line| format!("\\&{}", line.replace('\\', "\\e")))
                .collect();
            format!(".LP\n{}\n", lines.join("\n"))
        })
        .collect();
    let path = dir.join("gpl-typeset.pdf");
    let mut copies = 1;
    loop {
        let source = dir.join("gpl.ms");
        std::fs::write(&source, body.repeat(copies)).unwrap();
        let output = Command::new("groff")
            .args(["-ms", "-Tpdf"])
            .arg(&source)
            .output()
            .expect("groff (Debian's groff package) typesets the PDF");
        assert!(output.status.success());
        std::fs::write(&path, &output.stdout).unwrap();
        let info = Command::new("pdfinfo")
            .arg(&path)
            .output()
            .expect("pdfinfo (poppler-utils)");
        let found = String::from_utf8_lossy(&info.stdout)
            .lines()
            .find_map(|line| {
                line.strip_prefix("Pages:")
                    .map(|n| n.trim().parse::<usize>().unwrap())
            })
            .unwrap();
        if found >= pages {
            return (path, found);
        }
        copies = copies * pages / found.max(1) + 1;
    }
}

/// `megabytes` MB of real text in documents of about [`DOCUMENT_BYTES`] under `dir`.
fn corpus(dir: &Path, megabytes: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let mut sources: Vec<String> = std::fs::read_dir("/usr/share/common-licenses")
        .expect("Debian's base-files licence texts")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .collect();
    sources.sort();
    sources.push(
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/documents/clippy-README.md"),
        )
        .unwrap(),
    );
    let mut files = Vec::new();
    let mut next = 0;
    for index in 0..megabytes {
        let mut text = String::with_capacity(DOCUMENT_BYTES + 40_000);
        while text.len() < DOCUMENT_BYTES {
            text.push_str(&sources[next % sources.len()]);
            text.push_str("\n\n");
            next += 1;
        }
        let path = dir.join(format!("document-{index:03}.md"));
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    files
}

/// `tdg chunk dir --chunks-dir chunks` under `/usr/bin/time`: its peak RSS in KiB.
fn peak_rss_kib(dir: &Path, chunks: &Path) -> u64 {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdg"));
    command
        .args(["-q", "chunk"])
        .arg(dir)
        .arg("--chunks-dir")
        .arg(chunks);
    peak_rss::peak_rss_kib(&command)
}

fn tdg_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
