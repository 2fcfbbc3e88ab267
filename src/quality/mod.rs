//! The quality gate: why a pair is kept or dropped.
//!
//! For each pair, as it comes back from the parser, [`assess`] records:
//!
//! - **grounding**: the share of the answer's content words (not stop words) that the
//!   chunk holds, from 0 to 1;
//! - **evidence**: the character offsets in the chunk of the sentence (or two adjacent
//!   sentences) that share the most content words with the answer;
//! - **echo**: the question (or the whole pair) repeats the prompt's own text, its
//!   examples or instructions: compared against the rendered prompt without the chunk;
//! - **restates**: the answer only repeats the question.
//!
//! These are kept in the checkpoint with every pair. A [`Gate`] then applies the
//! [`QualityFilter`] in chunk order to decide which pairs a Q&A file holds: dropping
//! echoes, restatements, pairs below `--min-grounding`, and exact or near duplicates
//! (word-set Jaccard ≥ 0.9) of an earlier question in the document (or the corpus).
//! Because the figures are stored, a threshold can change later without calling the
//! model again.
//!
//! Submodules: `words` (how texts become comparable word sets), `assess` (the
//! figures of one pair) and `gate` (the filter, with its duplicate index).

mod assess;
mod gate;
mod words;

pub use assess::{Assessor, PromptSide, PromptSideCache, assess, prompt_without};
pub use gate::Gate;

use serde::{Deserialize, Serialize};

/// The judge's overall score at which a pair passes.
pub const JUDGE_PASS: f64 = 8.0;

/// How similar two questions must be to count as duplicates (word-set Jaccard).
pub const NEAR_DUPLICATE: f64 = 0.9;

/// What the gate knows of one pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairQuality {
    /// The share of the answer's content words found in the chunk.
    pub grounding: f64,
    /// The supporting sentence(s): character offsets `[start, end)` in the chunk.
    pub evidence: Option<(usize, usize)>,
    /// The pair repeats the prompt's own text.
    #[serde(default)]
    pub echo: bool,
    /// The answer only restates the question.
    #[serde(default)]
    pub restates: bool,
}

/// Why a pair was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// It repeats the prompt's examples or instructions.
    Echo,
    /// The answer only restates the question.
    RestatesQuestion,
    /// Its grounding is below `--min-grounding`.
    Ungrounded,
    /// Its question is an exact or near duplicate of an earlier one.
    Duplicate,
    /// The judge scored it below `--min-score`.
    FailedJudge,
}

impl DropReason {
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Echo => "echo",
            DropReason::RestatesQuestion => "restates-question",
            DropReason::Ungrounded => "ungrounded",
            DropReason::Duplicate => "duplicate",
            DropReason::FailedJudge => "failed-judge",
        }
    }
}

/// Where duplicates are looked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DedupeScope {
    /// No duplicate check.
    Off,
    /// Within each document (the default).
    #[default]
    Document,
    /// Across the whole corpus, documents in name order.
    Corpus,
}

/// Which pairs a Q&A file keeps. Stored with the run, so views, `stats` and `reparse`
/// apply the same rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityFilter {
    pub drop_echoes: bool,
    pub drop_restatements: bool,
    pub dedupe: DedupeScope,
    /// Pairs whose grounding is below this are dropped (0 keeps all).
    pub min_grounding: f64,
    /// Q&A files carry each pair's `quality`.
    pub with_quality: bool,
    /// Pairs the judge (`tdg validate`) scored below this are dropped.
    #[serde(default)]
    pub min_judge_score: Option<f64>,
}

impl Default for QualityFilter {
    fn default() -> Self {
        QualityFilter {
            drop_echoes: true,
            drop_restatements: true,
            dedupe: DedupeScope::Document,
            min_grounding: 0.0,
            with_quality: false,
            min_judge_score: None,
        }
    }
}
