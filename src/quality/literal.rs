//! Literal answers: a number, a quoted value, a piece of code or a name, as strong
//! models answer "what" questions ("In the example URL, what is the port?" → "8080.";
//! "What does `new URL('/foo', 'https://example.org/')` produce?" →
//! "'https://example.org/foo'.").
//!
//! Such an answer is short by nature, and a code result is made of characters the
//! question's code holds, so the checks that count words would drop it: the thin-answer
//! check (one content word) and the restatement check (no word the question lacks).
//! This module says when they should not: a literal the chunk holds answers a "what"
//! question ([`held_by_chunk`]), and a result that is not one of the question's own
//! pieces of code or values is not a restatement ([`brings_a_result`]).

/// Characters that make a word code: paths, URLs, calls, fields, operators.
const CODE_CHARACTERS: &[char] = &[
    '.', '/', ':', '#', '?', '=', '&', '_', '(', ')', '[', ']', '{', '}', '<', '>', '@', '%', '$',
    '~', '+', '*', '\\', '|', '\'', '"', '`',
];

/// Sentence punctuation trimmed from the end of a word ("8080." is "8080").
const TRAILING_PUNCTUATION: &[char] = &['.', ',', ';', '!', '?'];

/// One piece of an answer or question: the inside of a quoted or backticked span, or a
/// word between white space without its sentence punctuation and brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece<'a> {
    text: &'a str,
    quoted: bool,
}

impl Piece<'_> {
    /// A number ("8080", "50%", "1234.5678"): digits, with at most separators and signs.
    fn is_number(&self) -> bool {
        self.text.chars().any(|c| c.is_ascii_digit())
            && self
                .text
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ':' | '%' | '+' | '-'))
    }

    /// Code: a word holding [`CODE_CHARACTERS`] or mixing letters and digits
    /// ("myURL.hash", "https://example.org/foo", "v10").
    fn is_code(&self) -> bool {
        !self.text.contains(char::is_whitespace)
            && (self.text.contains(CODE_CHARACTERS)
                || (self.text.chars().any(|c| c.is_ascii_digit())
                    && self.text.chars().any(char::is_alphabetic)))
    }

    /// A result a question can ask for: a quoted value, a number or code. (A name is
    /// not: "Punycode" for "What is Punycode?" only repeats the question.)
    fn is_result(&self) -> bool {
        self.text.chars().any(char::is_alphanumeric)
            && (self.quoted || self.is_number() || self.is_code())
    }

    /// A name: a single word with a capital letter ("Punycode", "TypeError").
    fn is_name(&self) -> bool {
        !self.text.contains(char::is_whitespace)
            && self.text.chars().next().is_some_and(char::is_uppercase)
    }
}

/// The closing mark of a quotation opened by `open`, if it opens one.
fn closing(open: char) -> Option<char> {
    match open {
        '`' | '\'' | '"' => Some(open),
        '‘' => Some('’'),
        '“' => Some('”'),
        _ => None,
    }
}

/// `text`'s pieces, in order: quoted or backticked spans (which may hold spaces), and
/// the words between them. A span closes at its mark followed by the end, white space
/// or punctuation, so an apostrophe inside a word opens nothing.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while let Some(first) = rest.chars().next() {
        if let Some(close) = closing(first) {
            let inside = &rest[first.len_utf8()..];
            let end = inside.match_indices(close).map(|(at, _)| at).find(|&at| {
                inside[at + close.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(|c| {
                        c.is_whitespace()
                            || TRAILING_PUNCTUATION.contains(&c)
                            || c == ')'
                            || c == ':'
                    })
            });
            if let Some(end) = end.filter(|&end| end > 0) {
                out.push(Piece {
                    text: &inside[..end],
                    quoted: true,
                });
                rest = inside[end + close.len_utf8()..].trim_start_matches(|c: char| {
                    c.is_whitespace() || TRAILING_PUNCTUATION.contains(&c) || c == ')'
                });
                continue;
            }
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if let Some(piece) = word_piece(&rest[..end]) {
            out.push(piece);
        }
        rest = rest[end..].trim_start();
    }
    out
}

/// A word as a piece: without its sentence punctuation and enclosing brackets, and
/// without its quotation marks when it is quoted whole.
fn word_piece(word: &str) -> Option<Piece<'_>> {
    let mut text = word.trim_end_matches(TRAILING_PUNCTUATION);
    if text.starts_with('(') || text.ends_with(')') {
        text = text.trim_start_matches('(').trim_end_matches(')');
        text = text.trim_end_matches(TRAILING_PUNCTUATION);
    }
    for (open, close) in [('`', '`'), ('\'', '\''), ('"', '"'), ('‘', '’'), ('“', '”')] {
        if let Some(inside) = text
            .strip_prefix(open)
            .and_then(|t| t.strip_suffix(close))
            .filter(|inside| !inside.is_empty())
        {
            return Some(Piece {
                text: inside,
                quoted: true,
            });
        }
    }
    (!text.is_empty()).then_some(Piece {
        text,
        quoted: false,
    })
}

