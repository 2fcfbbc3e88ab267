//! What a run may spend and how it is paid: prices, the cap, a dry run, and the providers' batch APIs at half the price.

use clap::Args;
use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};

/// The cost and batch options of `tdg generate` (help headings "Cost" and "Batch API").
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct CostArgs {
    /// Send the chunks through the provider's batch API (openai, claude, gemini): half the price, answers within 24 hours. Batches are recorded in the checkpoint; a stopped run's `--resume` reattaches to them.
    #[arg(long, env = "GENERATOR_BATCH_API", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Batch API")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_api: Option<bool>,

    /// Where chunks whose batch line failed or expired are asked again: `batch` (a follow-up batch) or `live` [default: batch].
    #[arg(
        long,
        env = "GENERATOR_BATCH_FALLBACK",
        value_name = "batch|live",
        help_heading = "Batch API"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_fallback: Option<String>,

    /// Submit the batches and exit; a later `--resume` collects the answers.
    #[arg(long, help_heading = "Batch API")]
    #[serde(skip)]
    pub no_wait: bool,

    /// Seconds between two looks at a batch's state [default: 60].
    #[arg(
        long,
        env = "GENERATOR_BATCH_POLL_SECONDS",
        value_name = "SECONDS",
        help_heading = "Batch API"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_poll_interval: Option<f64>,

    /// At most N requests in one batch [default: the provider's limit: 50,000 for openai and gemini, 100,000 for claude].
    #[arg(
        long,
        env = "GENERATOR_BATCH_SIZE",
        value_name = "N",
        help_heading = "Batch API"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,

    /// How often a chunk whose batch line failed or expired is asked again before it is recorded as failed [default: 2].
    #[arg(long, value_name = "N", help_heading = "Batch API")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_line_retries: Option<u32>,

    /// US dollars per million input tokens, for cost estimates and --max-cost.
    #[arg(
        long,
        env = "GENERATOR_PRICE_IN",
        value_name = "USD",
        help_heading = "Cost"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_in: Option<f64>,

    /// US dollars per million output tokens, for cost estimates and --max-cost.
    #[arg(
        long,
        env = "GENERATOR_PRICE_OUT",
        value_name = "USD",
        help_heading = "Cost"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_out: Option<f64>,

    /// Stop the run cleanly, as if by Ctrl+C, once the estimated spend reaches this many US dollars.
    #[arg(
        long,
        env = "GENERATOR_MAX_COST",
        value_name = "USD",
        help_heading = "Cost"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,

    /// Count documents, chunks and tokens, estimate the cost, and call no model.
    #[arg(long, help_heading = "Cost")]
    #[serde(skip)]
    pub dry_run: bool,
}
