//! Where a run reads and writes and how it proceeds: its directories, resuming, chunks in flight, a limit, a shard, progress lines.

use std::path::PathBuf;

use clap::Args;
use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};

use crate::config::DEFAULT_PROGRESS_INTERVAL_SECS;
use crate::config::help;
use crate::generate::settings::DEFAULT_CONCURRENCY;

/// The directories a run reads and writes.
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct DirArgs {
    /// Input chunks directory (the chunker's *_chunks.json files).
    #[arg(
        long,
        env = "GENERATOR_PROCESS_DIR",
        value_name = "DIR",
        help_heading = "Directories"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks_dir: Option<PathBuf>,

    /// Output Q&A files directory.
    #[arg(
        long,
        env = "GENERATOR_OUTPUT_DIR",
        value_name = "DIR",
        help_heading = "Directories"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_dir: Option<PathBuf>,
}

/// How a run proceeds: resuming, chunks in flight, a limit, a shard, progress lines.
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct RunArgs {
    /// Resume from interruption: keep finished chunks, ask for the rest (failed ones included).
    #[arg(long, env = "GENERATOR_RESUME", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume: Option<bool>,

    /// With --resume: leave failed chunks failed instead of asking for them again.
    #[arg(long, env = "GENERATOR_SKIP_FAILED", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_failed: Option<bool>,

    /// Discard an existing run in the Q&A directory and start again.
    #[arg(long, env = "GENERATOR_OVERWRITE", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,

    /// Chunks in flight at once.
    #[arg(long, env = "GENERATOR_CONCURRENCY", value_name = "N", help_heading = "Processing",
          help = help::with_default("Chunks in flight at once", DEFAULT_CONCURRENCY))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,

    /// The original's parallel mode; tdg is always concurrent (see --concurrency), so this is accepted and changes nothing.
    #[arg(long, env = "GENERATOR_BATCH_PROCESSING", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Processing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_processing: Option<bool>,

    /// Generate only the first N chunks that need work, across documents in name order.
    #[arg(
        long,
        env = "GENERATOR_LIMIT",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,

    /// Generate only shard K of N (K from 0): the chunks whose stable hash of document and chunk id falls to it, into QA_DIR/shard-KKKK-of-NNNN/; `tdg merge` joins the shards.
    #[arg(
        long,
        env = "GENERATOR_SHARD",
        value_name = "K/N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,

    /// The number of shards, when the shard's index comes from the scheduler (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID).
    #[arg(
        long,
        env = "GENERATOR_SHARDS",
        value_name = "N",
        help_heading = "Processing"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,

    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, env = "GENERATOR_PROGRESS_INTERVAL", value_name = "SECONDS", help_heading = "Processing",
          help = help::with_default("Seconds between progress lines when stderr is not a terminal", DEFAULT_PROGRESS_INTERVAL_SECS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_interval: Option<f64>,
}
