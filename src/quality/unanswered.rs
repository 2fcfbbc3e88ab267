//! Quoted answers: whether an answer is a quotation of its chunk, as `--quote-answers`
//! decodes them, and whether a quotation takes up the question put to it. A quotation
//! is true of its chunk by construction; what can go wrong is that it answers some
//! other question, and the gate's *unanswered* check looks for that.

use super::checks::topic_stems;
use super::words::{for_each_word, normalize, stem_id};

/// The fewest words an answer quoting the chunk has: a shorter one ("The URL class.")
/// is an answer in its own right, which need not repeat the question's words.
const QUOTED_MIN_WORDS: usize = 5;

/// Where quotations of one chunk may begin: its text from each start of a sentence or
/// `;` clause to the sentence's end, as [`normalize`] makes it, followed by a space.
pub struct Quotations(Vec<String>);

impl Quotations {
    /// The quotation starts of a chunk of these `sentences`.
    pub fn of<'a>(sentences: impl Iterator<Item = &'a str>) -> Self {
        Quotations(
            sentences
                .flat_map(|sentence| {
                    sentence
                        .match_indices(';')
                        .map(|(at, _)| at + 1)
                        .chain([0])
                        .map(move |at| format!("{} ", normalize(&sentence[at..])))
                })
                .collect(),
        )
    }

    /// Whether `answer` quotes the chunk: at least [`QUOTED_MIN_WORDS`] words, word for
    /// word (punctuation, white space and case aside), from where one of its sentences
    /// or `;` clauses starts.
    pub fn quotes(&self, answer: &str) -> bool {
        let answer = normalize(answer);
        answer.split(' ').count() >= QUOTED_MIN_WORDS
            && self
                .0
                .iter()
                .any(|start| start.starts_with(&answer) && start[answer.len()..].starts_with(' '))
    }
}

/// The share of the question's distinct topic words (see [`topic_stems`]) that `answer`
/// holds, comparing words by their [`match_stem`](super::words::match_stem)
/// ("modifying" takes up "modified"); 0 when the question has none.
pub fn takes_up(question: &str, answer: &str) -> f64 {
    let mut answer_stems = Vec::new();
    for_each_word(answer, |word| answer_stems.push(stem_id(word)));
    let mut question_stems = topic_stems(question);
    question_stems.sort_unstable();
    question_stems.dedup();
    let found = question_stems
        .iter()
        .filter(|stem| answer_stems.contains(stem))
        .count();
    if question_stems.is_empty() {
        0.0
    } else {
        found as f64 / question_stems.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: &str = "The Licensor grants a perpetual, worldwide, royalty-free copyright license. \
        The license covers reproduction and distribution of the Work; it lasts for \
        the term of copyright.";

    #[test]
    fn a_quotation_starts_where_a_sentence_or_clause_does() {
        let quotations = Quotations::of(crate::sentences::sentences(CHUNK));
        assert!(quotations.quotes("The license covers reproduction and distribution."));
        assert!(quotations.quotes("it lasts for the term of copyright."));
        // Case, white space and punctuation aside.
        assert!(quotations.quotes("the LICENSOR grants a perpetual  worldwide"));
        // Too short, from mid-sentence, or not the chunk's words.
        assert!(!quotations.quotes("The Licensor grants."));
        assert!(!quotations.quotes("reproduction and distribution of the Work"));
        assert!(!quotations.quotes("The Licensor grants a perpetual worldwide patent license."));
    }

    #[test]
    fn taking_up_counts_the_questions_distinct_topic_words_in_the_answer() {
        let sentence = "Patent claims are licensed separately under Section 3.";
        assert_eq!(takes_up("How are patent claims licensed?", sentence), 1.0);
        assert_eq!(
            takes_up("Who grants the royalty-free copyright?", sentence),
            0.0
        );
        // "modifying" takes up "modified": words compare by their first five letters.
        assert_eq!(
            takes_up("Is modifying allowed?", "Modified copies are allowed."),
            1.0
        );
        // Each topic word counts once, however often the question repeats it.
        let repeats = "Is a legal entity a legal term for a legal control?";
        assert_eq!(
            takes_up(repeats, "A Legal Entity exercises permissions."),
            0.5
        );
        // A question with no topic word of its own takes up nothing.
        assert_eq!(takes_up("What does it mean?", sentence), 0.0);
    }
}
