//! `generate`'s options resolved into a run's settings: the config file under the
//! command line and environment, then the defaults, with every value checked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::model::{check_max_tokens, check_temperature, resolve_model};
use super::{ConfigError, GenerateArgs, ModelChoice, OptionName, Purpose, read_config_file};
use crate::generate::settings::{CostSettings, GenerateSettings, TrainingSettings};
use crate::plugin::PluginSource;
use crate::provider::embedded::EmbeddedOptions;
use crate::provider::settings::ProviderKind;
use crate::question_types::QuestionMix;

/// The most exchanges a conversation may be asked for (`--turns`): beyond it, the
/// answer no longer fits in a model's output.
const MAX_TURNS: u32 = 20;

impl GenerateArgs {
    /// Fills what the command line and environment left unset from the config file
    /// (`--config`, else `tdg.toml` in `working_dir` if present).
    /// With `--from-card`, the card's settings sit between the two.
    pub fn with_config_file(self, working_dir: &Path) -> Result<Self, ConfigError> {
        let file = read_config_file(self.config.as_deref(), working_dir)?;
        let card = self
            .from_card
            .as_deref()
            .map(super::card::args_from_card)
            .transpose()?;
        let lower = match (card, file) {
            (Some(card), Some(file)) => Some(card.over(file)),
            (card, file) => card.or(file),
        };
        Ok(match lower {
            Some(lower) => self.over(lower),
            None => self,
        })
    }

    /// `self`'s values where set, else `lower`'s.
    fn over(self, lower: GenerateArgs) -> GenerateArgs {
        let mut merged = serde_json::to_value(&lower).expect("arguments serialize");
        let upper = serde_json::to_value(&self).expect("arguments serialize");
        if let (Value::Object(merged), Value::Object(upper)) = (&mut merged, upper) {
            // The mix and the number of questions are one setting: a layer that sets
            // either replaces both of the lower layer's.
            if upper.contains_key("question_types") || upper.contains_key("questions_per_chunk") {
                merged.remove("question_types");
                merged.remove("questions_per_chunk");
            }
            merged.extend(upper);
        }
        let mut result: GenerateArgs =
            serde_json::from_value(merged).expect("merged arguments deserialize");
        result.generation.var = self.generation.var;
        result.training.format_opt = self.training.format_opt;
        result.config = self.config;
        result.from_card = self.from_card;
        result
    }

