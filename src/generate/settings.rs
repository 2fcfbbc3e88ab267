//! Everything that shapes a generation run, as the library API takes it. The command
//! line, the environment and `tdg.toml` are resolved into these by [`crate::config`].
//!
//! Each stage owns its own settings: how the model is reached
//! ([`ModelSettings`]) is the provider's, how prompts are built and answers parsed
//! ([`PromptSettings`]) the prompt stage's, which pairs are kept the quality gate's;
//! a run's settings hold them. The defaults are constants, which the help texts state.

use std::path::PathBuf;

use crate::plugin::PluginSource;
use crate::prompt::{
    DEFAULT_PARSE_RETRIES, DEFAULT_PROMPT_PLUGIN, DEFAULT_QUESTIONS_PER_CHUNK, PromptSettings,
};
use crate::provider::settings::{ModelSettings, ProviderKind};
use crate::question_types::QuestionMix;

/// Chunks in flight at once, when not given.
pub const DEFAULT_CONCURRENCY: usize = 16;
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
    pub output_type: crate::outputs::training_file::OutputType,
    /// Where chat formats write the reasoning (`--reasoning-style`).
    pub reasoning_style: crate::task::ReasoningStyle,
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
                task: crate::task::Task::Qa,
                turns: 1,
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
