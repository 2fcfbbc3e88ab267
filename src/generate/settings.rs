//! Everything that shapes a generation run, as the library API takes it. The command
//! line, the environment and `tdg.toml` are resolved into these by [`crate::config`].
//!
//! How the model is reached ([`ModelSettings`]) belongs to the provider stage and is
//! defined there; it is re-exported here because a run's settings hold it. The
//! defaults are constants, which the help texts state.

use std::path::PathBuf;

use crate::plugin::PluginSource;
pub use crate::provider::settings::{ApiKey, ModelSettings, OllamaOptions, ProviderKind};

/// Pairs asked for per chunk, when not given.
pub const DEFAULT_QUESTIONS_PER_CHUNK: u32 = 3;
/// How often a chunk whose answer held no pair is asked again, when not given.
pub const DEFAULT_PARSE_RETRIES: u32 = 1;
/// Chunks in flight at once, when not given.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// The prompt plugin and the parser, when not given.
pub const DEFAULT_PROMPT_PLUGIN: &str = "default-prompt";
/// The question types a mix may ask for (`--question-types`), and the only names a
/// pair's recorded type may have.
pub const QUESTION_TYPES: [&str; 4] = ["factual", "analytical", "explanatory", "inferential"];

/// How many questions of each type to ask for per chunk (`--question-types
/// factual=2,inferential=1`), in the order given. Empty means no mix: the prompt asks
/// for diverse types, and the pairs asked for are `questions_per_chunk`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuestionMix {
    counts: Vec<(String, u32)>,
}

/// Why a `--question-types` value cannot be read. Each message is the rule the value
/// breaks, worded to follow "`--question-types` must be".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionMixError {
    #[error("TYPE=COUNT pairs separated by commas, such as factual=2,inferential=1; `{0}` is not")]
    NotAPair(String),
    #[error("made of the known question types ({known}); `{0}` is not one", known = QUESTION_TYPES.join(", "))]
    UnknownType(String),
    #[error("TYPE=COUNT pairs whose counts are whole numbers of at least 1; `{0}` is not")]
    BadCount(String),
    #[error("a list that names each type once; `{0}` is named twice")]
    Repeated(String),
    #[error("a mix of at most {} questions in all", u32::MAX)]
    TooMany,
}

impl QuestionMix {
    /// Reads `factual=2, inferential=1` (names in any case; spaces around parts are
    /// ignored). Every name must be one of [`QUESTION_TYPES`], named once, with a count
    /// of at least 1.
    pub fn parse(text: &str) -> Result<Self, QuestionMixError> {
        let mut counts: Vec<(String, u32)> = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let Some((name, count)) = part.split_once('=') else {
                return Err(QuestionMixError::NotAPair(part.to_string()));
            };
            let name = name.trim().to_lowercase();
            if !QUESTION_TYPES.contains(&name.as_str()) {
                return Err(QuestionMixError::UnknownType(name));
            }
            let count = count.trim();
            let count = count
                .parse::<u32>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| QuestionMixError::BadCount(count.to_string()))?;
            if counts.iter().any(|(known, _)| *known == name) {
                return Err(QuestionMixError::Repeated(name));
            }
            counts.push((name, count));
        }
        let mix = QuestionMix { counts };
        mix.checked_total().ok_or(QuestionMixError::TooMany)?;
        Ok(mix)
    }

    /// A mix of the given `(type, count)`s, as recorded (unchecked: a record is
    /// trusted as it was written).
    pub fn from_counts(counts: Vec<(String, u32)>) -> Self {
        QuestionMix { counts }
    }

    /// Whether no mix was asked for.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Each type with its count, in the order given.
    pub fn counts(&self) -> &[(String, u32)] {
        &self.counts
    }

    /// The types' names, in the order given.
    pub fn names(&self) -> Vec<String> {
        self.counts.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The questions asked for in all.
    pub fn total(&self) -> u32 {
        self.checked_total().unwrap_or(u32::MAX)
    }

    fn checked_total(&self) -> Option<u32> {
        self.counts
            .iter()
            .try_fold(0u32, |sum, (_, count)| sum.checked_add(*count))
    }
}

