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
//! - **restates**: the answer only repeats the question;
//! - **question grounding**: the share of the question's own topic words (its
//!   content words less those any question uses: "use", "purpose", "difference") that
//!   the chunk holds, compared by stem ("terminates" finds "shall terminate"), as the
//!   unanswered check compares them (a question about nothing in the chunk is
//!   off-topic even when its answer happens to share words);
//! - **placeholder**, **not a question**, **thin answer**, **unfinished**,
//!   **repetition**: the pair's form (see `checks`);
//! - **invented**: how many content words the answer brings in from elsewhere;
//! - **quote takes up**: for an answer quoted word for word from the chunk, the share
//!   of the question's topic words it holds (does the quotation answer this question).
//!
//! These are kept in the checkpoint with every pair. A [`Gate`] then applies the
//! [`QualityFilter`] in chunk order to decide which pairs a Q&A file holds: dropping
//! echoes, restatements, placeholders, non-questions, off-topic questions, pairs
//! below `--min-grounding`, thin, unfinished and looping answers, and exact or near duplicates (word-set
//! Jaccard ≥ 0.9) of an earlier question in the document (or the corpus). Because the
//! figures are stored, a threshold can change later without calling the model again.
//! The defaults were calibrated on hand-labelled real pairs
//! (`tests/fixtures/quality/labelled.jsonl`).
//!
//! Submodules: `words` (how texts become comparable word sets), `checks` (the pair's
//! own form), `literal` (answers that are a number, a quoted value, code or a name),
//! `unanswered` (answers quoted from the chunk), `assess` (the figures of one pair) and
//! `gate` (the filter, with its duplicate index).

mod assess;
mod checks;
mod gate;
mod literal;
mod unanswered;
mod words;

pub use assess::{Assessor, PromptSide, PromptSideCache, assess, prompt_without};
pub use gate::Gate;

use serde::{Deserialize, Serialize};

/// The judge's overall score at which a pair passes.
pub const JUDGE_PASS: f64 = 8.0;

/// How similar two questions must be to count as duplicates (word-set Jaccard).
pub const NEAR_DUPLICATE: f64 = 0.9;

/// The default `--min-grounding`, chosen on the labelled set: the answers labelled
/// keep there score 0.4 or more, those labelled drop for saying what the chunk does not
/// 0.25 or less.
pub const DEFAULT_MIN_GROUNDING: f64 = 0.35;

/// The share of a question's content words the chunk must hold for it to be on topic:
/// in practice, at least one word of a question of up to ten. Low on purpose: a
/// question may use its own words ("kinds", "implements") for what the chunk says.
pub const MIN_QUESTION_GROUNDING: f64 = 0.1;

/// An answer that brings in more than this many different content words the chunk
/// does not hold, and whose grounding is below [`INVENTED_MAX_GROUNDING`], is made up
/// rather than drawn from the chunk. Chosen on the labelled set: the answers labelled
/// keep there bring in at most 5; the long unsupported answers SmolLM2 wrote, 18 and 31.
pub const MAX_INVENTED_WORDS: u32 = 10;
/// See [`MAX_INVENTED_WORDS`]: an answer with at least this share of the chunk's words
/// is long, not invented.
pub const INVENTED_MAX_GROUNDING: f64 = 0.5;

/// A question answered by a sentence quoted from the chunk must find more than this
/// share of its topic words in it (both of two, two of three, three of four): a quoted
/// sentence is true by construction, so what can go wrong is that it answers some other
/// question. Chosen on the labelled set's quoted answers (`run: quote-default`,
/// `report-quote`): at "at least half" three more pairs labelled drop were kept, and
/// no pair labelled keep is dropped either way.
pub const QUOTE_TAKES_UP_OVER: f64 = 0.5;

/// Above this share of repeated word triples an answer loops (see
/// `checks::repeated_share`; measured on the labelled set).
pub const MAX_REPETITION: f64 = 0.25;

/// A trace must be at least this many words to be reasoning at all.
pub const MIN_REASONING_WORDS: usize = 5;

/// The share of a trace's content words the chunk must hold: below it, the trace
/// never touches the chunk's content. Low on purpose: real traces spend most of their
/// words on their own steps ("so", "the user asks", "therefore"); see
/// docs/quality.md for the traces it was set on.
pub const MIN_REASONING_GROUNDING: f64 = 0.15;

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
    /// The share of the question's content words found in the chunk (absent in
    /// checkpoints written before it was recorded: then not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_grounding: Option<f64>,
    /// The question or answer holds template debris (`[product_name]`, `<answer>`, `...`).
    #[serde(default)]
    pub placeholder: bool,
    /// The question is not a question.
    #[serde(default)]
    pub not_question: bool,
    /// The answer is too thin to teach anything.
    #[serde(default)]
    pub thin_answer: bool,
    /// The answer stops mid-sentence (see `checks::is_unfinished`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unfinished: bool,
    /// The share of the answer's word triples that repeat an earlier one: a small
    /// model looping on the chunk's words (absent in checkpoints written before it was
    /// recorded: then not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<f64>,
    /// How many different content words of the answer the chunk does not hold: what
    /// the answer brings in from elsewhere (absent in checkpoints written before it
    /// was recorded: then not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invented: Option<u32>,
    /// When the answer is quoted from the chunk word for word (a sentence or clause of
    /// it, as `--quote-answers` decodes), the share of the question's topic words the
    /// answer holds; absent for an answer in other words, which need not repeat the
    /// question's, and in checkpoints written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_takes_up: Option<f64>,
}

