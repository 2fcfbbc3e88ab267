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
//! These are kept in the checkpoint with every pair. [`QualityFilter`] then decides, in
//! chunk order, which pairs a Q&A file holds: dropping echoes, restatements, pairs
//! below `--min-grounding`, and exact or near duplicates (token-set Jaccard ≥ 0.9) of an
//! earlier question in the document (or the corpus). Because the figures are stored,
//! a threshold can change later without calling the model again.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The judge's overall score at which a pair passes.
pub const JUDGE_PASS: f64 = 8.0;

/// How similar two questions must be to count as duplicates (token-set Jaccard).
pub const NEAR_DUPLICATE: f64 = 0.9;

/// Words that carry no content.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be",
    "been", "being", "but", "by", "can", "could", "did", "do", "does", "each", "for", "from",
    "had", "has", "have", "how", "if", "in", "into", "is", "it", "its", "may", "might", "more",
    "most", "must", "no", "not", "of", "on", "one", "or", "other", "our", "shall", "should", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "to", "under", "was", "we", "were", "what", "when", "where", "which", "who",
    "whom", "why", "will", "with", "would", "you", "your",
];

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

/// Lower-case words of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The text reduced to its words, for comparisons.
pub fn normalize(text: &str) -> String {
    words(text).join(" ")
}

/// The distinct words of a text.
pub fn token_set(text: &str) -> BTreeSet<String> {
    words(text).into_iter().collect()
}

/// Token-set Jaccard similarity: shared words over all words.
pub fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let shared = a.intersection(b).count();
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// A word reduced for matching: plural and possessive endings removed.
fn stem(word: &str) -> &str {
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("es").filter(|w| w.len() > 3))
        .or_else(|| word.strip_suffix('s').filter(|w| w.len() > 3))
        .unwrap_or(word)
}

/// The content words of a text, reduced.
fn content_words(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        // Numbers count whatever their length: "Section 3" is not "Section 4".
        .filter(|w| {
            (w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_digit()))
                && !STOP_WORDS.contains(&w.as_str())
        })
        .map(|w| stem(&w).to_string())
        .collect()
}

/// The prompt's text without the chunk's: what an echo would copy.
pub fn prompt_without(messages: &[crate::provider::Message], chunk: &str) -> String {
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
    lines: Vec<BTreeSet<String>>,
}

impl PromptSide {
    pub fn new(prompt_rest: &str) -> Self {
        PromptSide {
            text: prompt_rest.to_string(),
            normalized: normalize(prompt_rest),
            lines: prompt_rest
                .lines()
                .map(|line| {
                    content_words(line)
                        .into_iter()
                        .collect::<BTreeSet<String>>()
                })
                .filter(|words| !words.is_empty())
                .collect(),
        }
    }
}

/// Keeps the last [`PromptSide`], to reuse while the prompt stays the same.
#[derive(Debug, Default)]
pub struct PromptSideCache(std::sync::Mutex<Option<std::sync::Arc<PromptSide>>>);

impl PromptSideCache {
    /// The prompt side of `prompt_rest`, from the cache when it is the same text.
    pub fn get(&self, prompt_rest: &str) -> std::sync::Arc<PromptSide> {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match last.as_ref() {
            Some(side) if side.text == prompt_rest => side.clone(),
            _ => {
                let side = std::sync::Arc::new(PromptSide::new(prompt_rest));
                *last = Some(side.clone());
                side
            }
        }
    }
}

/// What the gate needs of one chunk and its prompt, worked out once for all its pairs.
pub struct Assessor {
    chunk_words: BTreeSet<String>,
    /// Each sentence's span and content words.
    sentences: Vec<((usize, usize), BTreeSet<String>)>,
    prompt: std::sync::Arc<PromptSide>,
}

impl Assessor {
    pub fn new(chunk: &str, prompt_rest: &str) -> Self {
        Self::with_prompt(chunk, std::sync::Arc::new(PromptSide::new(prompt_rest)))
    }

    /// An assessor for `chunk` with an already worked-out prompt side.
    pub fn with_prompt(chunk: &str, prompt: std::sync::Arc<PromptSide>) -> Self {
        let set = |text: &str| -> BTreeSet<String> { content_words(text).into_iter().collect() };
        Assessor {
            chunk_words: set(chunk),
            sentences: sentence_spans(chunk)
                .into_iter()
                .map(|(start, end)| ((start, end), set(&char_slice(chunk, start, end))))
                .collect(),
            prompt,
        }
    }

