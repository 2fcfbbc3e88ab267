//! The `tdg` binary: parses the command line, sets up logging, runs a subcommand,
//! and turns the outcome into an exit code (0 ok, 1 failure, 2 usage).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use tdg::cli::{Cli, Command, ConvertArgs, GlobalArgs, PluginsArgs, PluginsCommand};
use tdg::convert::{ConvertRequest, convert};
use tdg::plugin::{ComponentCache, PluginHost, PluginLimits, PluginSource, Role, builtin};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(global: &GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
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
        Command::Convert(args) => run_convert(&host, args),
        Command::Plugins(args) => run_plugins(&host, args),
    }
}

fn run_convert(host: &PluginHost, args: ConvertArgs) -> Result<ExitCode> {
    let format = host.format_plugin(&PluginSource::parse(&args.format)?)?;
    let request = ConvertRequest {
        input: args.input,
        output_dir: args.output_dir,
        output_file: args.output_file,
        format_options: args.format_options,
    };
    let report = convert(&request, &format)?;
    let records: usize = report.converted.iter().map(|file| file.records).sum();
    tracing::info!(
        "converted {} file(s), {records} record(s){}",
        report.converted.len(),
        if report.failed.is_empty() {
            String::new()
        } else {
            format!("; {} file(s) failed", report.failed.len())
        }
    );
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_plugins(host: &PluginHost, args: PluginsArgs) -> Result<ExitCode> {
    match args.command {
        None => {
            println!(
                "{:<16} {:<16} {:<9} DESCRIPTION",
                "NAME", "ROLES", "CONTRACT"
            );
            for plugin in builtin::BUILTINS {
                let loaded = host
                    .load(&PluginSource::Builtin(plugin.name))
                    .with_context(|| format!("built-in plugin {} failed to load", plugin.name))?;
                println!(
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
            println!("plugin:   {}", path.display());
            println!(
                "roles:    {}",
                if roles.is_empty() {
                    "none".into()
                } else {
                    role_list(&roles)
                }
            );
            println!(
                "contract: tdg:plugin@{}",
                loaded.contract_version().unwrap_or("(none)")
            );
            println!("exports:  {}", loaded.exports().join(", "));
            if roles.contains(&Role::Format) {
                let format = host.format_plugin(&PluginSource::File(path))?;
                let info = format.info();
                println!(
                    "format:   {} (files end in {}.{})",
                    info.description, info.file_suffix, info.extension
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
