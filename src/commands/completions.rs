//! `tdg completions SHELL`: a shell completion script on stdout.

use std::process::ExitCode;

use anyhow::Result;
use tdg::cli::Cli;

use super::write_stdout;

pub fn run(shell: clap_complete::Shell) -> Result<ExitCode> {
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
