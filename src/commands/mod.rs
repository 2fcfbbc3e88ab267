//! The subcommands, one file each: each turns its parsed options into a call to the
//! library and its outcome into a log line and an exit code. What they share lives
//! here: writing to stdout, exit codes, and ([`signals`]) running until Ctrl+C.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use tdg::cli::{Cli, Command};
use tdg::plugin::{ComponentCache, PluginHost, PluginLimits};

/// `print!` to stdout, except that a closed pipe (`tdg plugins | head`) ends the
/// program quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::write_stdout(&format!($($arg)*))
    };
}

/// `println!`, with [`out!`]'s handling of a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::commands::write_stdout(&format!("{}\n", format!($($arg)*)))
    };
}

mod batch;
mod chunk;
mod combine;
mod completions;
mod convert;
mod export;
mod generate;
mod merge;
mod plugins;
mod prompt;
mod push;
mod reparse;
mod review;
mod signals;
mod stats;
mod validate;

/// The exit code of an interrupted run.
const INTERRUPTED: u8 = tdg::cli::exit_code::INTERRUPTED;

/// Runs the subcommand `cli` names. An error is logged, with its causes; its exit
/// code ([`exit_code`]) tells a scheduler whether to run the task again.
pub fn run(cli: Cli) -> ExitCode {
    match dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{}", render_error(&error));
            exit_code(&error)
        }
    }
}

/// 75 for a failure that may pass, 78 for a wrong setting, 1 for anything else: the
/// one mapping every command goes through.
fn exit_code(error: &anyhow::Error) -> ExitCode {
    tdg::cli::exit_code::of_error(error)
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let limits = PluginLimits {
        memory_bytes: (cli.global.plugin_memory_mb as usize) << 20,
        time: Duration::from_millis(cli.global.plugin_timeout_ms),
    };
    let host = PluginHost::new(limits, ComponentCache::from_env())?;
    match cli.command {
        Command::Chunk(args) => chunk::run(&host, *args, &cli.global),
        Command::Generate(args) => generate::run(host, *args, &cli.global),
        Command::Prompt(args) => prompt::run(&host, *args),
        Command::Stats(args) => stats::run(args),
        Command::Reparse(args) => reparse::run(&host, args),
        Command::Validate(args) => validate::run(*args),
        Command::Completions { shell } => completions::run(shell),
        Command::Combine(args) => combine::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Convert(args) => convert::run(&host, args),
        Command::Export(args) => export::run(&host, *args),
        Command::Push(args) => push::run(args),
        Command::Plugins(args) => plugins::run(&host, args),
        Command::Review(args) => review::run(args),
        Command::Reference => {
            write_stdout(&tdg::cli::reference::markdown());
            Ok(ExitCode::SUCCESS)
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

/// Writes `text` to stdout; a closed pipe ends the program with exit code 0.
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

/// The working directory, where `tdg.toml` is looked for.
fn working_dir() -> Result<std::path::PathBuf> {
    anyhow::Context::context(std::env::current_dir(), "cannot read the working directory")
}

/// Reads environment variables, for the config resolvers.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The Q&A directory `dir` locked for this process, so that no second tdg writes
/// it at the same time; none when the directory does not exist (the command then
/// reports that itself).
fn lock_qa_dir(dir: &std::path::Path) -> Result<Option<tdg::dir_lock::DirLock>> {
    Ok(dir.is_dir().then(|| tdg::dir_lock::lock(dir)).transpose()?)
}
