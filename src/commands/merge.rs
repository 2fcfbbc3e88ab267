//! `tdg merge`: joins a sharded run's shard directories into one Q&A directory.
//! Exit code 1 when documents are still incomplete (a shard has not finished), so a
//! pipeline does not train on half a corpus by mistake.

use std::process::ExitCode;

use anyhow::Result;
use tdg::cli::MergeArgs;
use tdg::merge::{MANIFEST_FILE, MergeRequest};

use super::count_note;

pub fn run(args: MergeArgs) -> Result<ExitCode> {
    let report = tdg::merge::merge(&MergeRequest {
        qa_dir: args.qa_dir,
        output: args.output,
        allow_different_settings: args.allow_different_settings,
        partial: args.partial,
    })?;
    let pairs: u64 = report.files.iter().map(|file| file.pairs).sum();
    tracing::info!(
        "merged {} of {} shards: {pairs} pairs in {} Q&A files in {}{}; manifest {MANIFEST_FILE}",
        report.shards.len(),
        report.count,
        report.files.len(),
        report.output.display(),
        count_note(report.missing.len(), " ({} shards missing)"),
    );
    if report.incomplete.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    tracing::warn!(
        "{} documents still have chunks without an outcome ({}): run the unfinished shards again with --resume, then merge again",
        report.incomplete.len(),
        report.incomplete.join(", ")
    );
    Ok(ExitCode::FAILURE)
}
