//! Which model to call and how: the provider, model name, servers and API key, and
//! the checks on the sampling and retry options. Shared by `generate` and `validate`,
//! so both read the same options the same way.

use std::time::Duration;

use super::{ConfigError, Purpose};
use crate::provider::settings::{
    ApiKey, DEFAULT_PROVIDER, MAX_RETRY_BASE_MS, ModelSettings, ProviderKind,
    SERVER_DEFAULT_PROVIDER, TEMPERATURE_RANGE,
};

/// The options that choose the model, merged from the command line, the
/// environment and the config file (each `None` or empty when not given).
#[derive(Debug, Default, Clone)]
pub struct ModelChoice {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub base_urls: Vec<String>,
    pub ollama_base_url: Option<String>,
    pub api_key: Option<String>,
    /// Another option only a model server takes was given (Ollama's sampling
    /// options), so that with no provider named the original's default holds.
    pub server_options: bool,
}

impl ModelChoice {
    /// The choice with what it leaves unset taken from the config file `file`:
    /// `validate` and `batch` read the model options this way (`generate` merges
    /// whole layers instead).
    pub fn over_config_file(self, file: super::GenerateArgs) -> Self {
        ModelChoice {
            provider: self.provider.or(file.model.provider),
            model: self.model.or(file.model.model),
            base_urls: if self.base_urls.is_empty() {
                file.model.base_url
            } else {
                self.base_urls
            },
            ollama_base_url: self.ollama_base_url.or(file.model.ollama_base_url),
            api_key: self.api_key.or(file.model.api_key),
            server_options: self.server_options,
        }
    }

    /// Whether, with no provider named, these options still point at a model
    /// server, as they did before the embedded engine was the default: an Ollama
    /// option, a base URL, or a model that is a server's name rather than a file.
    fn names_a_server(&self) -> bool {
        let gguf_model = self.model.as_deref().is_none_or(|model| {
            let file = model.split('@').next().unwrap_or(model);
            file.to_ascii_lowercase().ends_with(".gguf")
        });
        self.server_options
            || self.ollama_base_url.is_some()
            || !self.base_urls.is_empty()
            || !gguf_model
    }
}

/// The model a run was made with, as its record in the checkpoint says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecordedModel {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub base_urls: Vec<String>,
}

/// Resolves `choice` into model settings with the defaults: the provider is the
/// choice's, else the record's, else [`SERVER_DEFAULT_PROVIDER`] when the choice
/// names a server, else [`DEFAULT_PROVIDER`]; the model and servers are
/// the choice's, else the record's when it is the same provider, else the
/// provider's own.
pub fn resolve_model(
    choice: ModelChoice,
    record: Option<&RecordedModel>,
    env: impl Fn(&str) -> Option<String>,
    purpose: Purpose,
) -> Result<ModelSettings, ConfigError> {
    let named = choice
        .provider
        .as_deref()
        .or_else(|| record.and_then(|r| r.provider.as_deref()));
    let provider = match named {
        Some(name) => {
            ProviderKind::parse(name).ok_or_else(|| ConfigError::UnknownProvider(name.into()))?
        }
        None if choice.names_a_server() => SERVER_DEFAULT_PROVIDER,
        None => {
            if purpose == Purpose::Generate && DEFAULT_PROVIDER == ProviderKind::Embedded {
                tracing::info!(
                    "no provider configured: using the embedded engine with {} (--provider local for Ollama)",
                    choice
                        .model
                        .as_deref()
                        .unwrap_or(DEFAULT_PROVIDER.default_model())
                );
            }
            DEFAULT_PROVIDER
        }
    };
    // A record's model and servers are for its own provider only.
    let record = record.filter(|r| match &r.provider {
        Some(name) => ProviderKind::parse(name) == Some(provider),
        None => choice.provider.is_none(),
    });
    let mut model = ModelSettings::new(provider);
    if let Some(name) = choice
        .model
        .or_else(|| record.and_then(|r| r.model.clone()))
    {
        model.model = name;
    }
    let recorded_urls = record.map(|r| r.base_urls.clone()).unwrap_or_default();
    model.base_urls = match (choice.base_urls, choice.ollama_base_url, provider) {
        (urls, _, _) if !urls.is_empty() => urls,
        (_, Some(url), ProviderKind::Local) => vec![url],
        _ if !recorded_urls.is_empty() => recorded_urls,
        _ => model.base_urls,
    };
    model.api_key = match resolve_key(provider, choice.api_key, &model.base_urls, &env) {
        Err(error) if purpose == Purpose::Generate => return Err(error),
        Err(_) => None,
        Ok(key) => key,
    };
    Ok(model)
}