impl std::fmt::Display for QuestionMix {
    /// The mix as `--question-types` takes it: `factual=2,inferential=1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(name, count)| format!("{name}={count}"))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// How prompts are built and answers parsed.
#[derive(Debug, Clone)]
pub struct PromptSettings {
    /// Pairs asked for per chunk; with a mix of question types, the mix's total.
    pub questions_per_chunk: u32,
    /// The mix of question types asked for (empty: diverse types).
    pub question_types: QuestionMix,
    pub system_message: Option<String>,
    pub extra_instructions: Option<String>,
    /// A user template replacing the default prompt: (file name, source).
    pub template: Option<(String, String)>,
    pub vars: Vec<(String, String)>,
    pub prompt_plugin: PluginSource,
    pub parser: PluginSource,
    /// How often a chunk whose answer held no pair is asked again.
    pub parse_retries: u32,
}

/// Prices and a spending cap (`--price-in`, `--price-out`, `--max-cost`), in US
/// dollars per million tokens and in US dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CostSettings {
    pub price_in: Option<f64>,
    pub price_out: Option<f64>,
    pub max_cost: Option<f64>,
    /// Requests go through a batch API, at half the price (OpenAI, Anthropic and
    /// Gemini all discount batches by 50%).
    pub batch: bool,
}

/// What a batch request costs, against a live one.
pub const BATCH_PRICE_FACTOR: f64 = 0.5;

impl CostSettings {
    /// The cost of `tokens_in` and `tokens_out`, if any price is known. The one place
    /// spend is computed: estimates, the end-of-run line and the `--max-cost` budget.
    pub fn cost(&self, tokens_in: u64, tokens_out: u64) -> Option<f64> {
        if self.price_in.is_none() && self.price_out.is_none() {
            return None;
        }
        let factor = if self.batch { BATCH_PRICE_FACTOR } else { 1.0 };
        Some(
            (tokens_in as f64 / 1e6 * self.price_in.unwrap_or(0.0)
                + tokens_out as f64 / 1e6 * self.price_out.unwrap_or(0.0))
                * factor,
        )
    }
}

/// A whole generation run.
#[derive(Debug, Clone)]
pub struct GenerateSettings {
    pub chunks_dir: PathBuf,
    pub qa_dir: PathBuf,
    pub model: ModelSettings,
    pub prompt: PromptSettings,
    /// Continue a run in `qa_dir`.
    pub resume: bool,
    /// Replace a run in `qa_dir`.
    pub overwrite: bool,
    /// On resume, leave failed chunks failed instead of retrying them.
    pub skip_failed: bool,
    /// How many chunks are in flight at once.
    pub concurrency: usize,
    /// `--limit`: ask only for the first this many chunks that need work, across
    /// documents in name order.
    pub limit: Option<usize>,
    /// Prices and a spending cap.
    pub cost: CostSettings,
    /// Training files to write as documents finish (`--format`).
    pub training: Option<TrainingSettings>,
    /// Which pairs the Q&A files keep.
    pub quality: crate::quality::QualityFilter,
    /// `--shard`: only this shard's chunks, in its own directory under the Q&A
    /// directory (already joined to `qa_dir`).
    pub shard: Option<crate::shard::Shard>,
    /// `--batch-api`: through the provider's batch API instead of live requests.
    pub batch: Option<crate::batch::BatchSettings>,
}

/// `--format`, `--format-opt`, `--output-type` and `--training-dir` of `generate`.
#[derive(Debug, Clone)]
pub struct TrainingSettings {
    pub format: PluginSource,
    pub options: Vec<(String, String)>,
    pub output_type: crate::convert::OutputType,
    pub dir: PathBuf,
}

