//! The checks of a pair's own text, that need neither the chunk nor the prompt:
//! template debris ([`placeholders`]), a question that is not one
//! ([`is_question`]), and an answer too thin to teach anything ([`is_thin_answer`]).
//!
//! Each was measured on the labelled real pairs in `tests/fixtures/quality` before it
//! was adopted (see that directory's README); they are general rules about the form
//! of a training pair, not lists of the pairs seen there.

use super::words::{content_ids, for_each_word};

/// Words a question (or a request that works as one) starts with.
const QUESTION_OPENERS: &[&str] = &[
    "what",
    "who",
    "whom",
    "whose",
    "which",
    "why",
    "how",
    "when",
    "where",
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "can",
    "could",
    "should",
    "would",
    "will",
    "may",
    "must",
    "has",
    "have",
    "had",
    "shall",
    "in",
    "under",
    "according",
    "for",
    "if",
    "explain",
    "describe",
    "name",
    "list",
    "define",
    "summarize",
    "summarise",
    "compare",
    "give",
    "state",
    "identify",
];

/// Marks left by a template or a model that did not fill one in, lower-cased:
/// bracketed slots (`[product_name]`, `<answer>`, `{topic}`), ellipses and to-do
/// markers. The caller excuses those its chunk holds too (quoted code or docs).
pub fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for mark in ["...", "…"] {
        if text.contains(mark) {
            found.push(mark.to_string());
        }
    }
    for_each_word(text, |word| {
        if matches!(word, "todo" | "tbd" | "fixme" | "xxx" | "lorem") {
            found.push(word.to_string());
        }
    });
    for (open, close) in [('[', ']'), ('<', '>'), ('{', '}')] {
        found.extend(slots(text, open, close));
    }
    found
}

/// The short slot names in `text` between `open` and `close` (letters, digits, `_`,
/// `-`, spaces), brackets included and lower-cased: `[product_name]`, `<answer>`,
/// `{topic}`. Numbers alone (`[1]`) are references, not slots.
fn slots(text: &str, open: char, close: char) -> Vec<String> {
    text.split(open)
        .skip(1)
        .filter_map(|rest| {
            let (inside, _) = rest.split_once(close)?;
            let name = inside.trim();
            let slot = (1..=30).contains(&name.len())
                && name.chars().any(|c| c.is_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '));
            slot.then(|| format!("{open}{inside}{close}").to_lowercase())
        })
        .collect()
}

/// Whether `question` asks something: it ends with a question mark, or starts with
/// an interrogative word or a request ("Explain …", "Describe …").
pub fn is_question(question: &str) -> bool {
    let trimmed = question.trim();
    if trimmed.ends_with('?') {
        return true;
    }
    let mut first = None;
    for_each_word(trimmed, |word| {
        if first.is_none() && !word.chars().all(|c| c.is_ascii_digit()) {
            first = Some(word.to_string());
        }
    });
    first.is_some_and(|word| QUESTION_OPENERS.contains(&word.as_str()))
}

/// Whether `answer` is too thin to teach anything: fewer than two content words (a
/// bare "1", "Python" or "Yes"), or, for a question asking why or how, fewer than
/// four.
pub fn is_thin_answer(question: &str, answer: &str) -> bool {
    let content = content_ids(answer).len();
    if content < 2 {
        return true;
    }
    let mut explains = false;
    for_each_word(question, |word| {
        explains |= matches!(word, "why" | "how" | "explain")
    });
    explains && content < 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_debris_is_found() {
        assert_eq!(
            placeholders("What are the main features of the [product_name]?"),
            ["[product_name]"]
        );
        assert_eq!(placeholders("<Answer>"), ["<answer>"]);
        assert_eq!(
            placeholders("It lists [list1].[list2]"),
            ["[list1]", "[list2]"]
        );
        assert_eq!(placeholders("The license covers ..."), ["..."]);
        assert_eq!(placeholders("TODO: fill in"), ["todo"]);
        assert_eq!(placeholders("About {topic}"), ["{topic}"]);
        assert!(
            placeholders("Section [3] applies").is_empty(),
            "a reference"
        );
        assert!(placeholders("url.parse() returns an object").is_empty());
        assert!(placeholders("Redistribution under Section 4(a) is allowed.").is_empty());
    }

    #[test]
    fn a_statement_is_not_a_question() {
        assert!(is_question("What is Source form?"));
        assert!(is_question("Does the license allow changes"));
        assert!(is_question("Explain the patent grant."));
        assert!(is_question("1. Who is the Licensor?"));
        assert!(!is_question("The GNU General Public License (GPL)"));
        assert!(!is_question(
            "3. Protecting Users' Legal Rights From Anti-Circumvention Law."
        ));
        assert!(!is_question("the executable works includes anything"));
        assert!(!is_question(""));
    }

    #[test]
    fn one_word_answers_and_short_explanations_are_thin() {
        assert!(is_thin_answer(
            "How many times can you tell the truth?",
            "1"
        ));
        assert!(is_thin_answer(
            "What is the most difficult language?",
            "Python"
        ));
        assert!(is_thin_answer(
            "Why is the GPL copyleft?",
            "Freedom matters."
        ));
        assert!(!is_thin_answer(
            "Who is the Licensor?",
            "The copyright owner or an entity it authorises."
        ));
        assert!(!is_thin_answer(
            "Why may the GPL not be changed?",
            "Changing the license document itself is not allowed; only verbatim copies may be distributed."
        ));
    }
}
