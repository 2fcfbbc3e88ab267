//! The `tdg` binary: parses the command line, sets up logging, runs a subcommand,
//! and turns the outcome into an exit code (0 ok, 1 failure, 2 usage, 130 interrupted).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use tdg::cli::{
    Cli, CombineArgs, Command, ConvertArgs, GlobalArgs, PluginsArgs, PluginsCommand, PromptArgs,
    ReparseArgs, StatsArgs, ValidateArgs,
};
use tdg::combine::combine;
use tdg::config::GenerateArgs;
use tdg::convert::{ConvertRequest, convert};
use tdg::generate::Generator;
use tdg::plugin::{ComponentCache, PluginHost, PluginLimits, PluginSource, Role, builtin};
use tdg::progress::ProgressMode;
use tdg::prompt::PromptBuilder;
use tokio_util::sync::CancellationToken;

/// The exit code of an interrupted run.
const INTERRUPTED: u8 = 130;

/// `print!` to stdout, except that a closed pipe (`tdg plugins | head`) ends the
/// program quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        write_stdout(&format!($($arg)*))
    };
}

/// `println!`, with [`out!`]'s handling of a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => {
        write_stdout(&format!("{}\n", format!($($arg)*)))
    };
}

fn write_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        tracing::error!("cannot write to stdout: {error}");
    }
}

