//! `tdg convert`: Q&A files into training files, through a format plugin.

use std::process::ExitCode;

use anyhow::Result;
use tdg::cli::ConvertArgs;
use tdg::convert::ConvertRequest;
use tdg::plugin::{PluginHost, PluginSource};

use super::{count_note, failure_if_any};

pub fn run(host: &PluginHost, args: ConvertArgs) -> Result<ExitCode> {
    let format = host.format_plugin(&PluginSource::parse(&args.format)?)?;
    let request = ConvertRequest {
        input: args.input,
        output_dir: args.output_dir,
        output_file: args.output_file,
        format_options: args.format_options,
        output_type: args.output_type,
        reasoning_style: args.reasoning_style,
    };
    let report = tdg::convert::convert(&request, &format)?;
    let records: usize = report.converted.iter().map(|file| file.records).sum();
    tracing::info!(
        "converted {} file(s), {records} record(s){}",
        report.converted.len(),
        count_note(report.failed.len(), "; {} file(s) failed")
    );
    Ok(failure_if_any(report.failed.len()))
}
