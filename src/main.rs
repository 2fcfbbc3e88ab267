//! The `tdg` binary: reads `.env`, parses the command line, sets up logging, and
//! hands over to the subcommand ([`commands`]), whose outcome is the exit code
//! (0 ok, 1 failure, 2 usage, 130 interrupted).

mod commands;

use std::process::ExitCode;

use tdg::cli::{Cli, GlobalArgs};

fn main() -> ExitCode {
    // A .env file in the working directory (or above); variables already set win.
    // Read before anything else runs, while this is the only thread.
    if let Ok(dir) = std::env::current_dir()
        && let Err(error) = tdg::config::load_dotenv(&dir)
    {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse_naming_variables();
    init_logging(&cli.global);
    commands::run(cli)
}

fn init_logging(global: &GlobalArgs) {
    // -v and -vv raise tdg's own logs (and its plugins'); the libraries below it
    // stay at info, since wasmtime and cranelift tracing every compiled function
    // would slow a run down by minutes. -vvv traces everything.
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        // llama.cpp reports every step of loading a model at info: only its warnings.
        (false, 0) => "info,llama-cpp-2=warn,llama_cpp_2=warn",
        (false, 1) => "info,llama-cpp-2=warn,llama_cpp_2=warn,tdg=debug",
        (false, 2) => "info,llama-cpp-2=warn,llama_cpp_2=warn,tdg=trace",
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
