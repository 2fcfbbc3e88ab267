//! `tdg reparse`: runs a parser again over the raw answers the checkpoint keeps.

use std::process::ExitCode;

use anyhow::Result;
use tdg::cli::ReparseArgs;
use tdg::plugin::{PluginHost, PluginSource};

pub fn run(host: &PluginHost, args: ReparseArgs) -> Result<ExitCode> {
    let _lock = super::lock_qa_dir(&args.qa_dir)?;
    let parser = host.parser_plugin(&PluginSource::parse(&args.parser)?)?;
    let report = tdg::reparse::reparse(&args.qa_dir, &parser)?;
    tracing::info!(
        "re-parsed {} answers with {}: {} chunks with pairs (was {}), {} pairs (was {}), {} changed; rewrote {} Q&A files",
        report.chunks,
        parser.name(),
        report.completed_after,
        report.completed_before,
        report.pairs_after,
        report.pairs_before,
        report.changed,
        report.qa_files.len()
    );
    Ok(ExitCode::SUCCESS)
}