fn main() -> ExitCode {
    // A .env file in the working directory; variables already set win.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    init_logging(&cli.global);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{}", render_error(&error));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line. Most of tdg's messages already name their
/// cause; a cause is added only when the text does not hold it yet.
fn render_error(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn init_logging(global: &GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        // llama.cpp reports every step of loading a model at info: only its warnings.
        (false, 0) => "info,llama-cpp-2=warn,llama_cpp_2=warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .with_target(false)
        .init();
}

fn run(cli: Cli) -> Result<ExitCode> {
    let limits = PluginLimits {
        memory_bytes: (cli.global.plugin_memory_mb as usize) << 20,
        time: Duration::from_millis(cli.global.plugin_timeout_ms),
    };
    let host = PluginHost::new(limits, ComponentCache::from_env())?;
    match cli.command {
        Command::Generate(args) => run_generate(host, *args, &cli.global),
        Command::Prompt(args) => run_prompt(&host, *args),
        Command::Stats(args) => run_stats(args),
        Command::Reparse(args) => run_reparse(&host, args),
        Command::Validate(args) => run_validate(*args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "tdg",
                &mut script,
            );
            write_stdout(&String::from_utf8_lossy(&script));
            Ok(ExitCode::SUCCESS)
        }
        Command::Combine(args) => run_combine(args),
        Command::Convert(args) => run_convert(&host, args),
        Command::Plugins(args) => run_plugins(&host, args),
    }
}

fn run_generate(host: PluginHost, args: GenerateArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let working_dir = std::env::current_dir().context("cannot read the working directory")?;
    let dry_run = args.dry_run;
    let quiet = global.quiet;
    let interval = args.progress_interval;
    let args = args.with_config_file(&working_dir)?;
    if dry_run {
        let settings = args.resolve_for_preview(|var| std::env::var(var).ok())?;
        let estimate = tdg::estimate::estimate(&settings, &host)?;
        out!("{}", tdg::estimate::render(&estimate, &settings));
        return Ok(ExitCode::SUCCESS);
    }
    let settings = args.resolve(|var| std::env::var(var).ok())?;
    let progress = if global.quiet {
        ProgressMode::Off
    } else if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressMode::Bar
    } else {
        ProgressMode::Lines(Duration::from_secs_f64(
            interval.filter(|s| *s > 0.0).unwrap_or(10.0),
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
            "{} pairs from {} chunks ({} failed, {} skipped, {} already done) in {} documents; tokens {} in / {} out{cost}; Q&A files in {}",
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

fn run_prompt(host: &PluginHost, args: PromptArgs) -> Result<ExitCode> {
    let working_dir = std::env::current_dir().context("cannot read the working directory")?;
    let settings = args
        .generate
        .with_config_file(&working_dir)?
        .resolve_for_preview(|var| std::env::var(var).ok())?;
    let builder = PromptBuilder::new(
        host.prompt_plugin(&settings.prompt.prompt_plugin)?,
        &settings.prompt,
    );
    let preview = tdg::prompt::preview(
        &builder,
        &settings.chunks_dir,
        args.file.as_deref(),
        args.chunk,
    )?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&preview.messages)?);
    } else {
        out!("{}", tdg::prompt::render_preview(&preview));
        if settings.model.provider == tdg::generate::settings::ProviderKind::Embedded {
            // The embedded model sees its chat template's rendering, not the messages.
            match tdg::provider::embedded::render_prompt(&settings.model.model, &preview.messages) {
                Ok(text) => out!("\n## text the model sees (after its chat template)\n{text}\n"),
                Err(error) => tracing::warn!("cannot show the text the model sees: {error}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_reparse(host: &PluginHost, args: ReparseArgs) -> Result<ExitCode> {
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

fn run_validate(args: ValidateArgs) -> Result<ExitCode> {
    use tdg::generate::settings::{GenerateSettings, ProviderKind};
    let stored = tdg::validate::run_settings(&args.qa_dir).unwrap_or_default();
    let stored_text = |key: &str| stored.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let provider_name = args
        .provider
        .clone()
        .or_else(|| stored_text("provider"))
        .unwrap_or_else(|| "local".into());
    let provider = ProviderKind::parse(&provider_name)
        .ok_or_else(|| tdg::config::ConfigError::UnknownProvider(provider_name.clone()))?;
    let mut model = GenerateSettings::new(".", &args.qa_dir, provider).model;
    // The run's model and servers, unless the provider was changed.
    let same_provider =
        args.provider.is_none() || stored_text("provider").as_deref() == Some(provider.name());
    if let Some(name) = args
        .model
        .clone()
        .or_else(|| stored_text("model").filter(|_| same_provider))
    {
        model.model = name;
    }
    let stored_urls: Vec<String> = stored
        .get("base_urls")
        .and_then(|v| v.as_array())
        .map(|urls| {
            urls.iter()
                .filter_map(|u| u.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !args.base_url.is_empty() {
        model.base_urls = args.base_url.clone();
    } else if same_provider && !stored_urls.is_empty() {
        model.base_urls = stored_urls;
    }
    model.api_key =
        tdg::config::resolve_key(provider, args.api_key.clone(), &model.base_urls, |var| {
            std::env::var(var).ok()
        })?;
    model.temperature = args.temperature;
    model.max_tokens = args.max_tokens;
    model.retry.max_retries = args.max_retries;
    model.retry.base = Duration::from_millis(args.retry_base_ms);
    let settings = tdg::validate::ValidateSettings {
        qa_dir: args.qa_dir,
        model,
        concurrency: args.concurrency.max(1),
        parse_retries: args.parse_retries,
        min_score: args.min_score,
        rejudge: args.rejudge,
    };
    until_signalled(async |cancel| {
        let report = tdg::validate::validate(&settings, cancel).await?;
        let rate = if report.total_scored > 0 {
            report.total_passed as f64 * 100.0 / report.total_scored as f64
        } else {
            0.0
        };
        tracing::info!(
            "judged {} pairs ({} pass, {} could not be judged, {} judged before); in all {} of {} scored pairs pass ({rate:.1}%)",
            report.judged,
            report.passed,
            report.failed,
            report.already_judged,
            report.total_passed,
            report.total_scored
        );
        if report.interrupted {
            return Ok(ExitCode::from(INTERRUPTED));
        }
        Ok(failure_if_any(report.failed as usize))
    })
}

fn run_stats(args: StatsArgs) -> Result<ExitCode> {
    let stats = tdg::stats::collect(&args.qa_dir)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        out!("{}", tdg::stats::render(&stats));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `work` on a multi-threaded runtime, with a token that Ctrl+C and SIGTERM
/// cancel (see [`stop_on_signals`]).
fn until_signalled<T>(work: impl AsyncFnOnce(CancellationToken) -> Result<T>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        work(cancel).await
    })
}

/// The first Ctrl+C or SIGTERM stops the run gracefully; a second Ctrl+C exits at
/// once (everything recorded so far is already durable).
async fn stop_on_signals(cancel: CancellationToken) {
    wait_for_stop_signal().await;
    tracing::warn!("stopping: finishing the requests in flight (Ctrl+C again to quit at once)");
    cancel.cancel();
    wait_for_stop_signal().await;
    std::process::exit(i32::from(INTERRUPTED));
}

#[cfg(unix)]
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

fn run_combine(args: CombineArgs) -> Result<ExitCode> {
    let report = combine(&args.qa_dir, &args.output_file)?;
    tracing::info!(
        "combined {} pairs from {} documents into {}{}",
        report.pairs,
        report.documents,
        args.output_file.display(),
        count_note(report.skipped.len(), " ({} not completed, skipped)")
    );
    Ok(failure_if_any(report.failed.len()))
}

fn run_convert(host: &PluginHost, args: ConvertArgs) -> Result<ExitCode> {
    let format = host.format_plugin(&PluginSource::parse(&args.format)?)?;
    let request = ConvertRequest {
        input: args.input,
        output_dir: args.output_dir,
        output_file: args.output_file,
        format_options: args.format_options,
        output_type: args.output_type,
    };
    let report = convert(&request, &format)?;
    let records: usize = report.converted.iter().map(|file| file.records).sum();
    tracing::info!(
        "converted {} file(s), {records} record(s){}",
        report.converted.len(),
        count_note(report.failed.len(), "; {} file(s) failed")
    );
    Ok(failure_if_any(report.failed.len()))
}

/// `note` with `{}` replaced by `count`, or nothing when `count` is 0.
fn count_note(count: usize, note: &str) -> String {
    if count == 0 {
        String::new()
    } else {
        note.replace("{}", &count.to_string())
    }
}

/// Exit code 1 when some inputs failed (the rest was still written), else 0.
fn failure_if_any(failed: usize) -> ExitCode {
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_plugins(host: &PluginHost, args: PluginsArgs) -> Result<ExitCode> {
    match args.command {
        None => {
            outln!(
                "{:<16} {:<16} {:<9} DESCRIPTION",
                "NAME",
                "ROLES",
                "CONTRACT"
            );
            for plugin in builtin::BUILTINS {
                let loaded = host
                    .load(&PluginSource::Builtin(plugin.name))
                    .with_context(|| format!("built-in plugin {} failed to load", plugin.name))?;
                outln!(
                    "{:<16} {:<16} {:<9} {}",
                    plugin.name,
                    role_list(&loaded.roles()),
                    loaded.contract_version().unwrap_or("-"),
                    plugin.description
                );
            }
        }
        Some(PluginsCommand::Inspect { path }) => {
            let loaded = host.load(&PluginSource::File(path.clone()))?;
            let roles = loaded.roles();
            outln!("plugin:   {}", path.display());
            outln!(
                "roles:    {}",
                if roles.is_empty() {
                    "none".into()
                } else {
                    role_list(&roles)
                }
            );
            outln!(
                "contract: tdg:plugin@{}",
                loaded.contract_version().unwrap_or("(none)")
            );
            outln!("exports:  {}", loaded.exports().join(", "));
            if roles.contains(&Role::Format) {
                let format = host.format_plugin(&PluginSource::File(path))?;
                let info = format.info();
                outln!(
                    "format:   {} (files end in {}.{})",
                    info.description,
                    info.file_suffix,
                    info.extension
                );
            }
            if roles.is_empty() {
                anyhow::bail!(
                    "{} fills no tdg role: a plugin exports one of {}",
                    loaded.name(),
                    Role::ALL
                        .map(|r| format!("`{}`", r.interface_name()))
                        .join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|role| role.name())
        .collect::<Vec<_>>()
        .join(", ")
}
