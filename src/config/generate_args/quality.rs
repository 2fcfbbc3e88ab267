//! Which pairs the Q&A files keep: the quality gate's checks, duplicates, the judge.

use clap::Args;
use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};

use crate::config::help;
use crate::quality::{DedupeScope, QualityFilter};

/// The quality options of `tdg generate` (help heading "Quality").
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct QualityArgs {
    /// Keep pairs that repeat the prompt's own examples or instructions.
    #[arg(long, env = "GENERATOR_NO_ECHO_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_echo_filter: Option<bool>,

    /// Keep pairs whose answer only restates the question.
    #[arg(long, env = "GENERATOR_NO_RESTATE_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_restate_filter: Option<bool>,

    /// Keep pairs holding template debris (`[product_name]`, `<answer>`, `...`, `TODO`).
    #[arg(long, env = "GENERATOR_NO_PLACEHOLDER_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_placeholder_filter: Option<bool>,

    /// Keep pairs whose question is not a question (no question mark, and not a request such as "Explain …").
    #[arg(long, env = "GENERATOR_NO_QUESTION_FORM_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_question_form_filter: Option<bool>,

    /// Keep pairs whose question's own content words are mostly not in the chunk.
    #[arg(long, env = "GENERATOR_NO_TOPIC_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_topic_filter: Option<bool>,

    /// Keep pairs whose answer is too thin to teach anything (one content word, unless it is a literal of the chunk answering a what question; under four for why/how).
    #[arg(long, env = "GENERATOR_NO_THIN_ANSWER_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_thin_answer_filter: Option<bool>,

    /// Keep pairs whose answer stops mid-sentence (ends on a comma or on a word like "the", "to", "and" with no full stop).
    #[arg(long, env = "GENERATOR_NO_UNFINISHED_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_unfinished_filter: Option<bool>,

    /// Keep pairs whose answer loops on its own words (more than a quarter of its word triples repeated).
    #[arg(long, env = "GENERATOR_NO_REPETITION_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_repetition_filter: Option<bool>,

    /// Keep pairs whose answer is long and mostly made up (more than 10 words the chunk does not hold, and under half its words from the chunk).
    #[arg(long, env = "GENERATOR_NO_INVENTED_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_invented_filter: Option<bool>,

    /// Keep pairs whose answer, quoted from the chunk, holds no more than half of the question's topic words.
    #[arg(long, env = "GENERATOR_NO_UNANSWERED_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_unanswered_filter: Option<bool>,

    /// With --task reasoning, keep pairs with no reasoning, or fewer than 5 words of it.
    #[arg(long, env = "GENERATOR_NO_EMPTY_REASONING_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_empty_reasoning_filter: Option<bool>,

    /// With --task reasoning, keep pairs whose reasoning loops (more than a quarter of its word triples repeated).
    #[arg(long, env = "GENERATOR_NO_REASONING_LOOP_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_reasoning_loop_filter: Option<bool>,

    /// With --task reasoning, keep pairs whose reasoning never touches the chunk (under 15% of its content words in it).
    #[arg(long, env = "GENERATOR_NO_REASONING_GROUNDING_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_reasoning_grounding_filter: Option<bool>,

    /// With --task reasoning, keep pairs whose reasoning is their answer again.
    #[arg(long, env = "GENERATOR_NO_REASONING_COPY_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_reasoning_copy_filter: Option<bool>,

    /// With --task conversation, keep follow-ups that ask an earlier question of their conversation again or give an earlier answer again.
    #[arg(long, env = "GENERATOR_NO_REPEATED_TURN_FILTER", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_repeated_turn_filter: Option<bool>,

    /// Drop exact and near-duplicate questions within each document, across the corpus, or not at all.
    #[arg(long, value_enum, env = "GENERATOR_DEDUPE", help_heading = "Quality",
          help = help::with_default("Drop exact and near-duplicate questions within each document, across the corpus, or not at all", help::value_name(DedupeScope::default())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<DedupeScope>,

    /// Drop pairs whose grounding (the share of the answer's content words found in the chunk) is below this, 0 to 1.
    #[arg(long, env = "GENERATOR_MIN_GROUNDING", value_name = "X", help_heading = "Quality",
          help = help::with_default("Drop pairs whose grounding (the share of the answer's content words found in the chunk) is below this, 0 to 1", QualityFilter::default().min_grounding))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_grounding: Option<f64>,

    /// What a conversation with a follow-up exchange that fails the gate becomes: cut before that exchange, or dropped whole.
    #[arg(long, value_enum, env = "GENERATOR_CONVERSATION_CUT", help_heading = "Quality",
          help = help::with_default("What a conversation with a follow-up exchange that fails the gate becomes: cut before that exchange, or dropped whole", help::value_name(crate::task::ConversationCut::default())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_cut: Option<crate::task::ConversationCut>,

    /// Add each pair's `quality` (grounding score, evidence span, reasons) to the Q&A files.
    #[arg(long, env = "GENERATOR_WITH_QUALITY", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = BoolishValueParser::new(), help_heading = "Quality")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_quality: Option<bool>,
}
