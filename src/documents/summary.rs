//! `chunking_summary.json`: what one `tdg chunk` run did with each document
//! (written, unchanged, failed and why, skipped by extension, renamed, pages with
//! almost no text), written atomically beside the chunk files. `generate` does not
//! read it (its name does not end in `_chunks.json`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

/// The summary's file name.
pub const SUMMARY_FILE: &str = "chunking_summary.json";

/// What happened to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Its chunk file was written.
    Written,
    /// Its chunk file was already up to date (same bytes, same settings).
    Unchanged,
    /// It could not be read or split; its chunk file, if any, was left as it was.
    Failed,
}

/// One document's line of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentReport {
    pub source: String,
    pub stem: String,
    pub outcome: Outcome,
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
    /// Pages with almost no text (a scan without a text layer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pages_without_text: Vec<u32>,
    /// Why the stem is not the file's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub processed_at: String,
    pub splitting_strategy: String,
    pub chunk_size: usize,
    pub chunk_overlap: usize,
    pub size_unit: String,
    pub written: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
    pub total_chunks: usize,
    /// Set when the run was stopped (Ctrl+C) before every document was done.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    pub documents: Vec<DocumentReport>,
    /// Files left out because no loader reads them, by extension (`""` for none).
    pub skipped_by_extension: BTreeMap<String, Vec<String>>,
    /// Entries of the input folders that could not be read, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<(String, String)>,
}

impl Summary {
    /// Counts a document's outcome in.
    pub fn add(&mut self, report: DocumentReport) {
        match report.outcome {
            Outcome::Written => self.written += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Failed => self.failed += 1,
        }
        self.total_chunks += report.chunks.unwrap_or(0);
        self.documents.push(report);
    }

    /// Writes the summary into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        crate::atomic_file::write(&dir.join(SUMMARY_FILE), text.as_bytes())
    }
}