/// The API key for `provider`: `flag`, else its environment variables. A missing key
/// is an error when the servers include the provider's official API (other servers,
/// such as a local OpenAI-compatible one, may need none).
pub fn resolve_key(
    provider: ProviderKind,
    flag: Option<String>,
    base_urls: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ApiKey>, ConfigError> {
    let key = flag.or_else(|| {
        provider
            .key_variables()
            .iter()
            .find_map(|var| env(var).filter(|k| !k.is_empty()))
    });
    let official = base_urls
        .iter()
        .any(|url| url.trim_end_matches('/') == provider.default_base_url());
    match key {
        Some(key) => Ok(Some(ApiKey::new(key))),
        None if official && !provider.key_variables().is_empty() => Err(ConfigError::MissingKey {
            provider,
            variables: provider.key_variables().join(" or "),
        }),
        None => Ok(None),
    }
}

/// An option's flag and environment variable, for error messages.
#[derive(Debug, Clone)]
pub struct OptionName {
    /// The long flag, without `--`.
    pub flag: &'static str,
    pub variable: Option<String>,
}

impl OptionName {
    /// `--flag` of the options `A`, with the variable clap reads it from.
    pub fn of<A: clap::Args>(flag: &'static str) -> Self {
        let command = A::augment_args(clap::Command::new("options"));
        let variable = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(flag))
            .and_then(|arg| arg.get_env())
            .map(|variable| variable.to_string_lossy().into_owned());
        OptionName { flag, variable }
    }
}

/// `--temperature` (or `GENERATOR_TEMPERATURE`) within [`TEMPERATURE_RANGE`].
pub fn check_temperature(
    temperature: f64,
    name: OptionName,
    env: impl Fn(&str) -> Option<String>,
) -> Result<f64, ConfigError> {
    if TEMPERATURE_RANGE.contains(&temperature) {
        return Ok(temperature);
    }
    let rule = format!(
        "between {:.1} and {:.1}",
        TEMPERATURE_RANGE.start(),
        TEMPERATURE_RANGE.end()
    );
    Err(ConfigError::invalid(name, rule, temperature, env))
}

/// `--max-tokens` (or `GENERATOR_MAX_TOKENS`): an answer of no token holds no pair.
pub fn check_max_tokens(
    max_tokens: u32,
    name: OptionName,
    env: impl Fn(&str) -> Option<String>,
) -> Result<u32, ConfigError> {
    if max_tokens == 0 {
        return Err(ConfigError::invalid(name, "at least 1".into(), 0.0, env));
    }
    Ok(max_tokens)
}

