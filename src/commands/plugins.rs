//! `tdg plugins`: the built-in plugins and their roles, or what a component file
//! exports.

use std::process::ExitCode;

use anyhow::{Context, Result};
use tdg::cli::{PluginsArgs, PluginsCommand};
use tdg::plugin::{PluginHost, PluginSource, Role, builtin};

pub fn run(host: &PluginHost, args: PluginsArgs) -> Result<ExitCode> {
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
                let format = host.format_plugin(&PluginSource::File(path.clone()))?;
                let info = format.info();
                outln!(
                    "format:   {} (files end in {}.{})",
                    info.description,
                    info.file_suffix,
                    info.extension
                );
            }
            if roles.contains(&Role::Loader) {
                let loader = host.loader_plugin(&PluginSource::File(path))?;
                let info = loader.info();
                outln!("loader:   {}", info.description);
                for format in &info.formats {
                    outln!(
                        "reads:    {} (.{})",
                        format.name,
                        format.extensions.join(", .")
                    );
                }
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