/// Whether the piece is only filler around a literal ("A", "the", "or more"): a bare
/// word without content.
fn is_filler(piece: &Piece) -> bool {
    !piece.quoted && super::words::content_ids(piece.text).is_empty()
}

/// Whether `chunk` holds `text` as it is written (case included), not as part of a
/// longer word; a `name` must also stand somewhere other than at the start of a
/// sentence (after a letter, digit, comma or semicolon), where any word is capitalised.
fn chunk_holds(chunk: &str, text: &str, name: bool) -> bool {
    let word_char = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    chunk.match_indices(text).any(|(at, _)| {
        let before = chunk[..at].chars().next_back();
        let after = chunk[at + text.len()..].chars().next();
        let starts_word = text.chars().next().is_some_and(char::is_alphanumeric);
        let ends_word = text.chars().next_back().is_some_and(char::is_alphanumeric);
        if (starts_word && word_char(before)) || (ends_word && word_char(after)) {
            return false;
        }
        !name || {
            let preceding = chunk[..at]
                .trim_end_matches(|c: char| c.is_whitespace() || "[(\"'`‘“".contains(c))
                .chars()
                .next_back();
            preceding.is_some_and(|c| c.is_alphanumeric() || c == ',' || c == ';')
        }
    })
}

/// Whether `answer` is a literal the chunk holds, with at most filler words around it:
/// a number, a quoted value or code the chunk holds as written ("8080.", "'#bar'.",
/// "A `TypeError`.", "50% or more."), or a name it uses mid-sentence ("Punycode.").
/// Such an answer is all a "what" question needs.
pub fn held_by_chunk(answer: &str, chunk: &str) -> bool {
    let mut literals = 0;
    for piece in pieces(answer) {
        if is_filler(&piece) {
            continue;
        }
        let literal = piece.is_result() || piece.is_name();
        let name = !piece.is_result();
        if !literal || !chunk_holds(chunk, piece.text, name) {
            return false;
        }
        literals += 1;
    }
    literals > 0
}

