//! `tdg export` at scale: 1,000,000 pairs written straight into a checkpoint (no model:
//! 1,000 documents of 250 chunks, 4 pairs each) and rendered to Q&A files by the views,
//! then exported to Parquet and to JSON Lines with a 90/5/5 split, each under
//! `/usr/bin/time` for its wall time and peak RSS.
//!
//! ```sh
//! cargo bench --bench export_scale                 # 1,000,000 pairs
//! TDG_EXPORT_PAIRS=100000 cargo bench --bench export_scale
//! TDG_EXPORT_QA_DIR=/tmp/big cargo bench --bench export_scale   # and keep the Q&A directory
//! ```

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use tdg::checkpoint::{
    CheckpointStore, ChunkOutcome, ChunkStatus, DocumentRecord, RunRecord, StoredPair,
};
use tdg::quality::{DedupeScope, QualityFilter};

const CHUNKS_PER_DOCUMENT: u64 = 250;
const PAIRS_PER_CHUNK: u64 = 4;

const WORDS: &[&str] = &[
    "licence",
    "patent",
    "grant",
    "source",
    "object",
    "derivative",
    "notice",
    "warranty",
    "liability",
    "contribution",
    "trademark",
    "redistribution",
    "modification",
    "copyright",
    "permission",
    "condition",
    "termination",
    "jurisdiction",
    "attribution",
    "exception",
];

/// A sentence of `count` words chosen by `seed`, with numbers in it, so that records
/// differ as real ones do (and compress no better).
fn sentence(seed: u64, count: usize) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match state % 5 {
                0 => (state >> 8 & 0xFFFF).to_string(),
                _ => WORDS[(state >> 20) as usize % WORDS.len()].to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fills a checkpoint in `qa_dir` with `pairs` pairs and writes the Q&A files.
fn fill(qa_dir: &Path, pairs: u64) {
    std::fs::create_dir_all(qa_dir).unwrap();
    let mut store = CheckpointStore::open(qa_dir).unwrap();
    let filter = QualityFilter {
        dedupe: DedupeScope::Off,
        min_grounding: 0.0,
        ..Default::default()
    };
    store.set_quality_filter(&filter).unwrap();
    let settings = Arc::new(RunRecord {
        provider: "openai".into(),
        model: "bench-model".into(),
        temperature: Some(0.7),
        questions_per_chunk: PAIRS_PER_CHUNK as u32,
        ..Default::default()
    });
    let chunks = pairs.div_ceil(PAIRS_PER_CHUNK);
    let documents = chunks.div_ceil(CHUNKS_PER_DOCUMENT);
    for document in 0..documents {
        let stem = format!("doc-{document:05}");
        let in_document = CHUNKS_PER_DOCUMENT.min(chunks - document * CHUNKS_PER_DOCUMENT);
        store
            .put_document(&DocumentRecord {
                stem: stem.clone(),
                chunks_file: format!("chunks/{stem}_chunks.json").into(),
                total_chunks: in_document as u32,
                ..Default::default()
            })
            .unwrap();
        let outcomes: Vec<ChunkOutcome> = (0..in_document)
            .map(|position| {
                let seed = document * CHUNKS_PER_DOCUMENT + position;
                ChunkOutcome {
                    stem: stem.clone(),
                    position: position as u32,
                    chunk_id: format!("{stem}_{position}"),
                    chunk_index: position as i64,
                    chunk_start: position as i64 * 300,
                    chunk_end: position as i64 * 300 + 300,
                    source_text: sentence(seed, 40),
                    place: Default::default(),
                    status: ChunkStatus::Completed,
                    pairs: (0..PAIRS_PER_CHUNK)
                        .map(|i| {
                            StoredPair::new(
                                format!("What does the {} say in part {i}?", sentence(seed + i, 4)),
                                format!("It says that {}.", sentence(seed * 3 + i, 25)),
                            )
                        })
                        .collect(),
                    error: None,
                    raw_response: None,
                    prompt: None,
                    settings: settings.clone(),
                    tokens_in: 0,
                    tokens_out: 0,
                    tokens_reasoning: 0,
                    duration_ms: 0,
                    attempts: 1,
                }
            })
            .collect();
        store.record(&outcomes).unwrap();
        store
            .mark_document_completed(&stem, "2026-01-01T00:00:00")
            .unwrap();
    }
    tdg::outputs::qa_files::rewrite_all(&store, qa_dir).unwrap();
}

/// Runs `tdg export` under `/usr/bin/time`: wall seconds and peak RSS in KiB.
fn timed_export(qa_dir: &Path, out: &Path, output_type: &str) -> (f64, u64) {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%e %M"])
        .arg(env!("CARGO_BIN_EXE_tdg"))
        .arg("export")
        .arg(qa_dir)
        .arg("--output-dir")
        .arg(out)
        .args(["--format", "sharegpt", "--output-type", output_type])
        .args([
            "--split",
            "train=0.9,validation=0.05,test=0.05",
            "--license",
            "other",
            "-q",
        ])
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time runs (apt-get install time)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let seconds = fields
        .next()
        .and_then(|s| s.parse().ok())
        .expect("time prints seconds");
    let rss = fields
        .next()
        .and_then(|s| s.parse().ok())
        .expect("time prints the peak RSS");
    (seconds, rss)
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let pairs: u64 = std::env::var("TDG_EXPORT_PAIRS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let work = tempfile::tempdir().unwrap();
    // TDG_EXPORT_QA_DIR keeps the filled Q&A directory there, for other measurements
    // (`tdg review` on a large run).
    let qa_dir = std::env::var_os("TDG_EXPORT_QA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| work.path().join("qa"));
    let started = Instant::now();
    fill(&qa_dir, pairs);
    println!(
        "{pairs} pairs in a checkpoint and Q&A files in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for output_type in ["parquet", "jsonl"] {
        let out = work.path().join(output_type);
        let (seconds, rss) = timed_export(&qa_dir, &out, output_type);
        let (mut bytes, mut rows) = (0, 0);
        for entry in std::fs::read_dir(out.join("data")).unwrap() {
            let path = entry.unwrap().path();
            bytes += std::fs::metadata(&path).unwrap().len();
            rows += match output_type {
                "parquet" => {
                    use parquet::file::reader::FileReader;
                    let file = std::fs::File::open(&path).unwrap();
                    let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
                    reader.metadata().file_metadata().num_rows() as u64
                }
                _ => std::fs::read_to_string(&path).unwrap().lines().count() as u64,
            };
        }
        assert_eq!(rows, pairs, "{output_type}: every pair is a row");
        println!(
            "export {output_type}: {rows} rows in {seconds:.1} s, peak RSS {:.0} MiB, {:.1} MiB written",
            rss as f64 / 1024.0,
            bytes as f64 / (1 << 20) as f64
        );
    }
}
