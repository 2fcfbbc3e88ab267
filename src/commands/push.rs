//! `tdg push`: an exported dataset folder to a dataset repository on the Hugging Face
//! Hub, in one commit.

use std::process::ExitCode;

use anyhow::{Context, Result};
use tdg::cli::PushArgs;
use tdg::export::push::{PushRequest, push};
use tdg::hub::HubSettings;

pub fn run(args: PushArgs) -> Result<ExitCode> {
    let settings = HubSettings::from_env()?;
    let request = PushRequest {
        folder: args.folder,
        repo: args.repo,
        private: args.private,
        revision: args.revision,
        message: args.message,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime
        .block_on(push(&settings, &request))
        .with_context(|| {
            format!(
                "push of {} to {} failed",
                request.folder.display(),
                request.repo
            )
        })?;
    tracing::info!(
        "pushed {} file(s) to dataset {} at {} ({} by LFS{}){}{}",
        report.files.len(),
        request.repo,
        request.revision,
        report.lfs_files,
        if report.lfs_skipped > 0 {
            format!(", {} already on the Hub", report.lfs_skipped)
        } else {
            String::new()
        },
        if report.created_repo {
            "; repository created"
        } else {
            ""
        },
        report
            .commit_url
            .as_deref()
            .map(|url| format!("; {url}"))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
