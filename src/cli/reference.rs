//! The option reference (`docs/reference.md`), rendered from the same clap
//! definitions as `--help` and the shell completions, so that the three never
//! disagree. `tdg reference` prints it; a test fails when the file in the repository
//! is not what it prints.

use std::fmt::Write;

use clap::{Arg, ArgAction, Command, CommandFactory};

use super::Cli;

/// The whole reference, as Markdown.
pub fn markdown() -> String {
    let mut command = Cli::command();
    command.build();
    let mut out = String::new();
    out.push_str(
        "# Option reference\n\n\
         Generated from tdg's own command-line definitions by `tdg reference` (do not edit:\n\
         run `cargo run -q -- reference > docs/reference.md` after changing an option).\n\
         Every option of `generate` can also be set by its environment variable, shown here,\n\
         or in `tdg.toml` under its name with `_` for `-` ([configuration](configuration.md)).\n\n",
    );
    let commands = visible_subcommands(&command, "tdg");
    out.push_str("## Commands\n\n");
    for (path, sub) in &commands {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(out, "- [`{path}`](#{}): {about}", anchor(path));
    }
    out.push('\n');
    render_command(&mut out, "tdg", &command);
    for (path, sub) in &commands {
        render_command(&mut out, path, sub);
    }
    out
}

/// Every subcommand a user can see, depth first, with its full path.
fn visible_subcommands<'a>(command: &'a Command, path: &str) -> Vec<(String, &'a Command)> {
    let mut found = Vec::new();
    let shown = |sub: &&Command| !sub.is_hide_set() && sub.get_name() != "help";
    for sub in command.get_subcommands().filter(shown) {
        let sub_path = format!("{path} {}", sub.get_name());
        found.push((sub_path.clone(), sub));
        found.extend(visible_subcommands(sub, &sub_path));
    }
    found
}

fn anchor(path: &str) -> String {
    path.replace(' ', "-")
}

fn render_command(out: &mut String, path: &str, command: &Command) {
    let _ = writeln!(out, "## {path}\n");
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        let _ = writeln!(out, "{}\n", about.to_string().trim_end());
    }
    let usage = command.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").trim();
    let _ = writeln!(out, "```text\n{usage}\n```\n");

    let positionals: Vec<&Arg> = command
        .get_positionals()
        .filter(|arg| !arg.is_hide_set())
        .collect();
    if !positionals.is_empty() {
        out.push_str("Arguments:\n\n");
        for arg in positionals {
            render_arg(out, arg);
        }
        out.push('\n');
    }

    // Options under their help headings, in the order clap shows them; the global
    // options once, under `tdg`.
    let mut headings: Vec<Option<&str>> = Vec::new();
    let options: Vec<&Arg> = command
        .get_arguments()
        .filter(|arg| !arg.is_positional() && !arg.is_hide_set())
        .filter(|arg| path == "tdg" || !arg.is_global_set())
        .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
        .collect();
    for arg in &options {
        if !headings.contains(&arg.get_help_heading()) {
            headings.push(arg.get_help_heading());
        }
    }
    for heading in headings {
        let _ = writeln!(out, "{}:\n", heading.unwrap_or("Options"));
        for arg in options
            .iter()
            .filter(|arg| arg.get_help_heading() == heading)
        {
            render_arg(out, arg);
        }
        out.push('\n');
    }
}

fn render_arg(out: &mut String, arg: &Arg) {
    let mut name = String::new();
    if let Some(short) = arg.get_short() {
        let _ = write!(name, "-{short}, ");
    }
    match arg.get_long() {
        Some(long) => {
            let _ = write!(name, "--{long}");
        }
        None => name.push_str(arg.get_id().as_str()),
    }
    let takes_value = matches!(arg.get_action(), ArgAction::Set | ArgAction::Append);
    if takes_value && !arg.is_positional() {
        let value = arg
            .get_value_names()
            .and_then(|names| names.first())
            .map(|name| name.to_string())
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        if arg.is_require_equals_set() {
            let _ = write!(name, "[=<{value}>]");
        } else {
            let _ = write!(name, " <{value}>");
        }
    }
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|help| help.to_string())
        .unwrap_or_default();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut notes = Vec::new();
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|value| !value.is_hide_set())
        .map(|value| format!("`{}`", value.get_name()))
        .collect();
    if !values.is_empty() && arg.get_action().takes_values() {
        notes.push(format!("values: {}", values.join(", ")));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|value| value.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && takes_value {
        notes.push(format!("default: `{}`", defaults.join(",")));
    }
    if let Some(env) = arg.get_env() {
        notes.push(format!("env: `{}`", env.to_string_lossy()));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    let _ = writeln!(out, "- `{name}`: {help}{notes}");
}