    /// Assesses one pair.
    pub fn assess(&self, question: &str, answer: &str) -> PairQuality {
        let answer_words = content_words(answer);
        let grounding = if answer_words.is_empty() {
            0.0
        } else {
            answer_words
                .iter()
                .filter(|w| self.chunk_words.contains(*w))
                .count() as f64
                / answer_words.len() as f64
        };
        PairQuality {
            grounding,
            evidence: self.evidence(&answer_words),
            echo: self.is_echo(question),
            restates: restates(question, answer),
        }
    }

    /// The sentence, or two adjacent sentences, sharing the most of `answer_words`,
    /// as character offsets. A wider span must find strictly more to be preferred.
    fn evidence(&self, answer_words: &[String]) -> Option<(usize, usize)> {
        let wanted: BTreeSet<&str> = answer_words.iter().map(String::as_str).collect();
        let hits = |words: &[&BTreeSet<String>]| {
            wanted
                .iter()
                .filter(|w| words.iter().any(|set| set.contains(**w)))
                .count()
        };
        let mut best: Option<(usize, (usize, usize))> = None;
        for (i, ((start, end), words)) in self.sentences.iter().enumerate() {
            let mut spans = vec![((*start, *end), hits(&[words]))];
            if let Some(((_, next_end), next_words)) = self.sentences.get(i + 1) {
                spans.push(((*start, *next_end), hits(&[words, next_words])));
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
        let words: BTreeSet<String> = content_words(&question).into_iter().collect();
        words.len() >= 3
            && self.prompt.lines.iter().any(|line| {
                let found = words.iter().filter(|w| line.contains(*w)).count();
                found as f64 / words.len() as f64 >= NEAR_DUPLICATE
            })
    }
}

/// Sentence boundaries as character offsets: a sentence ends at `.`, `!` or `?`
/// followed by white space, or at a blank line.
fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let end_of_sentence = matches!(chars[i], '.' | '!' | '?')
            && chars.get(i + 1).is_none_or(|c| c.is_whitespace());
        let blank_line = chars[i] == '\n' && chars.get(i + 1) == Some(&'\n');
        if end_of_sentence || blank_line {
            push_trimmed(&chars, start, i + 1, &mut spans);
            start = i + 1;
        }
        i += 1;
    }
    push_trimmed(&chars, start, chars.len(), &mut spans);
    spans
}

fn push_trimmed(chars: &[char], mut start: usize, mut end: usize, spans: &mut Vec<(usize, usize)>) {
    while start < end && chars[start].is_whitespace() {
        start += 1;
    }
    while end > start && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    if end > start {
        spans.push((start, end));
    }
}

fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

/// A question's forms for duplicate checks, computed once.
struct Question {
    normalized: String,
    words: BTreeSet<String>,
    content: BTreeSet<String>,
}

impl Question {
    fn new(text: &str) -> Self {
        Question {
            normalized: normalize(text),
            words: token_set(text),
            content: content_words(text).into_iter().collect(),
        }
    }

    /// The same question but for case, punctuation, stop words, plural endings or
    /// word order: token-set Jaccard ≥ 0.9 on all words, or on content words (when
    /// there are at least two).
    fn near_duplicate_of(&self, other: &Question) -> bool {
        self.normalized == other.normalized
            || jaccard(&self.words, &other.words) >= NEAR_DUPLICATE
            || (self.content.len() >= 2 && jaccard(&self.content, &other.content) >= NEAR_DUPLICATE)
    }
}

/// Whether the answer only repeats the question.
fn restates(question: &str, answer: &str) -> bool {
    let (q, a) = (token_set(question), token_set(answer));
    if a.is_empty() {
        return true;
    }
    let new_words = a
        .iter()
        .filter(|w| !q.contains(*w) && !STOP_WORDS.contains(&w.as_str()))
        .count();
    new_words == 0 || jaccard(&q, &a) >= NEAR_DUPLICATE
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

/// Applies a [`QualityFilter`] to pairs in order, remembering the questions kept.
pub struct Gate<'a> {
    filter: &'a QualityFilter,
    kept: Vec<Question>,
    /// Kept questions by each of their words, and by each content word, to find
    /// duplicate candidates without comparing every pair of questions.
    by_word: std::collections::HashMap<String, Vec<usize>>,
    by_content: std::collections::HashMap<String, Vec<usize>>,
}

