//! `tdg stats`: the figures of the run in a Q&A directory, as a table or JSON.

use std::process::ExitCode;

use anyhow::Result;
use tdg::cli::StatsArgs;

pub fn run(args: StatsArgs) -> Result<ExitCode> {
    let stats = tdg::stats::collect(&args.qa_dir)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        out!("{}", tdg::stats::render(&stats));
    }
    Ok(ExitCode::SUCCESS)
}
