//! `tdg combine`: the completed Q&A files of a directory in one `training_data.json`.

use std::process::ExitCode;

use anyhow::Result;
use tdg::cli::CombineArgs;

use super::{count_note, failure_if_any};

pub fn run(args: CombineArgs) -> Result<ExitCode> {
    let report = tdg::combine::combine(&args.qa_dir, &args.output_file)?;
    tracing::info!(
        "combined {} pairs from {} documents into {}{}",
        report.pairs,
        report.documents,
        args.output_file.display(),
        count_note(report.skipped.len(), " ({} not completed, skipped)")
    );
    Ok(failure_if_any(report.failed.len()))
}