/// Why a pair was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// It repeats the prompt's examples or instructions.
    Echo,
    /// The answer only restates the question.
    RestatesQuestion,
    /// Template debris in the question or answer.
    Placeholder,
    /// The question is not a question.
    NotAQuestion,
    /// The question's own words are not in the chunk.
    OffTopic,
    /// Its grounding is below `--min-grounding`.
    Ungrounded,
    /// The answer is too thin to teach anything.
    ThinAnswer,
    /// The answer stops mid-sentence.
    Unfinished,
    /// The answer loops, repeating its own words.
    Repetitive,
    /// The answer is long and mostly made of words the chunk does not hold.
    Invented,
    /// The answer, quoted from the chunk, holds too few of the question's words.
    Unanswered,
    /// Its question is an exact or near duplicate of an earlier one.
    Duplicate,
    /// The judge scored it below `--min-score`.
    FailedJudge,
    /// `--task reasoning`: it has no reasoning, or only a few words of it.
    ReasoningEmpty,
    /// `--task reasoning`: its reasoning loops, repeating its own words.
    ReasoningLoops,
    /// `--task reasoning`: its reasoning never touches the chunk's content.
    ReasoningUngrounded,
    /// `--task reasoning`: its reasoning is its answer again, not a way to it.
    ReasoningCopiesAnswer,
    /// `--task conversation`: a follow-up asks an earlier question of its
    /// conversation again, or answers with an earlier answer.
    RepeatedTurn,
}

impl DropReason {
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Echo => "echo",
            DropReason::RestatesQuestion => "restates-question",
            DropReason::Placeholder => "placeholder",
            DropReason::NotAQuestion => "not-a-question",
            DropReason::OffTopic => "off-topic",
            DropReason::Ungrounded => "ungrounded",
            DropReason::ThinAnswer => "thin-answer",
            DropReason::Unfinished => "unfinished",
            DropReason::Repetitive => "repetitive",
            DropReason::Invented => "invented",
            DropReason::Unanswered => "unanswered",
            DropReason::Duplicate => "duplicate",
            DropReason::FailedJudge => "failed-judge",
            DropReason::ReasoningEmpty => "reasoning-empty",
            DropReason::ReasoningLoops => "reasoning-loops",
            DropReason::ReasoningUngrounded => "reasoning-ungrounded",
            DropReason::ReasoningCopiesAnswer => "reasoning-copies-answer",
            DropReason::RepeatedTurn => "repeated-turn",
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
    /// Drop pairs holding template debris.
    #[serde(default = "yes")]
    pub drop_placeholders: bool,
    /// Drop pairs whose question is not a question.
    #[serde(default = "yes")]
    pub drop_non_questions: bool,
    /// Drop pairs whose question's words are not in the chunk.
    #[serde(default = "yes")]
    pub drop_off_topic: bool,
    /// Drop pairs whose answer is too thin.
    #[serde(default = "yes")]
    pub drop_thin_answers: bool,
    /// Drop pairs whose answer stops mid-sentence.
    #[serde(default = "yes")]
    pub drop_unfinished: bool,
    /// Drop pairs whose answer loops.
    #[serde(default = "yes")]
    pub drop_repetitive: bool,
    /// Drop pairs whose answer is long and mostly words from elsewhere.
    #[serde(default = "yes")]
    pub drop_invented: bool,
    /// Drop pairs whose quoted answer does not take up the question.
    #[serde(default = "yes")]
    pub drop_unanswered: bool,
    pub dedupe: DedupeScope,
    /// Pairs whose grounding is below this are dropped (0 keeps all).
    pub min_grounding: f64,
    /// Q&A files carry each pair's `quality`.
    pub with_quality: bool,
    /// Pairs the judge (`tdg validate`) scored below this are dropped.
    #[serde(default)]
    pub min_judge_score: Option<f64>,
    /// Drop reasoning pairs whose reasoning is missing or a few words.
    #[serde(default = "yes")]
    pub drop_empty_reasoning: bool,
    /// Drop reasoning pairs whose reasoning loops.
    #[serde(default = "yes")]
    pub drop_looping_reasoning: bool,
    /// Drop reasoning pairs whose reasoning never touches the chunk.
    #[serde(default = "yes")]
    pub drop_ungrounded_reasoning: bool,
    /// Drop reasoning pairs whose reasoning is their answer again.
    #[serde(default = "yes")]
    pub drop_copied_reasoning: bool,
    /// Cut (or drop) conversations at a follow-up that repeats an earlier exchange.
    #[serde(default = "yes")]
    pub drop_repeated_turns: bool,
    /// What a conversation with a bad follow-up becomes (`--conversation-cut`).
    #[serde(default)]
    pub conversation_cut: crate::task::ConversationCut,
}

impl Default for QualityFilter {
    fn default() -> Self {
        QualityFilter {
            drop_echoes: true,
            drop_restatements: true,
            drop_placeholders: true,
            drop_non_questions: true,
            drop_off_topic: true,
            drop_thin_answers: true,
            drop_unfinished: true,
            drop_repetitive: true,
            drop_invented: true,
            drop_unanswered: true,
            dedupe: DedupeScope::Document,
            min_grounding: DEFAULT_MIN_GROUNDING,
            with_quality: false,
            min_judge_score: None,
            drop_empty_reasoning: true,
            drop_looping_reasoning: true,
            drop_ungrounded_reasoning: true,
            drop_copied_reasoning: true,
            drop_repeated_turns: true,
            conversation_cut: crate::task::ConversationCut::Cut,
        }
    }
}

/// Serde's default for a check stored before it existed: on, as for a new run.
fn yes() -> bool {
    true
}
