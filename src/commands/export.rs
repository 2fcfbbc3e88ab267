//! `tdg export`: a Q&A directory into a dataset folder (splits, JSON Lines or Parquet,
//! a dataset card, LLaMA-Factory's entries), and Axolotl's lines on stdout.

use std::process::ExitCode;

use anyhow::{Context, Result};
use tdg::cli::ExportArgs;
use tdg::export::card::CardOptions;
use tdg::export::{ExportRequest, trainers};
use tdg::plugin::{PluginHost, PluginSource};

pub fn run(host: &PluginHost, args: ExportArgs) -> Result<ExitCode> {
    let source = PluginSource::parse(&args.format)?;
    let format = host.format_plugin(&source)?;
    if args.license.is_none() {
        tracing::warn!("no --license: the card names none, and tdg push will ask for one");
    }
    let request = ExportRequest {
        input: args.input,
        output_dir: args.output_dir,
        format: source,
        format_options: args.format_options,
        output_type: args.output_type,
        reasoning_style: args.reasoning_style,
        split: args.split,
        split_by: args.split_by,
        seed: args.seed,
        max_rows_per_file: args.max_rows_per_file,
        overwrite: args.overwrite,
        card: CardOptions {
            license: args.license,
            languages: args.language,
            pretty_name: args.pretty_name,
        },
    };
    let report = tdg::export::export(&request, &format)
        .with_context(|| format!("export to {} failed", request.output_dir.display()))?;
    let splits: Vec<String> = report
        .splits
        .iter()
        .map(|split| format!("{} {}", split.name, split.rows))
        .collect();
    tracing::info!(
        "exported {} record(s) from {} document(s) to {} ({}); card in README.md",
        report.rows(),
        report.documents.len(),
        request.output_dir.display(),
        splits.join(", ")
    );
    if report.with_reasoning > 0 {
        tracing::info!(
            "{} record(s) carry reasoning, written {} (--reasoning-style {}); for LLaMA-Factory, train with a reasoning template (template: qwen3 or deepseekr1)",
            report.with_reasoning,
            match request.reasoning_style {
                tdg::task::ReasoningStyle::Think => "as a <think> block before the first answer",
                tdg::task::ReasoningStyle::Field => "in a reasoning_content field",
            },
            match request.reasoning_style {
                tdg::task::ReasoningStyle::Think => "think",
                tdg::task::ReasoningStyle::Field => "field",
            }
        );
    }
    if report.conversations > 0 {
        tracing::info!(
            "{} record(s) are multi-turn conversations",
            report.conversations
        );
    }
    if let Some(lines) = trainers::axolotl_lines(&request, &report) {
        outln!("# Axolotl: add to your config\n{}", lines.trim_end());
    }
    Ok(ExitCode::SUCCESS)
}
