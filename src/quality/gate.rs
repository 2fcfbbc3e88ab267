//! The [`Gate`]: applies a [`QualityFilter`] to pairs in chunk order, remembering the
//! questions kept so that exact and near duplicates of them are dropped.
//!
//! Duplicate candidates come from an inverted index over the kept questions' words
//! with prefix filtering, so a question is compared only with the few kept ones that
//! could match, not with all of them.
//!
//! A gate can sit on top of a shared base gate ([`Gate::on_top_of`]): duplicates are
//! looked for in both, and what it keeps goes into its own layer. A corpus-wide view
//! then reuses the questions of every earlier document without copying them.

use rustc_hash::FxHashMap;

use super::words::{WordId, WordSet};
use super::{
    DedupeScope, DropReason, INVENTED_MAX_GROUNDING, MAX_INVENTED_WORDS, MAX_REPETITION,
    MIN_QUESTION_GROUNDING, MIN_REASONING_GROUNDING, MIN_REASONING_WORDS, NEAR_DUPLICATE,
    PairQuality, QUOTE_TAKES_UP_OVER, QualityFilter,
};

/// A question's forms for duplicate checks, computed once.
#[derive(Clone)]
struct Question {
    words: WordSet,
    content: WordSet,
}

impl Question {
    fn new(text: &str) -> Self {
        Question {
            words: WordSet::of_words(text),
            content: WordSet::of_content(text),
        }
    }

    /// The same question but for case, punctuation, stop words, plural endings or
    /// word order: word-set Jaccard ≥ 0.9 on all words, or on content words (when
    /// there are at least two). Texts that normalise alike have the same words.
    fn near_duplicate_of(&self, other: &Question) -> bool {
        self.words.jaccard_at_least(&other.words, NEAR_DUPLICATE)
            || (self.content.len() >= 2
                && self
                    .content
                    .jaccard_at_least(&other.content, NEAR_DUPLICATE))
    }
}

/// Kept questions (by their place in `Gate::kept`) under each word they hold.
type Postings = FxHashMap<WordId, Vec<u32>>;

/// Applies a [`QualityFilter`] to pairs in order, remembering the questions kept.
#[derive(Clone)]
pub struct Gate {
    filter: QualityFilter,
    /// Questions kept before this gate's own, looked up but never changed.
    base: Option<std::sync::Arc<Gate>>,
    kept: Vec<Question>,
    /// Kept questions by each of their words, and by each content word.
    by_word: Postings,
    by_content: Postings,
}

/// The kept questions that could be near duplicates of a question with `words`:
/// prefix filtering. Jaccard ≥ t means sharing at least ⌈t·|A|⌉ of A's words, so a
/// match holds one of any |A| − ⌈t·|A|⌉ + 1 of A's words; the rarest are taken.
fn candidates(words: &WordSet, index: &Postings, out: &mut Vec<u32>) {
    let needed = (NEAR_DUPLICATE * words.len() as f64).ceil() as usize;
    let prefix = words.len() + 1 - needed.max(1);
    let mut postings: Vec<&Vec<u32>> = words.iter().filter_map(|word| index.get(&word)).collect();
    postings.sort_by_key(|ids| ids.len());
    // Words that no kept question has are the rarest of all: they use up the prefix.
    let missing = words.len() - postings.len();
    out.extend(
        postings
            .into_iter()
            .take(prefix.saturating_sub(missing))
            .flatten()
            .copied(),
    );
}

impl Gate {
    /// A gate that has seen the questions `earlier` (for corpus-wide duplicates).
    pub fn new(filter: QualityFilter, earlier: impl IntoIterator<Item = String>) -> Self {
        let mut gate = Gate {
            filter,
            base: None,
            kept: Vec::new(),
            by_word: Default::default(),
            by_content: Default::default(),
        };
        for question in earlier {
            gate.remember(Question::new(&question));
        }
        gate
    }

    /// A gate, under `base`'s filter, that counts `base`'s kept questions as its own
    /// earlier ones.
    pub fn on_top_of(base: std::sync::Arc<Gate>) -> Self {
        let mut gate = Gate::new(base.filter, []);
        gate.base = Some(base);
        gate
    }

    /// The filter this gate applies.
    pub fn filter(&self) -> &QualityFilter {
        &self.filter
    }

    fn remember(&mut self, question: Question) {
        let index = self.kept.len() as u32;
        for word in question.words.iter() {
            self.by_word.entry(word).or_default().push(index);
        }
        for word in question.content.iter() {
            self.by_content.entry(word).or_default().push(index);
        }
        self.kept.push(question);
    }

