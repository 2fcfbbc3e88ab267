//! The training files written as documents finish.

use std::path::PathBuf;

use clap::Args;
use serde::{Deserialize, Serialize};

use super::parse_key_value;
use crate::config::help;
use crate::outputs::training_file::OutputType;
use crate::task::ReasoningStyle;

/// The training-file options of `tdg generate` (help heading "Training files").
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingArgs {
    /// Also write training files as documents finish, in this format: a built-in name or a component path.
    #[arg(
        long,
        env = "GENERATOR_FORMAT",
        value_name = "NAME|PATH.wasm",
        help_heading = "Training files"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,

    /// An option for the format plugin (repeatable).
    #[arg(long = "format-opt", value_name = "KEY=VALUE", value_parser = parse_key_value, help_heading = "Training files")]
    #[serde(skip)]
    pub format_opt: Vec<(String, String)>,

    /// JSON Lines or one JSON array.
    #[arg(long, value_enum, env = "GENERATOR_OUTPUT_TYPE", help_heading = "Training files",
          help = help::with_default("JSON Lines or one JSON array", help::value_name(OutputType::default())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_type: Option<OutputType>,

    /// Where chat formats write an example's reasoning: in a <think> block before the answer, or in a field of its own.
    #[arg(long, value_enum, env = "GENERATOR_REASONING_STYLE", help_heading = "Training files",
          help = help::with_default("Where chat formats write an example's reasoning: in a <think> block before the answer, or in a reasoning_content field", help::value_name(ReasoningStyle::default())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_style: Option<ReasoningStyle>,

    /// Where training files go [default: the Q&A directory].
    #[arg(
        long,
        env = "GENERATOR_TRAINING_DIR",
        value_name = "DIR",
        help_heading = "Training files"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_dir: Option<PathBuf>,
}