    /// Resolves the final settings, reading keys from `env` (by variable name).
    pub fn resolve(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<GenerateSettings, ConfigError> {
        self.resolve_for(env, Purpose::Generate)
    }

    /// Resolves the settings for looking at prompts only: no Q&A directory or API
    /// key is needed.
    pub fn resolve_for_preview(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<GenerateSettings, ConfigError> {
        self.dirs.qa_dir.get_or_insert_with(|| PathBuf::from("."));
        self.resolve_for(env, Purpose::Preview)
    }

    fn resolve_for(
        self,
        env: impl Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<GenerateSettings, ConfigError> {
        let chunks_dir = self.dirs.chunks_dir.clone().ok_or(ConfigError::Missing {
            what: "the chunks directory",
            flag: "--chunks-dir",
            variable: "GENERATOR_PROCESS_DIR",
        })?;
        let qa_dir = self.dirs.qa_dir.clone().ok_or(ConfigError::Missing {
            what: "the Q&A directory",
            flag: "--qa-dir",
            variable: "GENERATOR_OUTPUT_DIR",
        })?;
        let choice = ModelChoice {
            provider: self.model.provider,
            model: self.model.model,
            base_urls: self.model.base_url,
            ollama_base_url: self.model.ollama_base_url,
            api_key: self.model.api_key,
            server_options: self.model.ollama_top_k.is_some()
                || self.model.ollama_top_p.is_some()
                || self.model.ollama_repeat_penalty.is_some()
                || self.model.ollama_num_predict.is_some()
                || !self.model.ollama_stop.is_empty(),
        };
        let model = resolve_model(choice, None, &env, purpose)?;
        let mut settings = GenerateSettings::new(chunks_dir, qa_dir, model.provider);
        settings.model = model;
        // First, so that everything placed in the Q&A directory goes to the shard's.
        if let Some((shard, from)) =
            crate::shard::Shard::resolve(self.run.shard, self.run.shards, &env)?
        {
            settings.set_shard(shard, &from);
        }
        let model = &mut settings.model;
        if let Some(temperature) = self.model.temperature {
            model.temperature = check_temperature(temperature, option("temperature"), &env)?;
        }
        if let Some(max_tokens) = self.model.max_tokens {
            model.max_tokens = check_max_tokens(max_tokens, option("max-tokens"), &env)?;
        }
        let embedded = model.provider == ProviderKind::Embedded;
        // Grammar-constrained answers are on by default for the embedded engine.
        model.structured = self.model.structured.unwrap_or(embedded);
        // Answers quoted from the chunk are on by default where the grammar can quote,
        // for pairs only: a trace or a conversation's replies are not one sentence.
        let pairs_only = self.generation.task.unwrap_or_default() == crate::task::Task::Qa;
        model.quote_answers = self
            .model
            .quote_answers
            .unwrap_or(embedded && model.structured && pairs_only);
        if model.quote_answers && !pairs_only {
            return Err(ConfigError::Invalid {
                option: "--quote-answers".into(),
                rule: "off with --task reasoning or conversation (only a pair's answer is one sentence of the chunk)".into(),
            });
        }
        if model.quote_answers && !(embedded && model.structured) {
            return Err(ConfigError::Invalid {
                option: "--quote-answers".into(),
                rule: "off unless the provider is embedded and --structured is on (answers are quoted through the engine's grammar)".into(),
            });
        }
        model.embedded = EmbeddedOptions {
            threads: super::model::checked_threads(self.model.threads),
            gpu_layers: super::model::checked_gpu_layers(self.model.gpu_layers),
            context_size: super::model::checked_context_size(self.model.context_size)?,
            chat_template: super::model::chat_template_choice(self.model.chat_template.as_deref())?,
        };
        self.requests.apply_to(model, &env)?;
        model.ollama.top_k = self.model.ollama_top_k;
        model.ollama.top_p = self.model.ollama_top_p;
        model.ollama.repeat_penalty = self.model.ollama_repeat_penalty;
        model.ollama.num_predict = self.model.ollama_num_predict;
        model.ollama.stop = self.model.ollama_stop;

        let prompt = &mut settings.prompt;
        if let Some(questions) = self.generation.questions_per_chunk {
            if questions == 0 {
                let name = option("questions-per-chunk");
                return Err(ConfigError::invalid(name, "at least 1".into(), 0.0, &env));
            }
            prompt.questions_per_chunk = questions;
        }
        if let Some(text) = &self.generation.question_types {
            let mix = question_mix(text, self.generation.questions_per_chunk, &env)?;
            prompt.questions_per_chunk = mix.total();
            prompt.question_types = mix;
        }
        prompt.system_message = self.generation.qa_system_message;
        prompt.extra_instructions = self
            .generation
            .qa_extra_instructions
            .filter(|text| !text.is_empty());
        if let Some(path) = self.generation.qa_prompt_template_file {
            let source =
                std::fs::read_to_string(&path).map_err(|source| ConfigError::Template {
                    path: path.clone(),
                    source,
                })?;
            prompt.template = Some((path.display().to_string(), source));
        }
        let mut vars = self.generation.vars;
        vars.extend(self.generation.var);
        prompt.vars = vars.into_iter().collect();
        if let Some(plugin) = self.generation.prompt_plugin {
            prompt.prompt_plugin = PluginSource::parse(&plugin)?;
        }
        if let Some(parser) = self.generation.parser {
            prompt.parser = PluginSource::parse(&parser)?;
        }
        if let Some(retries) = self.generation.parse_retries {
            prompt.parse_retries = retries;
        }
        prompt.task = self.generation.task.unwrap_or_default();
        prompt.turns = match (prompt.task, self.generation.turns) {
            (_, Some(turns)) if !(1..=MAX_TURNS).contains(&turns) => {
                let name = option("turns");
                let rule = format!("between 1 and {MAX_TURNS}");
                return Err(ConfigError::invalid(name, rule, f64::from(turns), &env));
            }
            (crate::task::Task::Conversation, turns) => turns.unwrap_or(crate::task::DEFAULT_TURNS),
            _ => 1,
        };
        settings.model.reasoning = prompt.task == crate::task::Task::Reasoning;
        if let Some(budget) = self.generation.thinking_budget {
            // Anthropic refuses a budget under 1,024 tokens.
            if settings.model.provider == ProviderKind::Claude && budget < 1024 {
                let rule =
                    "at least 1024 with --provider claude (Anthropic's smallest budget)".into();
                return Err(ConfigError::invalid(
                    option("thinking-budget"),
                    rule,
                    f64::from(budget),
                    &env,
                ));
            }
            settings.model.thinking_budget = Some(budget);
        }
        for (flag, value) in [
            ("price-in", self.cost.price_in),
            ("price-out", self.cost.price_out),
            ("max-cost", self.cost.max_cost),
        ] {
            if let Some(value) = value.filter(|v| !(*v >= 0.0 && v.is_finite())) {
                let rule = "a positive number of US dollars".into();
                return Err(ConfigError::invalid(option(flag), rule, value, &env));
            }
        }
        if self.cost.max_cost.is_some()
            && self.cost.price_in.is_none()
            && self.cost.price_out.is_none()
        {
            return Err(ConfigError::Invalid {
                option: "--max-cost".into(),
                rule: "given with --price-in and --price-out".into(),
            });
        }
        settings.batch = BatchOptions {
            batch_api: self.cost.batch_api,
            no_wait: self.cost.no_wait,
            batch_fallback: self.cost.batch_fallback.as_deref(),
            batch_poll_interval: self.cost.batch_poll_interval,
            batch_size: self.cost.batch_size,
            batch_line_retries: self.cost.batch_line_retries,
        }
        .resolve(settings.model.provider, &env)?;
        settings.cost = CostSettings {
            price_in: self.cost.price_in,
            price_out: self.cost.price_out,
            max_cost: self.cost.max_cost,
            batch: settings.batch.is_some(),
        };
        if let Some(format) = &self.training.format {
            settings.training = Some(TrainingSettings {
                format: PluginSource::parse(format)?,
                options: self.training.format_opt.clone(),
                output_type: self.training.output_type.unwrap_or_default(),
                reasoning_style: self.training.reasoning_style.unwrap_or_default(),
                dir: self
                    .training
                    .training_dir
                    .clone()
                    .unwrap_or_else(|| settings.qa_dir.clone()),
            });
        }
        if let Some(min) = self.quality.min_grounding
            && !(0.0..=1.0).contains(&min)
        {
            let rule = "between 0 and 1".into();
            return Err(ConfigError::invalid(
                option("min-grounding"),
                rule,
                min,
                &env,
            ));
        }
        settings.quality = crate::quality::QualityFilter {
            drop_echoes: !self.quality.no_echo_filter.unwrap_or(false),
            drop_restatements: !self.quality.no_restate_filter.unwrap_or(false),
            drop_placeholders: !self.quality.no_placeholder_filter.unwrap_or(false),
            drop_non_questions: !self.quality.no_question_form_filter.unwrap_or(false),
            drop_off_topic: !self.quality.no_topic_filter.unwrap_or(false),
            drop_thin_answers: !self.quality.no_thin_answer_filter.unwrap_or(false),
            drop_unfinished: !self.quality.no_unfinished_filter.unwrap_or(false),
            drop_repetitive: !self.quality.no_repetition_filter.unwrap_or(false),
            drop_invented: !self.quality.no_invented_filter.unwrap_or(false),
            drop_unanswered: !self.quality.no_unanswered_filter.unwrap_or(false),
            drop_empty_reasoning: !self.quality.no_empty_reasoning_filter.unwrap_or(false),
            drop_looping_reasoning: !self.quality.no_reasoning_loop_filter.unwrap_or(false),
            drop_ungrounded_reasoning: !self.quality.no_reasoning_grounding_filter.unwrap_or(false),
            drop_copied_reasoning: !self.quality.no_reasoning_copy_filter.unwrap_or(false),
            drop_repeated_turns: !self.quality.no_repeated_turn_filter.unwrap_or(false),
            dedupe: self.quality.dedupe.unwrap_or_default(),
            min_grounding: self
                .quality
                .min_grounding
                .unwrap_or(crate::quality::DEFAULT_MIN_GROUNDING),
            with_quality: self.quality.with_quality.unwrap_or(false),
            // Set by `tdg validate --min-score`, and kept by later runs.
            min_judge_score: None,
            conversation_cut: self.quality.conversation_cut.unwrap_or_default(),
        };
        settings.resume = self.run.resume.unwrap_or(false);
        settings.overwrite = self.run.overwrite.unwrap_or(false);
        settings.skip_failed = self.run.skip_failed.unwrap_or(false);
        if let Some(concurrency) = self.run.concurrency {
            if concurrency == 0 {
                let name = option("concurrency");
                return Err(ConfigError::invalid(name, "at least 1".into(), 0.0, &env));
            }
            settings.concurrency = concurrency;
        } else if settings.model.provider == ProviderKind::Embedded {
            settings.concurrency = crate::provider::embedded::DEFAULT_CONCURRENCY;
        }
        if self.run.limit == Some(0) {
            let name = option("limit");
            return Err(ConfigError::invalid(name, "at least 1".into(), 0.0, &env));
        }
        settings.limit = self.run.limit;
        Ok(settings)
    }
}

/// Reads `--question-types` (`text`), which must agree with `--questions-per-chunk`
/// when that is given too. A bad value names the environment variable it came from.
fn question_mix(
    text: &str,
    questions: Option<u32>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<QuestionMix, ConfigError> {
    let name = option("question-types");
    let from_environment = name
        .variable
        .as_deref()
        .filter(|variable| env(variable).as_deref() == Some(text));
    let option = match from_environment {
        Some(variable) => format!("{variable} (--{})", name.flag),
        None => format!("--{}", name.flag),
    };
    let mix = QuestionMix::parse(text).map_err(|error| ConfigError::Invalid {
        option: option.clone(),
        rule: error.to_string(),
    })?;
    match questions {
        Some(questions) if questions != mix.total() => Err(ConfigError::Invalid {
            option,
            rule: format!(
                "a mix whose counts add up to --questions-per-chunk ({questions}), or given without it: `{text}` asks for {} questions",
                mix.total()
            ),
        }),
        _ => Ok(mix),
    }
}

/// The batch options of `generate`, as given.
struct BatchOptions<'a> {
    batch_api: Option<bool>,
    no_wait: bool,
    batch_fallback: Option<&'a str>,
    batch_poll_interval: Option<f64>,
    batch_size: Option<usize>,
    batch_line_retries: Option<u32>,
}

impl BatchOptions<'_> {
    /// `--batch-api` and its options; none without it. The batch options alone, or
    /// `--batch-api` with a provider that has no batch API, are refused.
    fn resolve(
        self,
        provider: ProviderKind,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<crate::batch::BatchSettings>, ConfigError> {
        if self.batch_api != Some(true) {
            if self.no_wait {
                return Err(ConfigError::Invalid {
                    option: "--no-wait".into(),
                    rule: "given with --batch-api (live requests cannot be left running)".into(),
                });
            }
            return Ok(None);
        }
        if !matches!(
            provider,
            ProviderKind::OpenAi | ProviderKind::Claude | ProviderKind::Gemini
        ) {
            return Err(ConfigError::Invalid {
                option: "--batch-api".into(),
                rule: format!(
                    "used with a provider that has a batch API (openai, claude or gemini), not {provider}"
                ),
            });
        }
        let mut batch = crate::batch::BatchSettings {
            no_wait: self.no_wait,
            max_requests: self.batch_size,
            ..Default::default()
        };
        if let Some(fallback) = self.batch_fallback {
            batch.fallback = fallback.parse().map_err(|rule| ConfigError::Invalid {
                option: "--batch-fallback".into(),
                rule,
            })?;
        }
        if let Some(seconds) = self.batch_poll_interval {
            if !(seconds > 0.0 && seconds <= 86_400.0) {
                let rule = "from more than 0 to 86400 seconds".to_string();
                return Err(ConfigError::invalid(
                    option("batch-poll-interval"),
                    rule,
                    seconds,
                    &env,
                ));
            }
            batch.poll_interval = Duration::from_secs_f64(seconds);
        }
        if self.batch_size == Some(0) {
            return Err(ConfigError::invalid(
                option("batch-size"),
                "at least 1".into(),
                0.0,
                &env,
            ));
        }
        if let Some(retries) = self.batch_line_retries {
            batch.line_retries = retries;
        }
        Ok(Some(batch))
    }
}

/// `generate`'s option `--flag`, with its environment variable.
fn option(flag: &'static str) -> OptionName {
    OptionName::of::<GenerateArgs>(flag)
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
