//! The checks of a pair's own text, that need neither the chunk nor the prompt:
//! template debris ([`placeholders`]), a question that is not one
//! ([`is_question`]), an answer too thin to teach anything ([`is_thin_answer`]), an
//! answer cut off mid-sentence ([`is_unfinished`]), and an answer that loops on its
//! own words ([`repeated_share`]).
//!
//! Each was measured on the labelled real pairs in `tests/fixtures/quality` before it
//! was adopted (see that directory's README); they are general rules about the form
//! of a training pair, not lists of the pairs seen there.

use rustc_hash::FxHashMap;

use super::words::{
    WordId, content_ids, for_each_word, is_content_word, reduced_id, stem_id, word_id,
};

/// Words a request that works as a question starts with ("Explain the patent
/// grant."): the only questions accepted without a question mark.
const REQUEST_OPENERS: &[&str] = &[
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

/// Whether `question` asks something: it ends with a question mark, or it is a
/// request ("Explain …", "Describe …"). A statement that starts like a question
/// ("When we speak of free software, we are referring to freedom") or a question cut
/// off before its end ("How does the Licensor's") is not one: on the labelled set
/// every question worth keeping ends with its question mark.
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
    first.is_some_and(|word| REQUEST_OPENERS.contains(&word.as_str()))
}

/// Whether `answer` is too thin to teach anything: fewer than two content words (a
/// bare "1", "Python" or "Yes"), or, for a question asking for an explanation (why, how,
/// explain), fewer than four. "How many", "how much" and "how long" ask for a quantity,
/// not an explanation. (A literal the chunk holds answers a "what" question however
/// short it is: the assessor lets it through, see [`asks_for_literal`].)
pub fn is_thin_answer(question: &str, answer: &str) -> bool {
    let content = content_ids(answer).len();
    content < 2 || (asks(question).explanation && content < 4)
}

/// Whether `question` asks for something a literal can be: what or which (a value, a
/// name, a result), or how many, how much, how long; not why, nor how it works, nor a
/// request to explain.
pub fn asks_for_literal(question: &str) -> bool {
    let asks = asks(question);
    asks.literal && !asks.explanation
}

/// What a question asks for, by its asking words.
struct Asks {
    /// Why, how (not of a quantity), explain.
    explanation: bool,
    /// What, which, how many, how much, how long.
    literal: bool,
}

fn asks(question: &str) -> Asks {
    let mut asks = Asks {
        explanation: false,
        literal: false,
    };
    let mut after_how = false;
    for_each_word(question, |word| {
        if after_how {
            let quantity = matches!(word, "many" | "much" | "long");
            asks.literal |= quantity;
            asks.explanation |= !quantity;
        }
        after_how = word == "how";
        asks.explanation |= matches!(word, "why" | "explain");
        asks.literal |= matches!(word, "what" | "which");
    });
    asks.explanation |= after_how;
    asks
}

/// Content words that questions use about any text, so they say nothing of what a
/// question is about: "How to *use* Python to *make* a phone?" shares "use" and
/// "make" with a licence but is not about it.
const GENERIC_QUESTION_WORDS: &[&str] = &[
    "use",
    "used",
    "using",
    "make",
    "made",
    "making",
    "mean",
    "means",
    "meaning",
    "purpose",
    "significance",
    "main",
    "difference",
    "different",
    "example",
    "way",
    "ways",
    "type",
    "kind",
    "kinds",
    "thing",
    "things",
    "important",
    "importance",
    "role",
    "text",
    "passage",
    "following",
    "state",
    "states",
    "say",
    "says",
    "explain",
    "describe",
    "give",
    "get",
    "best",
    "good",
    "new",
    "many",
    "much",
    "like",
    "need",
    "want",
    "know",
];

/// Calls `each` with the words of `question` that say what it is about, lower-cased:
/// its content words without [`GENERIC_QUESTION_WORDS`].
pub fn for_each_topic_word(question: &str, mut each: impl FnMut(&str)) {
    static GENERIC: std::sync::LazyLock<Vec<WordId>> = std::sync::LazyLock::new(|| {
        let mut ids: Vec<WordId> = GENERIC_QUESTION_WORDS.iter().map(|w| word_id(w)).collect();
        ids.sort_unstable();
        ids
    });
    for_each_word(question, |word| {
        let id = word_id(word);
        if is_content_word(word, id) && GENERIC.binary_search(&reduced_id(word, id)).is_err() {
            each(word);
        }
    });
}

/// The [`stem_id`]s of the topic words of `question` (see [`for_each_topic_word`]), in
/// order and with repeats: what the question's grounding and the *unanswered* check
/// compare.
pub fn topic_stems(question: &str) -> Vec<WordId> {
    let mut ids = Vec::new();
    for_each_topic_word(question, |word| ids.push(stem_id(word)));
    ids
}

/// Words a finished sentence does not end on: articles, conjunctions, determiners and
/// the commonest prepositions. An answer whose last word is one of these, with no
/// closing punctuation after it, was cut off ("… allow software developers to").
/// Auxiliaries and modals are left out: an elliptical answer ends on them ("Yes, it
/// does", "what you want to do").
const DANGLING_ENDINGS: &[&str] = &[
    "a", "an", "the", "to", "of", "and", "or", "but", "nor", "some", "that", "which", "whose",
    "with", "for", "in", "on", "at", "by", "from", "as", "into", "onto", "their", "its", "this",
    "these", "those", "than", "because", "if", "whether", "such", "any", "every", "each", "your",
    "our", "my", "his", "her",
];

