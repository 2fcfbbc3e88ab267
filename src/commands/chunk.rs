//! `tdg chunk`: documents to chunk files, with a bar of files and bytes, stopped
//! cleanly by Ctrl+C (between documents; every file written is whole, and the
//! summary says the run was interrupted).

use std::process::ExitCode;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tdg::cli::GlobalArgs;
use tdg::config::ChunkArgs;
use tdg::documents::summary::SUMMARY_FILE;
use tdg::plugin::PluginHost;
use tdg::plugin::loader::DocumentLoaders;

use super::signals::until_signalled;
use super::{INTERRUPTED, working_dir};

pub fn run(host: &PluginHost, args: ChunkArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let (settings, user_loaders) = args.resolve(&working_dir()?)?;
    let loaders = DocumentLoaders::new(host, &user_loaders)?;
    let total_bytes: u64 = settings
        .inputs
        .iter()
        .map(|input| folder_bytes(input))
        .sum();
    let bar = if global.quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::hidden())
    } else {
        ProgressBar::new(total_bytes)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {binary_bytes}/{binary_total_bytes} {msg} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let files = std::sync::atomic::AtomicU64::new(0);
    let run = until_signalled(async |cancel| {
        let on_document = |_path: &std::path::Path, bytes: u64| {
            let done = files.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.inc(bytes);
            bar.set_message(format!("{done} files"));
        };
        // On a thread of its own, outside the runtime: plugin calls must not run on
        // a runtime's thread, and the signal task goes on meanwhile.
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    tdg::documents::chunk_documents(&settings, &loaders, &cancel, &on_document)
                })
                .join()
                .map_err(|panic| {
                    anyhow::anyhow!(
                        "tdg chunk stopped on a fault: {}",
                        tdg::plugin::panic_text(panic.as_ref())
                    )
                })
        })?
        .map_err(anyhow::Error::from)
    });
    bar.finish_and_clear();
    let summary = run?.summary;
    tracing::info!(
        "{} chunk files written, {} unchanged, {} failed, {} files skipped; {} chunks in {} (summary: {})",
        summary.written,
        summary.unchanged,
        summary.failed,
        summary.skipped,
        summary.total_chunks,
        settings.chunks_dir.display(),
        settings.chunks_dir.join(SUMMARY_FILE).display()
    );
    for (extension, paths) in &summary.skipped_by_extension {
        let shown = if extension.is_empty() {
            "no extension"
        } else {
            extension
        };
        tracing::info!(
            "skipped {} file(s) with {shown}: no loader reads them (tdg plugins lists the formats)",
            paths.len()
        );
    }
    Ok(if summary.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if summary.failed > 0 {
        ExitCode::from(tdg::cli::exit_code::FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// The bytes of the files under `path`, for the bar's length.
fn folder_bytes(path: &std::path::Path) -> u64 {
    walkdir::WalkDir::new(path)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}