    /// Whether a kept question is a near duplicate of `question`.
    fn is_duplicate(&self, question: &Question) -> bool {
        let mut ids = Vec::new();
        candidates(&question.words, &self.by_word, &mut ids);
        if question.content.len() >= 2 {
            candidates(&question.content, &self.by_content, &mut ids);
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .any(|id| question.near_duplicate_of(&self.kept[id as usize]))
            || self
                .base
                .as_ref()
                .is_some_and(|base| base.is_duplicate(question))
    }

    /// Why the pair is dropped, or `None` to keep it (and remember its question).
    /// Pairs without quality figures (imported from the original tool) are kept as
    /// they were written, and take no part.
    /// `judged` is the judge's overall score, if the pair was judged.
    pub fn check(
        &mut self,
        question: &str,
        quality: Option<&PairQuality>,
        judged: Option<f64>,
    ) -> Option<DropReason> {
        if let (Some(min), Some(score)) = (self.filter.min_judge_score, judged)
            && score < min
        {
            return Some(DropReason::FailedJudge);
        }
        let quality = quality?;
        if let Some(reason) = self.content_verdict(quality, true) {
            return Some(reason);
        }
        let question = Question::new(question);
        if self.filter.dedupe != DedupeScope::Off && self.is_duplicate(&question) {
            return Some(DropReason::Duplicate);
        }
        self.remember(question);
        None
    }

    /// Why a reasoning pair's trace fails the gate, or `None` when it passes (or the
    /// pair was not made under `--task reasoning`: no `quality` for its trace).
    pub fn check_reasoning(
        &self,
        reasoning: Option<&str>,
        answer: &str,
        quality: Option<&PairQuality>,
    ) -> Option<DropReason> {
        let quality = quality?;
        let words = reasoning.map_or(0, |text| text.split_whitespace().count());
        if self.filter.drop_empty_reasoning && words < MIN_REASONING_WORDS {
            return Some(DropReason::ReasoningEmpty);
        }
        // A trace that is the answer again (SmolLM2 writes one for most pairs) teaches
        // a model to say its answer twice, not to reason.
        if self.filter.drop_copied_reasoning
            && Question::new(reasoning.unwrap_or_default())
                .near_duplicate_of(&Question::new(answer))
        {
            return Some(DropReason::ReasoningCopiesAnswer);
        }
        if self.filter.drop_looping_reasoning
            && quality
                .repetition
                .is_some_and(|share| share > MAX_REPETITION)
        {
            return Some(DropReason::ReasoningLoops);
        }
        if self.filter.drop_ungrounded_reasoning && quality.grounding < MIN_REASONING_GROUNDING {
            return Some(DropReason::ReasoningUngrounded);
        }
        None
    }

    /// The first of a conversation's follow-up exchanges (after `opening`, the pair
    /// itself) that fails the gate, by its place among the follow-ups, and why; `None`
    /// when all pass. A follow-up gets the checks of a pair's own content, but neither
    /// the duplicate check (a "why?" may follow many answers) nor the off-topic one (a
    /// follow-up builds on the earlier answers, not only on the chunk's words); and one
    /// that asks an earlier question of its conversation again, or gives an earlier
    /// answer again, is a [`DropReason::RepeatedTurn`] (small models repeat the
    /// opening question). Each exchange's word sets are made once.
    pub fn first_bad_follow_up<'a>(
        &self,
        opening: (&str, &str),
        follow_ups: impl IntoIterator<Item = ((&'a str, &'a str), Option<&'a PairQuality>)>,
    ) -> Option<(usize, DropReason)> {
        let forms =
            |(question, answer): (&str, &str)| (Question::new(question), Question::new(answer));
        // Made at the first follow-up: a pair without any (every pair of the other
        // tasks) costs nothing here.
        let mut earlier = Vec::new();
        for (at, (exchange, quality)) in follow_ups.into_iter().enumerate() {
            if self.filter.drop_repeated_turns {
                if earlier.is_empty() {
                    earlier.push(forms(opening));
                }
                let (asked, said) = forms(exchange);
                let repeats = earlier.iter().any(|(question, answer)| {
                    asked.near_duplicate_of(question) || said.near_duplicate_of(answer)
                });
                if repeats {
                    return Some((at, DropReason::RepeatedTurn));
                }
                earlier.push((asked, said));
            }
            if let Some(reason) = quality.and_then(|quality| self.content_verdict(quality, false)) {
                return Some((at, reason));
            }
        }
        None
    }

    /// The first failing check of one exchange's own content, in the gate's order.
    fn content_verdict(
        &self,
        quality: &PairQuality,
        question_on_topic: bool,
    ) -> Option<DropReason> {
        if self.filter.drop_echoes && quality.echo {
            return Some(DropReason::Echo);
        }
        if self.filter.drop_restatements && quality.restates {
            return Some(DropReason::RestatesQuestion);
        }
        if self.filter.drop_placeholders && quality.placeholder {
            return Some(DropReason::Placeholder);
        }
        if self.filter.drop_non_questions && quality.not_question {
            return Some(DropReason::NotAQuestion);
        }
        if question_on_topic
            && self.filter.drop_off_topic
            && quality
                .question_grounding
                .is_some_and(|share| share < MIN_QUESTION_GROUNDING)
        {
            return Some(DropReason::OffTopic);
        }
        if quality.grounding < self.filter.min_grounding {
            return Some(DropReason::Ungrounded);
        }
        if self.filter.drop_thin_answers && quality.thin_answer {
            return Some(DropReason::ThinAnswer);
        }
        if self.filter.drop_unfinished && quality.unfinished {
            return Some(DropReason::Unfinished);
        }
        if self.filter.drop_repetitive
            && quality
                .repetition
                .is_some_and(|share| share > MAX_REPETITION)
        {
            return Some(DropReason::Repetitive);
        }
        if self.filter.drop_invented
            && quality.grounding < INVENTED_MAX_GROUNDING
            && quality
                .invented
                .is_some_and(|words| words > MAX_INVENTED_WORDS)
        {
            return Some(DropReason::Invented);
        }
        if self.filter.drop_unanswered
            && quality
                .quote_takes_up
                .is_some_and(|share| share <= QUOTE_TAKES_UP_OVER)
        {
            return Some(DropReason::Unanswered);
        }
        None
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