/// The kept questions that could be near duplicates of a question with `words`:
/// prefix filtering. Jaccard ≥ t means sharing at least ⌈t·|A|⌉ of A's words, so a
/// match holds one of A's |A| − ⌈t·|A|⌉ + 1 rarest words.
fn candidates(
    words: &BTreeSet<String>,
    index: &std::collections::HashMap<String, Vec<usize>>,
) -> Vec<usize> {
    let needed = (NEAR_DUPLICATE * words.len() as f64).ceil() as usize;
    let prefix = words.len() + 1 - needed.max(1);
    let mut postings: Vec<&Vec<usize>> = words.iter().filter_map(|word| index.get(word)).collect();
    postings.sort_by_key(|ids| ids.len());
    // Words that no kept question has are the rarest of all: they use up the prefix.
    let missing = words.len() - postings.len();
    postings
        .into_iter()
        .take(prefix.saturating_sub(missing))
        .flatten()
        .copied()
        .collect()
}

impl<'a> Gate<'a> {
    /// A gate that has seen the questions `earlier` (for corpus-wide duplicates).
    pub fn new(filter: &'a QualityFilter, earlier: impl IntoIterator<Item = String>) -> Self {
        let mut gate = Gate {
            filter,
            kept: Vec::new(),
            by_word: Default::default(),
            by_content: Default::default(),
        };
        for question in earlier {
            gate.remember(Question::new(&question));
        }
        gate
    }

    fn remember(&mut self, question: Question) {
        let index = self.kept.len();
        for word in &question.words {
            self.by_word.entry(word.clone()).or_default().push(index);
        }
        for word in &question.content {
            self.by_content.entry(word.clone()).or_default().push(index);
        }
        self.kept.push(question);
    }

    /// Whether a kept question is a near duplicate of `question`.
    fn is_duplicate(&self, question: &Question) -> bool {
        let mut ids = candidates(&question.words, &self.by_word);
        if question.content.len() >= 2 {
            ids.extend(candidates(&question.content, &self.by_content));
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .any(|id| question.near_duplicate_of(&self.kept[id]))
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
        if quality.grounding < self.filter.min_grounding {
            return Some(DropReason::Ungrounded);
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

    const CHUNK: &str = "The Licensor grants a perpetual, worldwide, royalty-free copyright license. \
        The license covers reproduction and distribution of the Work.\n\n\
        Patent claims are licensed separately under Section 3.";
    const PROMPT_REST: &str = "Generate 3 pairs from the text below.\nExample: {\"question\": \"What is the main purpose of this policy?\", \"answer\": \"To protect information.\"}\nText:\n\"\"\"\n\n\"\"\"";

    #[test]
    fn a_grounded_answer_scores_high_with_its_evidence() {
        let q = assess(
            "What license does the Licensor grant?",
            "A perpetual, worldwide, royalty-free copyright license.",
            CHUNK,
            PROMPT_REST,
        );
        assert!(q.grounding > 0.99, "{q:?}");
        let (start, end) = q.evidence.unwrap();
        assert_eq!(
            char_slice(CHUNK, start, end),
            "The Licensor grants a perpetual, worldwide, royalty-free copyright license."
        );
        assert!(!q.echo && !q.restates);
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
    }

    #[test]
    fn the_gate_drops_duplicates_and_paraphrases_in_order() {
        let filter = QualityFilter::default();
        let mut gate = Gate::new(&filter, []);
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
            restates: false,
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
        let mut gate = Gate::new(&filter, ["What does the license cover?".to_string()]);
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
        let mut gate = Gate::new(&filter, []);
        let mut kept: Vec<Question> = Vec::new();
        for text in &questions {
            let question = Question::new(text);
            let brute = kept.iter().any(|k| question.near_duplicate_of(k));
            let indexed = gate.check(text, Some(&good), None) == Some(DropReason::Duplicate);
            assert_eq!(indexed, brute, "{text}");
            if !brute {
                kept.push(question);
            }
        }
    }

    #[test]
    fn the_prompt_side_is_shared_while_the_prompt_stays_the_same() {
        let cache = PromptSideCache::default();
        let first = cache.get(PROMPT_REST);
        assert!(std::sync::Arc::ptr_eq(&first, &cache.get(PROMPT_REST)));
        let other = cache.get("Another template.");
        assert!(!std::sync::Arc::ptr_eq(&first, &other));
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

    #[test]
    fn sentences_split_on_stops_and_blank_lines() {
        let spans = sentence_spans("One two. Three?\n\nFour");
        let texts: Vec<String> = spans
            .iter()
            .map(|&(s, e)| char_slice("One two. Three?\n\nFour", s, e))
            .collect();
        assert_eq!(texts, ["One two.", "Three?", "Four"]);
    }
}