/// Whether `answer` holds a result the question does not: a quoted value, number or
/// code that is not one of the question's own backticked spans, quoted values or words
/// (compared whole, case aside), nor, for one of several words, a phrase of it. The
/// answer to "What does `myURL.hash` return for `new URL('https://example.org/foo#bar')`?"
/// is "'#bar'.": its characters stand in the question's code, but the question does not
/// hold it as a value of its own, so it is no restatement.
pub fn brings_a_result(question: &str, answer: &str) -> bool {
    let held = pieces(question);
    let phrase = format!(" {} ", super::words::normalize(question));
    pieces(answer).iter().any(|piece| {
        piece.is_result()
            && !held
                .iter()
                .any(|own| own.text.eq_ignore_ascii_case(piece.text))
            && !(piece.text.contains(char::is_whitespace)
                && phrase.contains(&format!(" {} ", super::words::normalize(piece.text))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::assess::tests::verdict;

    const PROMPT_REST: &str = "";

    fn texts(text: &str) -> Vec<(&str, bool)> {
        pieces(text)
            .into_iter()
            .map(|p| (p.text, p.quoted))
            .collect()
    }

    #[test]
    fn a_text_splits_into_quoted_spans_and_words() {
        assert_eq!(texts("8080."), [("8080", false)]);
        assert_eq!(
            texts("'https://example.org/foo'."),
            [("https://example.org/foo", true)]
        );
        assert_eq!(texts("A `TypeError`."), [("A", false), ("TypeError", true)]);
        assert_eq!(
            texts("`[ 'first,second' ]`, because"),
            [("[ 'first,second' ]", true), ("because", false)]
        );
        assert_eq!(
            texts("\"Not a Contribution.\""),
            [("Not a Contribution.", true)]
        );
        assert_eq!(
            texts("users' rights (50%)"),
            [("users'", false), ("rights", false), ("50%", false)]
        );
        assert_eq!(
            texts("What does `new URL('/foo', 'https://example.org/')` produce?"),
            [
                ("What", false),
                ("does", false),
                ("new URL('/foo', 'https://example.org/')", true),
                ("produce", false)
            ]
        );
    }

    #[test]
    fn a_literal_the_chunk_holds_is_found_as_written() {
        let chunk = "Above the URL `'https://user:pass@sub.example.com:8080/p/a/t/h'`, \
            characters are converted using the [Punycode][] algorithm. A `TypeError` \
            is thrown. Control means fifty percent (50%) or more. Freedom matters.";
        for answer in [
            "8080.",
            "`/p/a/t/h`.",
            "A `TypeError`.",
            "Punycode.",
            "50% or more.",
            "'sub.example.com'",
        ] {
            assert!(held_by_chunk(answer, chunk), "{answer}");
        }
        for answer in [
            "808.",
            "Paris.",
            "Freedom.",
            "freedom matters",
            "the algorithm",
            "`typeerror`",
            "",
            "[{",
        ] {
            assert!(!held_by_chunk(answer, chunk), "{answer}");
        }
    }

    #[test]
    fn a_result_the_question_does_not_hold_is_brought_by_the_answer() {
        let question = "What does `new URL('/foo', 'https://example.org/')` produce?";
        assert!(brings_a_result(question, "'https://example.org/foo'."));
        assert!(!brings_a_result(
            question,
            "`new URL('/foo', 'https://example.org/')`."
        ));
        let hash = "What does `myURL.hash` return for `new URL('https://example.org/foo#bar')`?";
        assert!(brings_a_result(hash, "'#bar'."));
        assert!(!brings_a_result(hash, "`myURL.hash`."));
        assert!(brings_a_result(
            "What port does `myURL.port = 4.567e21` set?",
            "4."
        ));
        assert!(!brings_a_result("What is Section 3 about?", "3."));
        assert!(!brings_a_result("What is 'Object' form?", "'object'."));
        assert!(!brings_a_result("What is the Work?", "The Work."));
        assert!(!brings_a_result("What is Punycode?", "Punycode."));
        assert!(brings_a_result(
            "What marking keeps a communication from being a Contribution?",
            "\"Not a Contribution.\""
        ));
        assert!(!brings_a_result(
            "Is it marked not a contribution?",
            "\"Not a contribution\""
        ));
    }

    // Through the assessor: the thin-answer, grounding and restatement checks.

    /// From the diagram of node-url-api's chunk 0_2.
    const DIAGRAM: &str = "│ protocol │  │        auth         │          host          │           path            │ hash  │\n\
        │          │  │                     │    hostname     │ port │ pathname │     search     │       │\n\
        \"  https:   //    user   :   pass   @ sub.example.com : 8080   /p/a/t/h  ?  query=string   #hash \"";

    #[test]
    fn a_literal_the_chunk_holds_answers_a_what_question() {
        let question = "In the example URL shown in the diagram, what is the port?";
        let port = crate::quality::assess(question, "8080.", DIAGRAM, PROMPT_REST);
        assert!(!port.thin_answer, "{port:?}");
        assert_eq!(verdict(question, "8080.", DIAGRAM), None);
        // A literal with no content word is grounded whole when the chunk holds it.
        let path = "Which part of the example URL does the diagram label `pathname`?";
        let quality = crate::quality::assess(path, "`/p/a/t/h`.", DIAGRAM, PROMPT_REST);
        assert_eq!(quality.grounding, 1.0);
        assert_eq!(verdict(path, "`/p/a/t/h`.", DIAGRAM), None);
        // Not the chunk's literal, not a "what" question, not a literal: thin still.
        assert!(crate::quality::assess(question, "8081.", DIAGRAM, "").thin_answer);
        assert!(crate::quality::assess("Why is the port there?", "8080.", DIAGRAM, "").thin_answer);
        assert!(
            crate::quality::assess("What is the port for?", "Hosting.", DIAGRAM, "").thin_answer
        );
        assert_eq!(
            crate::quality::assess(path, "`/p/a/t/hx`.", DIAGRAM, "").grounding,
            0.0,
            "not the chunk's"
        );
    }

    #[test]
    fn a_code_result_is_no_restatement_of_the_questions_code() {
        let chunk = "const myURL = new URL('/foo', 'https://example.org/');\n// https://example.org/foo\n\
            const myURL = new URL('https://example.org/foo#bar');\nconsole.log(myURL.hash);\n// Prints #bar";
        let resolve = "What does `new URL('/foo', 'https://example.org/')` produce?";
        let hash = "What does `myURL.hash` return for `new URL('https://example.org/foo#bar')`?";
        for (question, answer) in [(resolve, "'https://example.org/foo'."), (hash, "'#bar'.")] {
            assert!(
                !crate::quality::assess(question, answer, chunk, "").restates,
                "{answer}"
            );
            assert_eq!(verdict(question, answer, chunk), None, "{answer}");
        }
        // The question's own code, or its words, given back.
        assert!(crate::quality::assess(hash, "`myURL.hash`.", chunk, "").restates);
        assert!(crate::quality::assess(resolve, "A new URL.", chunk, "").restates);
    }
}
