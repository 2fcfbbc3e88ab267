//! `docs/reference.md` is what `tdg reference` prints from the clap definitions, the
//! same ones `--help` and the completions come from: a changed option that is not
//! regenerated into the docs fails here.

use std::path::Path;

use crate::common::{assert_success, tdg};

const REGENERATE: &str = "cargo run -q -- reference > docs/reference.md";

fn printed(args: &[&str]) -> String {
    let output = tdg().args(args).output().unwrap();
    assert_success(&output);
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_reference_in_the_docs_is_the_one_the_binary_prints() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
    let in_docs = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = printed(&["reference"]);
    if in_docs != generated {
        let line = in_docs
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| in_docs.lines().count().min(generated.lines().count()));
        panic!(
            "docs/reference.md is out of date (first difference at line {}): run `{REGENERATE}`",
            line + 1
        );
    }
}

#[test]
fn every_option_of_every_help_page_is_in_the_reference() {
    let reference = printed(&["reference"]);
    // The global options are listed once, under `tdg`.
    let global = reference.split("\n## tdg\n").nth(1).unwrap();
    let global = global.split("\n## ").next().unwrap();
    for command in [
        "generate",
        "validate",
        "export",
        "review",
        "batch status",
        "push",
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let help = printed(&args);
        let options: Vec<&str> = help
            .split_whitespace()
            .filter(|word| word.starts_with("--") && word.len() > 2)
            .map(|word| word.trim_end_matches(|c: char| !c.is_alphanumeric()))
            .map(|word| word.split(['=', '[', '<']).next().unwrap())
            .filter(|word| *word != "--help" && *word != "--version")
            .collect();
        assert!(options.len() > 3, "{command}: {help}");
        let section = reference
            .split(&format!("## tdg {command}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("no section for tdg {command}"));
        let section = section.split("\n## ").next().unwrap();
        for option in options {
            assert!(
                mentions(section, option) || mentions(global, option),
                "tdg {command}: {option} is in --help but not in the reference"
            );
        }
    }
}

/// Whether `text` names `option` as a whole word (`--model`, not `--model-x`).
fn mentions(text: &str, option: &str) -> bool {
    text.match_indices(option).any(|(at, _)| {
        text[at + option.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
    })
}
