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
    MIN_QUESTION_GROUNDING, NEAR_DUPLICATE, PairQuality, QUOTE_TAKES_UP_OVER, QualityFilter,
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
        if self.filter.drop_off_topic
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
        let question = Question::new(question);
        if self.filter.dedupe != DedupeScope::Off && self.is_duplicate(&question) {
            return Some(DropReason::Duplicate);
        }
        self.remember(question);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_drops_duplicates_and_paraphrases_in_order() {
        let filter = QualityFilter::default();
        let mut gate = Gate::new(filter, []);
        let good = PairQuality {
            grounding: 1.0,
            ..Default::default()
        };
        let good = Some(&good);
        assert_eq!(gate.check("What does the license cover?", good, None), None);
        assert_eq!(
            gate.check("what does the LICENSE cover", good, None),
            Some(DropReason::Duplicate)
        );
        assert_eq!(
            gate.check("What does the licence cover?", good, None),
            None,
            "a different word is a different question"
        );
        assert_eq!(
            gate.check("Which rights does the license grant to users?", good, None),
            None
        );
        assert_eq!(
            gate.check("Which rights does the license grant users?", good, None),
            Some(DropReason::Duplicate)
        );
        assert_eq!(
            gate.check("The license grants users which rights?", good, None),
            Some(DropReason::Duplicate)
        );
        assert_eq!(gate.check("Who grants the license?", good, None), None);
        assert_eq!(gate.check("What does Section 3 cover?", good, None), None);
        assert_eq!(
            gate.check("What does Section 4 cover?", good, None),
            None,
            "numbers tell questions apart"
        );
        // Pairs imported from the original tool are kept as written.
        assert_eq!(gate.check("Who grants the license?", None, None), None);
        let echo = PairQuality {
            grounding: 1.0,
            evidence: None,
            echo: true,
            ..Default::default()
        };
        assert_eq!(
            gate.check("Anything", Some(&echo), None),
            Some(DropReason::Echo)
        );
    }

    #[test]
    fn min_grounding_and_switches_apply() {
        let filter = QualityFilter {
            min_grounding: 0.5,
            drop_echoes: false,
            dedupe: DedupeScope::Off,
            ..Default::default()
        };
        let mut gate = Gate::new(filter, ["What does the license cover?".to_string()]);
        let low = PairQuality {
            grounding: 0.4,
            ..Default::default()
        };
        assert_eq!(
            gate.check("Q one two", Some(&low), None),
            Some(DropReason::Ungrounded)
        );
        let echo = PairQuality {
            grounding: 0.9,
            echo: true,
            ..Default::default()
        };
        assert_eq!(
            gate.check("Q three four", Some(&echo), None),
            None,
            "the echo filter is off"
        );
        let good = PairQuality {
            grounding: 1.0,
            ..Default::default()
        };
        assert_eq!(
            gate.check("What does the license cover?", Some(&good), None),
            None,
            "dedupe is off"
        );
    }

    #[test]
    fn the_form_and_topic_checks_drop_by_default_and_each_can_be_turned_off() {
        let with = |change: fn(&mut PairQuality)| {
            let mut quality = PairQuality {
                grounding: 0.9,
                question_grounding: Some(0.8),
                ..Default::default()
            };
            change(&mut quality);
            quality
        };
        /// A pair that one check drops, its reason, and how to turn that check off.
        type Case = (PairQuality, DropReason, fn(&mut QualityFilter));
        let cases: [Case; 8] = [
            (
                with(|q| q.placeholder = true),
                DropReason::Placeholder,
                |f| f.drop_placeholders = false,
            ),
            (
                with(|q| q.not_question = true),
                DropReason::NotAQuestion,
                |f| f.drop_non_questions = false,
            ),
            (
                with(|q| q.question_grounding = Some(0.0)),
                DropReason::OffTopic,
                |f| f.drop_off_topic = false,
            ),
            (
                with(|q| q.thin_answer = true),
                DropReason::ThinAnswer,
                |f| f.drop_thin_answers = false,
            ),
            (with(|q| q.unfinished = true), DropReason::Unfinished, |f| {
                f.drop_unfinished = false
            }),
            (with(|q| q.grounding = 0.2), DropReason::Ungrounded, |f| {
                f.min_grounding = 0.0
            }),
            (
                with(|q| {
                    q.grounding = 0.45;
                    q.invented = Some(MAX_INVENTED_WORDS + 1);
                }),
                DropReason::Invented,
                |f| f.drop_invented = false,
            ),
            (
                with(|q| q.quote_takes_up = Some(QUOTE_TAKES_UP_OVER)),
                DropReason::Unanswered,
                |f| f.drop_unanswered = false,
            ),
        ];
        for (quality, reason, turn_off) in cases {
            let mut gate = Gate::new(QualityFilter::default(), []);
            assert_eq!(gate.check("Q?", Some(&quality), None), Some(reason));
            let mut filter = QualityFilter::default();
            turn_off(&mut filter);
            let mut gate = Gate::new(filter, []);
            assert_eq!(gate.check("Q?", Some(&quality), None), None, "{reason:?}");
        }
        // A checkpoint written before the question's grounding was recorded.
        let old = with(|q| q.question_grounding = None);
        assert_eq!(
            Gate::new(QualityFilter::default(), []).check("Q?", Some(&old), None),
            None
        );
    }

    #[test]
    fn the_indexed_gate_decides_as_comparing_every_pair_would() {
        let words = [
            "license", "grant", "users", "rights", "the", "which", "does", "patent", "work",
            "cover", "section", "3",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let questions: Vec<String> = (0..400)
            .map(|_| {
                (0..rng.usize(2..8))
                    .map(|_| words[rng.usize(..words.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let filter = QualityFilter::default();
        let good = PairQuality {
            grounding: 1.0,
            ..Default::default()
        };
        let mut gate = Gate::new(filter, []);
        let mut kept: Vec<Question> = Vec::new();
        let mut duplicates = 0;
        for text in &questions {
            let question = Question::new(text);
            let brute = kept.iter().any(|k| question.near_duplicate_of(k));
            let indexed = gate.check(text, Some(&good), None) == Some(DropReason::Duplicate);
            assert_eq!(indexed, brute, "{text}");
            if brute {
                duplicates += 1;
            } else {
                kept.push(question);
            }
        }
        assert!(
            duplicates > 50 && kept.len() > 50,
            "{duplicates} duplicates"
        );
    }

    #[test]
    fn a_gate_on_top_of_a_base_finds_its_duplicates_and_leaves_it_alone() {
        let good = PairQuality {
            grounding: 1.0,
            ..Default::default()
        };
        let good = Some(&good);
        let base = std::sync::Arc::new(Gate::new(
            QualityFilter::default(),
            ["What does the license cover?".to_string()],
        ));
        let mut top = Gate::on_top_of(base.clone());
        assert_eq!(
            top.check("What does the LICENSE cover", good, None),
            Some(DropReason::Duplicate)
        );
        assert_eq!(top.check("Who grants the license?", good, None), None);
        assert_eq!(
            top.check("Who grants the license", good, None),
            Some(DropReason::Duplicate)
        );
        assert_eq!(base.kept.len(), 1, "the base is never changed");
        let mut other = Gate::on_top_of(base);
        assert_eq!(other.check("Who grants the license?", good, None), None);
    }
}
