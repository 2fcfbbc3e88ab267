//! Help texts that state a default or a range: built from the constants the code
//! uses, so that `--help` cannot drift from what tdg does.

use std::fmt::Display;

use clap::ValueEnum;

use crate::provider::RetryPolicy;
use crate::provider::settings::{
    DEFAULT_PROVIDER, MAX_RETRY_BASE_MS, ProviderKind, SERVER_DEFAULT_PROVIDER, TEMPERATURE_RANGE,
};

/// `text [default: default]`.
pub fn with_default(text: &str, default: impl Display) -> String {
    format!("{text} [default: {default}]")
}

/// The name a value of a `--flag VALUE` enum is spelled with on the command line.
pub fn value_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|possible| possible.get_name().to_string())
        .unwrap_or_default()
}

/// `--question-types`' help: the types a mix may name.
pub fn question_types() -> String {
    format!(
        "The mix of question types to ask for per chunk, as TYPE=COUNT pairs (factual=2,inferential=1); the counts' sum is the number of questions. Types: {} [default: diverse types, --questions-per-chunk of them]",
        crate::question_types::QUESTION_TYPES.join(", ")
    )
}

/// `--provider`'s help.
pub fn provider() -> String {
    format!(
        "LLM provider: openai, claude (anthropic), gemini, local (ollama), embedded [default: {DEFAULT_PROVIDER}; {SERVER_DEFAULT_PROVIDER} when an Ollama option, --base-url or a model name that is not a .gguf file is given]"
    )
}

/// `--model`'s help: each provider's default model.
pub fn model() -> String {
    let models: Vec<&str> = ProviderKind::ALL
        .iter()
        .map(|provider| provider.default_model())
        .collect();
    format!("Model name [default: {}, by provider]", or_list(&models))
}

/// `--api-key`'s help: the variables each provider's key is read from.
pub fn api_key() -> String {
    let variables: Vec<&str> = ProviderKind::ALL
        .iter()
        .flat_map(|provider| provider.key_variables().iter().copied())
        .collect();
    format!(
        "API key [default: from {}, by provider]",
        or_list(&variables)
    )
}

/// `--temperature`'s help: the range accepted and the default.
pub fn temperature(default: f64) -> String {
    with_default(
        &format!(
            "LLM temperature, {:.1} to {:.1}",
            TEMPERATURE_RANGE.start(),
            TEMPERATURE_RANGE.end()
        ),
        default,
    )
}

/// `--retry-base-ms`'s help: the range accepted and the default.
pub fn retry_base_ms() -> String {
    with_default(
        &format!(
            "The first retry's backoff in milliseconds, 1 to {MAX_RETRY_BASE_MS}; it doubles each retry"
        ),
        RetryPolicy::default().base.as_millis(),
    )
}

/// `a, b, c or d`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(or_list(&["a"]), "a");
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn the_help_states_the_defaults_the_code_uses() {
        let settings = crate::generate::settings::GenerateSettings::new("c", "q", DEFAULT_PROVIDER);
        assert!(temperature(settings.model.temperature).ends_with("[default: 0.7]"));
        assert!(temperature(0.7).contains("0.0 to 2.0"));
        assert!(model().contains(ProviderKind::Claude.default_model()));
        assert!(api_key().contains("GEMINI_API_KEY"));
        assert!(retry_base_ms().ends_with("[default: 500]"));
    }
}
