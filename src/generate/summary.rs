//! `qa_generation_summary.json`, the original tool's run summary: written by
//! `generate` at the end of a run and by `merge` for the joined shards.

use serde_json::json;

use super::SUMMARY_FILE;
use crate::{atomic_file, pyjson, timestamp};

/// What `qa_generation_summary.json` counts.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub total_files: usize,
    pub successful_files: usize,
    pub failed_files: usize,
    /// The names of the Q&A files written.
    pub qa_files_created: Vec<String>,
}

/// Writes `qa_generation_summary.json` into `qa_dir`, as the original did (`generate`
/// and `merge`).
pub fn write_run_summary(qa_dir: &std::path::Path, counts: &RunSummary) {
    let summary = json!({
        "total_files": counts.total_files,
        "successful_files": counts.successful_files,
        "failed_files": counts.failed_files,
        "qa_files_created": counts.qa_files_created,
        "qa_directory": qa_dir.to_string_lossy(),
        "processed_at": timestamp::now(),
    });
    let path = qa_dir.join(SUMMARY_FILE);
    if let Err(error) = atomic_file::write_with(&path, |file| pyjson::write_pretty(file, &summary))
    {
        tracing::error!("cannot write {}: {error}", path.display());
    }
}
