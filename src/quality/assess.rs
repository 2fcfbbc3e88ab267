//! What the gate records of each pair as it comes back from the parser: grounding,
//! evidence, echo, restatement, the question's own grounding and the form checks
//! ([`PairQuality`]).
//!
//! An [`Assessor`] holds what one chunk needs (its words, its sentences) and shares the
//! prompt's side ([`PromptSide`]) with every chunk made from the same template, so a
//! pair costs a few lookups in sorted word sets.

use std::sync::{Arc, Mutex};

use super::checks::{
    Triples, asks_for_literal, is_question, is_thin_answer, is_unfinished, placeholders,
    repeated_share, topic_stems, triples_of,
};
use super::literal;
use super::unanswered::{Quotations, takes_up};
use super::words::{WordId, WordSet, content_ids, for_each_word, is_stop_word, normalize, word_id};
use super::{NEAR_DUPLICATE, PairQuality};
use crate::sentences::{SentenceSpan, sentence_spans};

/// The prompt's text without the chunk's: what an echo would copy.
pub fn prompt_without(messages: &[crate::chat::Message], chunk: &str) -> String {
    messages
        .iter()
        .map(|m| {
            if chunk.is_empty() {
                m.content.clone()
            } else {
                m.content.replace(chunk, "")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Assesses one pair made from `chunk`, whose prompt, without the chunk's text, was
/// `prompt_rest`. (For many pairs of one chunk, build an [`Assessor`] once.)
pub fn assess(question: &str, answer: &str, chunk: &str, prompt_rest: &str) -> PairQuality {
    Assessor::new(chunk, prompt_rest).assess(question, answer)
}

/// What the echo check needs of a prompt (without its chunk). Every chunk of a run
/// with one template has the same, so it is worked out once and shared.
#[derive(Debug)]
pub struct PromptSide {
    /// The text it was made from.
    text: String,
    /// The prompt, normalised.
    normalized: String,
    /// Each line's content words.
    lines: Vec<WordSet>,
}

impl PromptSide {
    pub fn new(prompt_rest: &str) -> Self {
        PromptSide {
            text: prompt_rest.to_string(),
            normalized: normalize(prompt_rest),
            lines: prompt_rest
                .lines()
                .map(WordSet::of_content)
                .filter(|words| !words.is_empty())
                .collect(),
        }
    }
}

/// Keeps the last [`PromptSide`], to reuse while the prompt stays the same.
#[derive(Debug, Default)]
pub struct PromptSideCache(Mutex<Option<Arc<PromptSide>>>);

impl PromptSideCache {
    /// The prompt side of `prompt_rest`, from the cache when it is the same text.
    pub fn get(&self, prompt_rest: &str) -> Arc<PromptSide> {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match last.as_ref() {
            Some(side) if side.text == prompt_rest => side.clone(),
            _ => {
                let side = Arc::new(PromptSide::new(prompt_rest));
                *last = Some(side.clone());
                side
            }
        }
    }
}

/// One sentence of a chunk: where it stands (character offsets) and its content words.
struct Sentence {
    span: (usize, usize),
    words: WordSet,
}

/// What the gate needs of one chunk and its prompt, worked out once for all its pairs.
pub struct Assessor {
    /// The chunk as written: where literal answers are looked for.
    chunk: String,
    /// The chunk, lower-cased: template debris it holds too is quoted, not debris.
    chunk_lower: String,
    /// Where quotations of the chunk begin.
    quotations: Quotations,
    chunk_words: WordSet,
    /// The [`match_stem`](super::words::match_stem)s of the chunk's content words, for
    /// the question's grounding.
    chunk_stems: WordSet,
    /// The chunk's word triples, for telling a looping answer from a quotation.
    chunk_triples: Triples,
    sentences: Vec<Sentence>,
    prompt: Arc<PromptSide>,
}

impl Assessor {
    pub fn new(chunk: &str, prompt_rest: &str) -> Self {
        Self::with_prompt(chunk, Arc::new(PromptSide::new(prompt_rest)))
    }

    /// An assessor for `chunk` with an already worked-out prompt side.
    pub fn with_prompt(chunk: &str, prompt: Arc<PromptSide>) -> Self {
        let spans = sentence_spans(chunk);
        let text = |span: &SentenceSpan| &chunk[span.bytes.0..span.bytes.1];
        Assessor {
            chunk: chunk.to_string(),
            chunk_lower: chunk.to_lowercase(),
            quotations: Quotations::of(spans.iter().map(text)),
            chunk_words: WordSet::of_content(chunk),
            chunk_stems: WordSet::of_content_stems(chunk),
            chunk_triples: triples_of(chunk),
            sentences: spans
                .iter()
                .map(|span| Sentence {
                    span: span.chars,
                    words: WordSet::of_content(text(span)),
                })
                .collect(),
            prompt,
        }
    }

    /// Assesses one pair.
    pub fn assess(&self, question: &str, answer: &str) -> PairQuality {
        let answer_words = content_ids(answer);
        // A literal the chunk holds ("8080.", "`/p/a/t/h`.") is grounded whole, and
        // answers a "what" question however short it is.
        let literal = || literal::held_by_chunk(answer, &self.chunk);
        PairQuality {
            grounding: if answer_words.is_empty() && literal() {
                1.0
            } else {
                self.share_in_chunk(&answer_words)
            },
            evidence: self.evidence(&WordSet::from_ids(answer_words)),
            echo: self.is_echo(question),
            restates: restates(question, answer),
            question_grounding: Some(share_in(&topic_stems(question), &self.chunk_stems)),
            placeholder: [question, answer]
                .into_iter()
                .flat_map(placeholders)
                .any(|mark| !self.chunk_lower.contains(&mark)),
            not_question: !is_question(question),
            thin_answer: is_thin_answer(question, answer)
                && !(asks_for_literal(question) && literal()),
            unfinished: is_unfinished(answer),
            repetition: Some(repeated_share(answer, &self.chunk_triples)),
            invented: Some(self.invented(answer)),
            quote_takes_up: self
                .quotations
                .quotes(answer)
                .then(|| takes_up(question, answer)),
        }
    }

    /// How many different content words of `answer` the chunk does not hold.
    fn invented(&self, answer: &str) -> u32 {
        WordSet::of_content(answer)
            .iter()
            .filter(|w| !self.chunk_words.contains(*w))
            .count() as u32
    }

    /// The share of `words` (with repeats) that the chunk holds; 0 when there are none.
    fn share_in_chunk(&self, words: &[WordId]) -> f64 {
        share_in(words, &self.chunk_words)
    }

    /// The sentence, or two adjacent sentences, holding the most of `wanted`, as
    /// character offsets. A wider span must find strictly more to be preferred.
    fn evidence(&self, wanted: &WordSet) -> Option<(usize, usize)> {
        let mut best: Option<(usize, (usize, usize))> = None;
        for (i, sentence) in self.sentences.iter().enumerate() {
            let mut spans = vec![(sentence.span, wanted.shared(&sentence.words))];
            if let Some(next) = self.sentences.get(i + 1) {
                let found = wanted
                    .iter()
                    .filter(|w| sentence.words.contains(*w) || next.words.contains(*w))
                    .count();
                spans.push(((sentence.span.0, next.span.1), found));
            }
            for (span, found) in spans {
                if found > 0 && best.is_none_or(|(most, _)| found > most) {
                    best = Some((found, span));
                }
            }
        }
        best.map(|(_, span)| span)
    }

    /// Whether the question repeats the prompt's own text: it stands in the prompt, or
    /// nearly all of its content words (at least three) stand in one line of it (an
    /// example with a word changed).
    fn is_echo(&self, question: &str) -> bool {
        let question = normalize(question);
        if question.split(' ').count() < 3 {
            return false;
        }
        if self.prompt.normalized.contains(&question) {
            return true;
        }
        let words = WordSet::of_content(&question);
        words.len() >= 3
            && self
                .prompt
                .lines
                .iter()
                .any(|line| words.shared(line) as f64 / words.len() as f64 >= NEAR_DUPLICATE)
    }
}

/// The share of `words` (with repeats) that `set` holds; 0 when there are none.
fn share_in(words: &[WordId], set: &WordSet) -> f64 {
    if words.is_empty() {
        return 0.0;
    }
    words.iter().filter(|w| set.contains(**w)).count() as f64 / words.len() as f64
}

/// Whether the answer only repeats the question: it has no word of its own (stop
/// words aside), or nearly the same words; unless it brings a result the question
/// does not hold as one of its own values ("'#bar'." for what `myURL.hash` returns
/// for `…/foo#bar`: see [`literal::brings_a_result`]).
fn restates(question: &str, answer: &str) -> bool {
    repeats_words(question, answer) && !literal::brings_a_result(question, answer)
}

/// Whether the answer has no word the question lacks (stop words aside), or nearly the
/// same words.
fn repeats_words(question: &str, answer: &str) -> bool {
    let (q, a) = (WordSet::of_words(question), WordSet::of_words(answer));
    if a.is_empty() {
        return true;
    }
    let mut new_words = false;
    for_each_word(answer, |word| {
        let id = word_id(word);
        new_words |= !is_stop_word(id) && !q.contains(id);
    });
    !new_words || q.jaccard(&a) >= NEAR_DUPLICATE
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const CHUNK: &str = "The Licensor grants a perpetual, worldwide, royalty-free copyright license. \
        The license covers reproduction and distribution of the Work.\n\n\
        Patent claims are licensed separately under Section 3.";
    const PROMPT_REST: &str = "Generate 3 pairs from the text below.\nExample: {\"question\": \"What is the main purpose of this policy?\", \"answer\": \"To protect information.\"}\nText:\n\"\"\"\n\n\"\"\"";

    fn char_slice(text: &str, (start, end): (usize, usize)) -> String {
        text.chars().skip(start).take(end - start).collect()
    }

    #[test]
    fn a_grounded_answer_scores_high_with_its_evidence() {
        let q = assess(
            "What license does the Licensor grant?",
            "A perpetual, worldwide, royalty-free copyright license.",
            CHUNK,
            PROMPT_REST,
        );
        assert!(q.grounding > 0.99, "{q:?}");
        assert_eq!(
            char_slice(CHUNK, q.evidence.unwrap()),
            "The Licensor grants a perpetual, worldwide, royalty-free copyright license."
        );
        assert!(!q.echo && !q.restates);
    }

    #[test]
    fn evidence_can_span_two_sentences_and_counts_characters() {
        let chunk = "Ünïcode first: the patent grant. Then the licence terms apply. Unrelated.";
        let q = assess(
            "What applies?",
            "The patent grant and the licence terms.",
            chunk,
            "",
        );
        assert_eq!(
            char_slice(chunk, q.evidence.unwrap()),
            "Ünïcode first: the patent grant. Then the licence terms apply."
        );
        assert!((q.grounding - 1.0).abs() < 1e-12, "{q:?}");
    }

    #[test]
    fn an_ungrounded_answer_scores_low() {
        let q = assess(
            "Who wrote the license?",
            "Richard Stallman drafted it in Boston during 1989.",
            CHUNK,
            PROMPT_REST,
        );
        assert!(q.grounding < 0.2, "{q:?}");
        assert_eq!(q.evidence, None);
    }

    #[test]
    fn the_prompts_own_example_is_an_echo() {
        let q = assess(
            "What is the main purpose of this policy?",
            "To protect information.",
            CHUNK,
            PROMPT_REST,
        );
        assert!(q.echo);
        // With a word changed, still an echo of that line.
        let near = assess(
            "What is the main purpose of the policy?",
            "To protect information.",
            CHUNK,
            PROMPT_REST,
        );
        assert!(near.echo);
        let genuine = assess(
            "What does the license cover?",
            "Reproduction and distribution of the Work.",
            CHUNK,
            PROMPT_REST,
        );
        assert!(!genuine.echo);
    }

    #[test]
    fn an_answer_that_restates_the_question_is_caught() {
        assert!(assess("What is the Work?", "The Work.", CHUNK, "").restates);
        assert!(
            assess(
                "Does the license cover distribution?",
                "The license does cover distribution.",
                CHUNK,
                ""
            )
            .restates
        );
        assert!(
            !assess(
                "What does the license cover?",
                "Reproduction and distribution.",
                CHUNK,
                ""
            )
            .restates
        );
        assert!(assess("What is it?", "", CHUNK, "").restates);
    }

    #[test]
    fn the_questions_own_words_and_the_pairs_form_are_recorded() {
        let on_topic = assess(
            "Which rights does the Licensor grant?",
            "A copyright license.",
            CHUNK,
            "",
        );
        assert!(on_topic.question_grounding.unwrap() > 0.6, "{on_topic:?}");
        assert!(!on_topic.placeholder && !on_topic.not_question && !on_topic.thin_answer);
        let off_topic = assess(
            "What is the capital of France?",
            "Paris is the capital of France.",
            CHUNK,
            "",
        );
        assert_eq!(off_topic.question_grounding, Some(0.0));
        assert!(assess("What is the [product_name]?", "A license.", CHUNK, "").placeholder);
        // Debris the chunk holds itself is quoted, not debris.
        let quoted = assess(
            "What does [Section 3] cover?",
            "Patent claims, see [section 3].",
            "Patent claims are licensed under [Section 3].",
            "",
        );
        assert!(!quoted.placeholder, "{quoted:?}");
        assert!(assess("The GNU General Public License.", "A license.", CHUNK, "").not_question);
        assert!(assess("Who grants the license?", "Licensor", CHUNK, "").thin_answer);
    }

    /// The gate's verdict at default settings on one pair.
    pub(in crate::quality) fn verdict(
        question: &str,
        answer: &str,
        chunk: &str,
    ) -> Option<crate::quality::DropReason> {
        let quality = assess(question, answer, chunk, PROMPT_REST);
        crate::quality::Gate::new(Default::default(), []).check(question, Some(&quality), None)
    }

    #[test]
    fn the_questions_words_find_the_chunks_by_stem() {
        let chunk = "or contributory patent infringement, then any patent licenses granted to \
            You under this License for that Work shall terminate as of the date such \
            litigation is filed.";
        let question = "What exactly terminates under this clause?";
        let answer = "Any patent licenses granted to You under this License for that Work.";
        let quality = assess(question, answer, chunk, "");
        assert!(
            quality.question_grounding.unwrap() >= crate::quality::MIN_QUESTION_GROUNDING,
            "{quality:?}"
        );
        assert_eq!(verdict(question, answer, chunk), None);
        let elsewhere = assess("What is the capital of France?", "Paris.", chunk, "");
        assert_eq!(elsewhere.question_grounding, Some(0.0));
    }

    #[test]
    fn a_quoted_answer_records_how_much_of_the_question_it_takes_up() {
        let assessor = Assessor::new(CHUNK, PROMPT_REST);
        let sentence = "Patent claims are licensed separately under Section 3.";
        let on_point = assessor.assess("How are patent claims licensed?", sentence);
        assert_eq!(on_point.quote_takes_up, Some(1.0));
        let elsewhere = assessor.assess("Who grants the royalty-free copyright?", sentence);
        assert_eq!(elsewhere.quote_takes_up, Some(0.0));
        // An answer in other words is not held to the question's words.
        let free = assessor.assess(
            "Who grants it?",
            "The Licensor grants it to everyone who asks.",
        );
        assert_eq!(free.quote_takes_up, None);
    }

    #[test]
    fn invented_counts_the_answer_words_the_chunk_does_not_hold() {
        let drawn = assess(
            "What license does the Licensor grant?",
            "A perpetual, worldwide, royalty-free copyright license.",
            CHUNK,
            "",
        );
        assert_eq!(drawn.invented, Some(0));
        // "holder", "authorized", "starts" and "litigation" come from elsewhere ("patent"
        // is the chunk's); a repeated word counts once.
        let made_up = assess(
            "Who may sue?",
            "The patent holder is authorized, and the holder starts litigation.",
            CHUNK,
            "",
        );
        assert_eq!(made_up.invented, Some(4), "{made_up:?}");
    }

    #[test]
    fn the_prompt_side_is_shared_while_the_prompt_stays_the_same() {
        let cache = PromptSideCache::default();
        let first = cache.get(PROMPT_REST);
        assert!(Arc::ptr_eq(&first, &cache.get(PROMPT_REST)));
        let other = cache.get("Another template.");
        assert!(!Arc::ptr_eq(&first, &other));
        let assessor = Assessor::with_prompt(CHUNK, cache.get(PROMPT_REST));
        assert!(
            assessor
                .assess(
                    "What is the main purpose of this policy?",
                    "To protect information."
                )
                .echo
        );
    }
}