impl GenerateSettings {
    /// Runs only `shard` (found from `from`, for the log), in its own directory under
    /// the Q&A directory.
    pub fn set_shard(&mut self, shard: crate::shard::Shard, from: &str) {
        let dir = self.qa_dir.join(shard.dir_name());
        tracing::info!(
            "shard {shard} (from {from}): its chunks only, into {}; `tdg merge {}` joins the shards",
            dir.display(),
            self.qa_dir.display()
        );
        self.qa_dir = dir;
        self.shard = Some(shard);
    }

    /// Settings with the original tool's defaults, for the library builder.
    pub fn new(
        chunks_dir: impl Into<PathBuf>,
        qa_dir: impl Into<PathBuf>,
        provider: ProviderKind,
    ) -> Self {
        GenerateSettings {
            chunks_dir: chunks_dir.into(),
            qa_dir: qa_dir.into(),
            model: ModelSettings::new(provider),
            prompt: PromptSettings {
                questions_per_chunk: DEFAULT_QUESTIONS_PER_CHUNK,
                question_types: QuestionMix::default(),
                system_message: None,
                extra_instructions: None,
                template: None,
                vars: Vec::new(),
                prompt_plugin: PluginSource::Builtin(DEFAULT_PROMPT_PLUGIN),
                parser: PluginSource::Builtin(DEFAULT_PROMPT_PLUGIN),
                parse_retries: DEFAULT_PARSE_RETRIES,
            },
            resume: false,
            overwrite: false,
            skip_failed: false,
            concurrency: DEFAULT_CONCURRENCY,
            limit: None,
            cost: CostSettings::default(),
            training: None,
            quality: crate::quality::QualityFilter::default(),
            shard: None,
            batch: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_is_read_in_the_order_given_and_sums_to_the_questions() {
        let mix = QuestionMix::parse(" Factual = 2, inferential=1 ").unwrap();
        assert_eq!(
            mix.counts(),
            [("factual".to_string(), 2), ("inferential".to_string(), 1)]
        );
        assert_eq!(mix.total(), 3);
        assert_eq!(mix.names(), ["factual", "inferential"]);
        assert_eq!(mix.to_string(), "factual=2,inferential=1");
        assert_eq!(QuestionMix::parse(&mix.to_string()).unwrap(), mix);
    }

    #[test]
    fn a_bad_mix_says_what_is_wrong() {
        let error = |text: &str| QuestionMix::parse(text).unwrap_err();
        assert_eq!(
            error("factual=2,opinion=1"),
            QuestionMixError::UnknownType("opinion".into())
        );
        assert!(
            error("opinion=1")
                .to_string()
                .contains("factual, analytical, explanatory, inferential")
        );
        for bad in ["factual=0", "factual=-1", "factual=two", "factual="] {
            assert!(matches!(error(bad), QuestionMixError::BadCount(_)), "{bad}");
        }
        assert_eq!(
            error("factual"),
            QuestionMixError::NotAPair("factual".into())
        );
        assert_eq!(error(""), QuestionMixError::NotAPair(String::new()));
        assert_eq!(
            error("factual=1,FACTUAL=2"),
            QuestionMixError::Repeated("factual".into())
        );
        assert_eq!(
            error("factual=4294967295,inferential=1"),
            QuestionMixError::TooMany
        );
    }

    #[test]
    fn cost_is_known_once_a_price_is() {
        let unpriced = CostSettings::default();
        assert_eq!(unpriced.cost(1_000_000, 1_000_000), None);
        let priced = CostSettings {
            price_in: Some(2.0),
            price_out: Some(8.0),
            max_cost: None,
            batch: false,
        };
        assert_eq!(priced.cost(500_000, 250_000), Some(3.0));
        // Through a batch API, at the providers' batch discount.
        let batched = CostSettings {
            batch: true,
            ..priced
        };
        assert_eq!(batched.cost(500_000, 250_000), Some(1.5));
        let input_only = CostSettings {
            price_in: Some(1.5),
            ..CostSettings::default()
        };
        assert_eq!(input_only.cost(2_000_000, 9_000_000), Some(3.0));
    }
}