/// `--retry-base-ms` (or `GENERATOR_RETRY_BASE_MS`): from 1 ms (0 would retry at
/// once, hammering a server that is in trouble) to [`MAX_RETRY_BASE_MS`].
pub fn check_retry_base(
    millis: u64,
    name: OptionName,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Duration, ConfigError> {
    if !(1..=MAX_RETRY_BASE_MS).contains(&millis) {
        let rule = format!("from 1 to {MAX_RETRY_BASE_MS} milliseconds");
        return Err(ConfigError::invalid(name, rule, millis as f64, env));
    }
    Ok(Duration::from_millis(millis))
}

/// The embedded engine's `--threads`: unset or 0 is the default (the physical
/// cores, said once for 0); more than the machine's logical cores is capped at them
/// with a warning, since threads beyond the cores only spin and slow every decode.
pub fn checked_threads(asked: Option<u32>) -> Option<u32> {
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    match asked {
        None => None,
        Some(0) => {
            tracing::info!("--threads 0 means the default: one thread per physical core");
            None
        }
        Some(n) if n > logical => {
            tracing::warn!(
                "--threads {n} is more than this machine's {logical} logical cores: using {logical}"
            );
            Some(logical)
        }
        Some(n) => Some(n),
    }
}

/// The embedded engine's `--gpu-layers`, with a warning when this build has no GPU
/// back-end to put them on (every layer then runs on the CPU).
pub fn checked_gpu_layers(asked: Option<u32>) -> u32 {
    let layers = asked.unwrap_or(0);
    let gpu_build = cfg!(any(feature = "cuda", feature = "metal", feature = "vulkan"));
    if layers > 0 && !gpu_build {
        tracing::warn!(
            "--gpu-layers {layers}: this tdg was built without a GPU back-end (the cuda, metal or vulkan feature), so every layer runs on the CPU"
        );
    }
    layers
}

/// The embedded engine's `--context-size`: at least 256 tokens (the model's trained
/// context, the upper bound, is checked when the model is loaded).
pub fn checked_context_size(asked: Option<u32>) -> Result<Option<u32>, ConfigError> {
    match asked {
        Some(tokens) if tokens < 256 => Err(ConfigError::Invalid {
            option: "--context-size".into(),
            rule: format!(
                "at least 256 tokens (it is {tokens}), room for the prompt and the answer together"
            ),
        }),
        other => Ok(other),
    }
}

/// The embedded engine's `--chat-template`: a llama.cpp template name or a Jinja file
/// (read now, so that a missing file is said before the model loads).
pub fn chat_template_choice(
    asked: Option<&str>,
) -> Result<Option<crate::provider::embedded::ChatTemplateChoice>, ConfigError> {
    asked
        .map(|value| {
            crate::provider::embedded::ChatTemplateChoice::parse(value).map_err(|rule| {
                ConfigError::Invalid {
                    option: "--chat-template".into(),
                    rule,
                }
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_beyond_the_cores_are_capped_and_zero_is_the_default() {
        let logical = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(checked_threads(Some(1000)), Some(logical));
        assert_eq!(checked_threads(Some(0)), None);
        assert_eq!(checked_threads(None), None);
        assert_eq!(checked_threads(Some(1)), Some(1));
        assert_eq!(checked_gpu_layers(None), 0);
        assert_eq!(checked_gpu_layers(Some(99)), 99);
    }

    #[test]
    fn a_context_too_small_for_a_prompt_is_refused_and_templates_are_read_whole() {
        assert!(checked_context_size(Some(100)).is_err());
        assert_eq!(checked_context_size(Some(4096)).unwrap(), Some(4096));
        assert_eq!(checked_context_size(None).unwrap(), None);
        use crate::provider::embedded::ChatTemplateChoice;
        assert_eq!(
            chat_template_choice(Some("llama3")).unwrap(),
            Some(ChatTemplateChoice::Named("llama3".into()))
        );
        let missing = chat_template_choice(Some("/nowhere/template.jinja")).unwrap_err();
        assert!(
            missing.to_string().contains("/nowhere/template.jinja"),
            "{missing}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chat.jinja");
        std::fs::write(&file, "{{ messages[0].content }}").unwrap();
        match chat_template_choice(file.to_str()).unwrap() {
            Some(ChatTemplateChoice::File { path, source }) => {
                assert_eq!(path, file);
                assert_eq!(source, "{{ messages[0].content }}");
            }
            other => panic!("{other:?}"),
        }
    }

    fn recorded(provider: &str, model: &str, url: &str) -> RecordedModel {
        RecordedModel {
            provider: Some(provider.into()),
            model: Some(model.into()),
            base_urls: vec![url.into()],
        }
    }

    #[test]
    fn the_record_fills_what_no_option_gives() {
        let record = recorded("openai", "run-model", "http://127.0.0.1:1");
        let model = resolve_model(
            ModelChoice::default(),
            Some(&record),
            |_| None,
            Purpose::Generate,
        )
        .unwrap();
        assert_eq!(model.provider, ProviderKind::OpenAi);
        assert_eq!(model.model, "run-model");
        assert_eq!(model.base_urls, ["http://127.0.0.1:1"]);
    }

    #[test]
    fn options_win_over_the_record() {
        let record = recorded("openai", "run-model", "http://127.0.0.1:1");
        let choice = ModelChoice {
            model: Some("judge".into()),
            base_urls: vec!["http://127.0.0.1:2".into()],
            ..ModelChoice::default()
        };
        let model = resolve_model(choice, Some(&record), |_| None, Purpose::Generate).unwrap();
        assert_eq!(model.provider, ProviderKind::OpenAi);
        assert_eq!(model.model, "judge");
        assert_eq!(model.base_urls, ["http://127.0.0.1:2"]);
    }

    #[test]
    fn another_provider_ignores_the_records_model_and_servers() {
        let record = recorded("openai", "gpt-4o-mini", "http://127.0.0.1:1");
        let choice = ModelChoice {
            provider: Some("ollama".into()),
            ..ModelChoice::default()
        };
        let model = resolve_model(choice, Some(&record), |_| None, Purpose::Generate).unwrap();
        assert_eq!(model.provider, ProviderKind::Local);
        assert_eq!(model.model, ProviderKind::Local.default_model());
        assert_eq!(model.base_urls, [ProviderKind::Local.default_base_url()]);
    }

    #[test]
    fn values_out_of_range_are_refused_naming_their_variable() {
        let name = || OptionName {
            flag: "max-tokens",
            variable: Some("GENERATOR_MAX_TOKENS".into()),
        };
        let from_env = |var: &str| (var == "GENERATOR_MAX_TOKENS").then(|| "0".to_string());
        let error = check_max_tokens(0, name(), from_env)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "GENERATOR_MAX_TOKENS (--max-tokens) must be at least 1"
        );
        let error = check_max_tokens(0, name(), |_| None)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "--max-tokens must be at least 1");
        assert_eq!(check_max_tokens(1, name(), |_| None).unwrap(), 1);

        let retry = || OptionName {
            flag: "retry-base-ms",
            variable: None,
        };
        assert!(check_retry_base(0, retry(), |_| None).is_err());
        assert!(check_retry_base(MAX_RETRY_BASE_MS + 1, retry(), |_| None).is_err());
        assert_eq!(
            check_retry_base(1, retry(), |_| None).unwrap(),
            Duration::from_millis(1)
        );

        let temperature = || OptionName {
            flag: "temperature",
            variable: None,
        };
        assert!(check_temperature(2.5, temperature(), |_| None).is_err());
        assert!(check_temperature(f64::NAN, temperature(), |_| None).is_err());
        assert_eq!(
            check_temperature(2.0, temperature(), |_| None).unwrap(),
            2.0
        );
    }
}
