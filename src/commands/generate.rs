//! `tdg generate`: resolves the settings, runs the generator until it ends or is
//! stopped, prints the stats table and the end-of-run line. With `--dry-run`, prints
//! the estimate instead.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use tdg::cli::GlobalArgs;
use tdg::config::{DEFAULT_PROGRESS_INTERVAL_SECS, GenerateArgs};
use tdg::generate::Generator;
use tdg::plugin::PluginHost;
use tdg::progress::ProgressMode;

use super::signals::until_signalled;
use super::{INTERRUPTED, env_var, failure_if_any, working_dir};

pub fn run(host: PluginHost, args: GenerateArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let dry_run = args.cost.dry_run;
    let quiet = global.quiet;
    let interval = args.run.progress_interval;
    let args = args.with_config_file(&working_dir()?)?;
    if dry_run {
        let settings = args.resolve_for_preview(env_var)?;
        let estimate = tdg::generate::estimate::estimate(&settings, &host)?;
        out!("{}", tdg::generate::estimate::render(&estimate, &settings));
        return Ok(ExitCode::SUCCESS);
    }
    let settings = args.resolve(env_var)?;
    let progress = if global.quiet {
        ProgressMode::Off
    } else if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressMode::Bar
    } else {
        ProgressMode::Lines(Duration::from_secs_f64(
            interval
                .filter(|s| *s > 0.0)
                .unwrap_or(DEFAULT_PROGRESS_INTERVAL_SECS),
        ))
    };
    let generator = Generator::builder(
        &settings.chunks_dir,
        &settings.qa_dir,
        settings.model.provider,
    )
    .settings(settings)
    .plugin_host(host)
    .progress(progress)
    .build()?;
    until_signalled(async |cancel| {
        let report = generator.run(cancel).await?;
        let settings = generator.settings();
        let written = &report.writer;
        if !quiet && let Ok(stats) = tdg::stats::collect(&settings.qa_dir) {
            eprint!("{}", tdg::stats::render(&stats));
        }
        let cost = settings
            .cost
            .cost(written.tokens_in, written.tokens_out)
            .map(|c| format!(", about ${c:.4}"))
            .unwrap_or_default();
        tracing::info!(
            "{} pairs kept in the Q&A files ({} new); {} chunks done ({} failed, {} skipped, {} already done) in {} documents; tokens {} in / {} out{cost}; Q&A files in {}",
            written.pairs_kept,
            written.pairs,
            written.chunks_completed,
            written.chunks_failed,
            written.chunks_skipped,
            report.files.chunks_already_done,
            written.documents_completed,
            written.tokens_in,
            written.tokens_out,
            settings.qa_dir.display()
        );
        if !report.batches_in_flight.is_empty() {
            tracing::info!(
                "{} batches are still running at the provider ({}): the same command with --resume collects their answers when they are done (`tdg batch status --qa-dir {}` shows them, `tdg batch cancel` cancels them)",
                report.batches_in_flight.len(),
                report.batches_in_flight.join(", "),
                settings.qa_dir.display()
            );
        }
        if let Some(spent) = report.budget_reached {
            tracing::warn!(
                "stopped at the --max-cost cap (about ${spent:.4} spent): everything finished is saved; raise --max-cost and run again with --resume to continue"
            );
            return Ok(ExitCode::from(INTERRUPTED));
        }
        if report.interrupted {
            tracing::warn!(
                "interrupted: everything finished is saved; run again with --resume to continue"
            );
            return Ok(ExitCode::from(INTERRUPTED));
        }
        let failed_files = report.files.files_failed.len();
        Ok(failure_if_any(
            failed_files + written.chunks_failed as usize,
        ))
    })
}