/// Whether `answer` stops mid-sentence: it ends on a comma, colon, opening bracket or
/// dash, or on a word no sentence ends on ([`DANGLING_ENDINGS`]) with no full stop
/// after it. Small models often close the string early ("The GPL assures that
/// software developers have some"); a fine-tune would learn to stop mid-thought.
pub fn is_unfinished(answer: &str) -> bool {
    let trimmed = answer.trim_end();
    let Some(last) = trimmed.chars().last() else {
        return false;
    };
    if matches!(last, ',' | ':' | ';' | '(' | '[' | '{' | '-' | '–' | '—') {
        return true;
    }
    if !last.is_alphanumeric() {
        return false;
    }
    let mut last_word = String::new();
    for_each_word(trimmed, |word| {
        last_word.clear();
        last_word.push_str(word);
    });
    DANGLING_ENDINGS.contains(&last_word.as_str())
}

/// The share of `answer`'s word triples that repeat an earlier triple of it more
/// often than `source` (the chunk) holds that triple: 0 for an answer of under eight
/// words. Quoting a chunk that repeats itself (legal text does) costs nothing; a
/// small model looping ("a new version of the Program, which is a new version of the
/// Program, and it is…") scores high. On the labelled set, looping answers score 0.26
/// to 0.95 and every answer labelled keep 0.12 or less.
pub fn repeated_share(answer: &str, source: &Triples) -> f64 {
    let words = word_ids(answer);
    if words.len() < 8 {
        return 0.0;
    }
    let mut in_answer = Triples::default();
    let mut repeated = 0;
    let triples = words.windows(3);
    let total = triples.len();
    for triple in triples {
        let key = [triple[0], triple[1], triple[2]];
        let seen = in_answer.entry(key).or_default();
        *seen += 1;
        if *seen > 1 && *seen > source.get(&key).copied().unwrap_or(0) {
            repeated += 1;
        }
    }
    repeated as f64 / total as f64
}

/// How often each word triple occurs in a text.
pub type Triples = FxHashMap<[WordId; 3], u32>;

/// The word triples of `text` (the chunk's, worked out once per chunk).
pub fn triples_of(text: &str) -> Triples {
    let mut triples = Triples::default();
    for triple in word_ids(text).windows(3) {
        *triples
            .entry([triple[0], triple[1], triple[2]])
            .or_default() += 1;
    }
    triples
}

fn word_ids(text: &str) -> Vec<WordId> {
    let mut ids = Vec::new();
    for_each_word(text, |word| ids.push(word_id(word)));
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looping_answer_repeats_its_triples_and_a_plain_one_does_not() {
        let chunk = "You may convey a new version of the Program under section 5.";
        let looping = "The answer is to create a new version of the Program, which is a new version of the Program, and it is a new version of the Program";
        let share = repeated_share(looping, &triples_of(chunk));
        assert!(share > 0.25, "{share}");
        let plain = "The copyright owner or entity authorized by the copyright owner that is granting the License.";
        assert!(repeated_share(plain, &triples_of(chunk)) < 0.15);
        assert_eq!(
            repeated_share("Yes, yes, yes.", &triples_of(chunk)),
            0.0,
            "too short to tell"
        );
        // Quoting a chunk that repeats itself is not a loop.
        let repetitive_chunk = "the Licensor shall not be liable; the Licensor shall not be liable for any damages; the Licensor shall not be liable for any claim";
        assert_eq!(
            repeated_share(repetitive_chunk, &triples_of(repetitive_chunk)),
            0.0
        );
    }

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
        assert!(
            !is_question("Does the license allow changes"),
            "no question mark"
        );
        assert!(is_question("Explain the patent grant."));
        assert!(is_question("1. Who is the Licensor?"));
        assert!(!is_question("The GNU General Public License (GPL)"));
        assert!(!is_question(
            "3. Protecting Users' Legal Rights From Anti-Circumvention Law."
        ));
        assert!(!is_question("the executable works includes anything"));
        assert!(!is_question(
            "When we speak of free software, we are referring to freedom, not price."
        ));
        assert!(!is_question("How does the Licensor's"));
        assert!(!is_question(""));
    }

    #[test]
    fn an_answer_cut_off_mid_sentence_is_unfinished() {
        assert!(is_unfinished(
            "The purpose of the license is to allow software developers to"
        ));
        assert!(is_unfinished(
            "The GPL assures that software developers have some"
        ));
        assert!(is_unfinished(
            "The standard interface is the Java 2.0 specification,"
        ));
        assert!(is_unfinished("It covers the following:"));
        assert!(!is_unfinished("Everyone may copy it."));
        assert!(!is_unfinished("Derivative Works of the Work"));
        assert!(!is_unfinished("The Licensor (the copyright owner)"));
        assert!(
            !is_unfinished("Only the one it was licensed to."),
            "a full stop ends it"
        );
        assert!(!is_unfinished(""));
        assert!(!is_unfinished("Yes, it does"), "an elliptical answer");
        assert!(!is_unfinished("It depends on what you want to do"));
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

    #[test]
    fn a_quantity_is_not_an_explanation() {
        assert!(!is_thin_answer(
            "How long do you have to cure a first violation?",
            "30 days."
        ));
        assert!(!is_thin_answer(
            "For how many years must the offer stay valid?",
            "Three years."
        ));
        assert!(is_thin_answer("How does it end?", "After 30 days."));
        assert!(asks_for_literal("In the example URL, what is the port?"));
        assert!(asks_for_literal("Which algorithm converts host names?"));
        assert!(asks_for_literal("How many days may pass?"));
        assert!(!asks_for_literal("Who grants the license?"));
        assert!(!asks_for_literal("Why is that port 8080?"));
        assert!(!asks_for_literal("How is the port chosen?"));
        assert!(!asks_for_literal("What does it do, and how?"));
    }
}
