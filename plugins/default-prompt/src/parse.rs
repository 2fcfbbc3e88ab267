//! The parser role: recover question/answer pairs from what real models send.
//!
//! Models wrap JSON in `<think>` blocks, markdown fences and prose; they return an
//! object holding the list, or objects not wrapped in an array; they leave trailing
//! commas, raw newlines inside strings and a `}` where a `]` belongs; and they stop
//! mid-answer at the token limit. [`parse_pairs`] handles each of these:
//!
//! 1. thinking blocks and fence lines are removed;
//! 2. [`extract_json`] finds where the JSON starts, scans it string-aware, cleans what
//!    it can (control characters in strings, trailing commas, wrong closers) and, when
//!    the answer was cut off, keeps only the objects that were complete;
//! 3. the result is parsed strictly, and if that fails by the `llm_json` repair
//!    grammar (a port of Python's `json_repair`);
//! 4. [`pairs_from_value`] finds the pairs in whatever shape came back, with the
//!    type each is labelled with (`type` or `question_type`), which
//!    [`question_type::checked`] keeps only when it names a type asked for, its
//!    `reasoning` and its `follow_ups`.
//!
//! The task decides what of the rest is kept: with `qa`, only the pairs (as before
//! there were tasks); with `reasoning`, each pair's own reasoning field, or else the
//! `<think>` block the model (or the host, for a provider's separate trace) wrote
//! before the answer; with `conversation`, the follow-up exchanges.

use crate::DefaultPrompt;
use crate::question_type;
use serde_json::Value;
use tdg_plugin_sdk::{Example, ParseError, ParseRequest, Parser, Task, Turn};

impl Parser for DefaultPrompt {
    fn parse(response: String, request: ParseRequest) -> Result<Vec<Example>, ParseError> {
        let (pairs, thinking) = parse_answer(&response)?;
        let thinking = (!thinking.is_empty()).then(|| thinking.join("\n\n"));
        Ok(pairs
            .into_iter()
            .map(|pair| Example {
                question_type: question_type::checked(
                    pair.label.as_deref(),
                    &request.question_types,
                ),
                reasoning: match request.task {
                    Task::Reasoning => pair.reasoning.or_else(|| thinking.clone()),
                    Task::Qa | Task::Conversation => None,
                },
                follow_ups: match request.task {
                    Task::Conversation => pair.follow_ups,
                    Task::Qa | Task::Reasoning => Vec::new(),
                },
                question: pair.question,
                answer: pair.answer,
            })
            .collect())
    }
}

const EXPECTED_FORM: &str = r#"Respond with only a JSON array of objects like [{"question": "...", "answer": "...", "type": "factual"}]."#;

/// A pair as the answer holds it: trimmed, non-empty question and answer, the
/// type the model labelled it with, as written (see [`question_type::checked`]), its
/// reasoning field (trimmed, non-empty) and its follow-up exchanges (each trimmed,
/// up to the first one with an empty side).
#[derive(Debug, Clone)]
pub struct RawPair {
    pub question: String,
    pub answer: String,
    pub label: Option<String>,
    pub reasoning: Option<String>,
    pub follow_ups: Vec<Turn>,
}

/// Parses a model's answer into pairs with trimmed, non-empty questions and answers.
#[cfg(test)]
pub fn parse_pairs(response: &str) -> Result<Vec<RawPair>, ParseError> {
    parse_answer(response).map(|(pairs, _)| pairs)
}

/// Parses a model's answer into its pairs and the texts of its closed `<think>`
/// blocks (trimmed, non-empty), in order.
pub fn parse_answer(response: &str) -> Result<(Vec<RawPair>, Vec<String>), ParseError> {
    let (text, thinking) = strip_thinking(response);
    let text = strip_fence_lines(&text);
    let Some(json) = extract_json(&text) else {
        return Err(ParseError::NoJson(format!(
            "The response holds no JSON. {EXPECTED_FORM}"
        )));
    };
    let value = match serde_json::from_str::<Value>(&json) {
        Ok(value) => value,
        Err(_) => llm_json::loads(&json, &Default::default()).map_err(|error| {
            ParseError::NoJson(format!(
                "The response's JSON could not be read ({error}). {EXPECTED_FORM}"
            ))
        })?,
    };
    let mut raw_pairs = Vec::new();
    pairs_from_value(&value, &mut raw_pairs);
    if raw_pairs.is_empty() {
        return Err(ParseError::WrongShape(format!(
            "The response's JSON holds no objects with \"question\" and \"answer\" fields. {EXPECTED_FORM}"
        )));
    }
    let pairs: Vec<RawPair> = raw_pairs
        .into_iter()
        .map(|pair| RawPair {
            question: pair.question.trim().to_string(),
            answer: pair.answer.trim().to_string(),
            ..pair
        })
        .filter(|pair| !pair.question.is_empty() && !pair.answer.is_empty())
        .collect();
    if pairs.is_empty() {
        return Err(ParseError::NoPairs(format!(
            "Every question or answer in the response was empty. {EXPECTED_FORM}"
        )));
    }
    Ok((pairs, thinking))
}

/// Removes `<think>…</think>` (and `<thinking>…</thinking>`) blocks, and returns their
/// texts apart. An unclosed block means the model was cut off while thinking:
/// everything from it on is dropped.
fn strip_thinking(text: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut thinking = Vec::new();
    let mut rest = text;
    loop {
        let Some((open_at, tag)) = ["<think>", "<thinking>"]
            .iter()
            .filter_map(|tag| rest.find(tag).map(|at| (at, *tag)))
            .min_by_key(|(at, _)| *at)
        else {
            out.push_str(rest);
            return (out, thinking);
        };
        out.push_str(&rest[..open_at]);
        let close = if tag == "<think>" {
            "</think>"
        } else {
            "</thinking>"
        };
        match rest[open_at..].find(close) {
            Some(close_at) => {
                let inside = rest[open_at + tag.len()..open_at + close_at].trim();
                if !inside.is_empty() {
                    thinking.push(inside.to_string());
                }
                rest = &rest[open_at + close_at + close.len()..];
            }
            None => return (out, thinking),
        }
    }
}

/// Drops markdown fence lines (```` ```json ````, ```` ``` ````, `~~~`), keeping what
/// they enclose.
fn strip_fence_lines(text: &str) -> String {
    text.lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("```") || line.starts_with("~~~"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finds the start of the JSON: a `[` followed by `{`, or a `{` followed by `"`.
/// Brackets in prose ("see [1]") are passed over.
fn json_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&at| {
        let next = bytes[at + 1..].iter().find(|b| !b.is_ascii_whitespace());
        matches!((bytes[at], next), (b'[', Some(b'{')) | (b'{', Some(b'"')))
    })
}

/// The cleaned JSON text found in `text`, or `None` when there is none.
///
/// Objects that follow one another without an enclosing array are wrapped in one.
/// When the text ends inside the JSON (cut off at the token limit), the JSON is cut
/// after the last complete object and closed, so that only complete pairs remain.
fn extract_json(text: &str) -> Option<String> {
    let start = json_start(text)?;
    let mut scan = Scanner::default();
    let mut values: Vec<String> = Vec::new();
    let mut rest = &text[start..];
    loop {
        let consumed = scan.scan(rest);
        let truncated = !scan.stack.is_empty();
        let value = if truncated {
            scan.cut_and_close()
        } else {
            std::mem::take(&mut scan.out)
        };
        values.push(value);
        if truncated {
            break;
        }
        // More top-level objects may follow, separated by commas or blank space.
        rest = &rest[consumed..];
        let after = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if !after.starts_with('{') || !values[0].starts_with('{') {
            break;
        }
        rest = after;
        scan = Scanner::default();
    }
    Some(if values.len() == 1 {
        values.pop().unwrap_or_default()
    } else {
        format!("[{}]", values.join(","))
    })
}

/// The kinds of token the scanner remembers.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// An opening bracket, a comma or nothing yet: a key or value may follow.
    #[default]
    Start,
    /// A colon: a value follows.
    Colon,
    /// An object key.
    Key,
    /// A complete value: a comma or a closer should follow.
    Value,
}

/// A string-aware scanner over one JSON value that writes a cleaned copy.
#[derive(Default)]
struct Scanner {
    /// The cleaned text so far.
    out: String,
    /// The open brackets, innermost last.
    stack: Vec<char>,
    in_string: bool,
    /// Whether the string being read is an object key.
    string_is_key: bool,
    escaped: bool,
    /// What the last token outside strings was, to find missing commas.
    last: Token,
    /// Where `out` may be cut when the value is truncated: the length after the last
    /// complete object, with the stack as it was there.
    last_complete: Option<(usize, Vec<char>)>,
}

impl Scanner {
    /// Scans one value from the start of `text`; returns how many bytes it used.
    /// On return the stack is empty if the value was complete.
    fn scan(&mut self, text: &str) -> usize {
        for (at, c) in text.char_indices() {
            if self.in_string {
                self.scan_string_char(c);
                continue;
            }
            match c {
                '"' => {
                    self.insert_missing_comma();
                    self.string_is_key =
                        self.stack.last() == Some(&'{') && self.last == Token::Start;
                    self.in_string = true;
                    self.out.push(c);
                }
                '[' | '{' => {
                    self.insert_missing_comma();
                    self.stack.push(c);
                    self.out.push(c);
                    self.last = Token::Start;
                }
                ',' => {
                    self.out.push(c);
                    self.last = Token::Start;
                }
                ':' => {
                    self.out.push(c);
                    self.last = Token::Colon;
                }
                ']' | '}' => {
                    // Trailing commas before a closer are dropped.
                    let trimmed = self.out.trim_end().trim_end_matches(',').len();
                    self.out.truncate(trimmed);
                    // A `}` where a `]` belongs (or the reverse) closes what is open.
                    let Some(open) = self.stack.pop() else {
                        return at;
                    };
                    self.out.push(if open == '[' { ']' } else { '}' });
                    self.last = Token::Value;
                    if open == '{' {
                        self.last_complete = Some((self.out.len(), self.stack.clone()));
                    }
                    if self.stack.is_empty() {
                        return at + c.len_utf8();
                    }
                }
                _ => self.out.push(c),
            }
        }
        text.len()
    }

    /// Models forget the comma between two objects, or between two fields: a new
    /// value or key right after a complete value gets one.
    fn insert_missing_comma(&mut self) {
        if self.last == Token::Value && !self.stack.is_empty() {
            self.out.push(',');
            self.last = Token::Start;
        }
    }

    /// Copies one character inside a string, escaping raw control characters.
    fn scan_string_char(&mut self, c: char) {
        if self.escaped {
            self.escaped = false;
            self.out.push(c);
            return;
        }
        match c {
            '\\' => {
                self.escaped = true;
                self.out.push(c);
            }
            '"' => {
                self.in_string = false;
                self.last = if self.string_is_key {
                    Token::Key
                } else {
                    Token::Value
                };
                self.out.push(c);
            }
            '\n' => self.out.push_str("\\n"),
            '\r' => self.out.push_str("\\r"),
            '\t' => self.out.push_str("\\t"),
            c if (c as u32) < 0x20 => self.out.push_str(&format!("\\u{:04x}", c as u32)),
            c => self.out.push(c),
        }
    }

    /// Cuts a truncated value after its last complete object and closes what was
    /// open there. With no complete object, returns what was read, for the repair
    /// grammar to try.
    fn cut_and_close(&mut self) -> String {
        let Some((len, stack)) = self.last_complete.take() else {
            return std::mem::take(&mut self.out);
        };
        let mut out = self.out[..len].to_string();
        for open in stack.iter().rev() {
            out.push(if *open == '[' { ']' } else { '}' });
        }
        out
    }
}

/// The field names read as a question, as an answer, and as the question's type
/// (compared case-insensitively).
const QUESTION_KEYS: [&str; 4] = ["question", "q", "instruction", "prompt"];
const ANSWER_KEYS: [&str; 4] = ["answer", "a", "response", "output"];
const TYPE_KEYS: [&str; 2] = ["type", "question_type"];
const REASONING_KEYS: [&str; 5] = [
    "reasoning",
    "reasoning_content",
    "thinking",
    "rationale",
    "chain_of_thought",
];
const FOLLOW_UP_KEYS: [&str; 5] = [
    "follow_ups",
    "follow-ups",
    "followups",
    "follow_up",
    "turns",
];
/// A follow-up's sides may also be named as chat roles.
const USER_KEYS: [&str; 5] = ["question", "q", "user", "human", "prompt"];
const ASSISTANT_KEYS: [&str; 5] = ["answer", "a", "assistant", "gpt", "response"];

/// Collects every pair found in `value`: in an array of objects, in an object holding
/// such an array under any key, or in a single object.
fn pairs_from_value(value: &Value, pairs: &mut Vec<RawPair>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| pairs_from_value(item, pairs)),
        Value::Object(fields) => {
            let field = |names: &[&str]| {
                fields
                    .iter()
                    .find(|(key, _)| names.iter().any(|name| key.eq_ignore_ascii_case(name)))
                    .and_then(|(_, value)| text_of(value))
            };
            match (field(&QUESTION_KEYS), field(&ANSWER_KEYS)) {
                (Some(question), Some(answer)) => pairs.push(RawPair {
                    question,
                    answer,
                    label: field(&TYPE_KEYS),
                    reasoning: field(&REASONING_KEYS)
                        .map(|text| text.trim().to_string())
                        .filter(|text| !text.is_empty()),
                    follow_ups: fields
                        .iter()
                        .find(|(key, _)| {
                            FOLLOW_UP_KEYS
                                .iter()
                                .any(|name| key.eq_ignore_ascii_case(name))
                        })
                        .map(|(_, value)| follow_ups_of(value))
                        .unwrap_or_default(),
                }),
                _ => fields
                    .values()
                    .filter(|value| value.is_array() || value.is_object())
                    .for_each(|value| pairs_from_value(value, pairs)),
            }
        }
        _ => {}
    }
}

/// The exchanges of a follow-up list, each trimmed, up to the first one with an
/// empty or missing side (a conversation is never read past a gap).
fn follow_ups_of(value: &Value) -> Vec<Turn> {
    let Some(items) = value.as_array() else {
        return Vec::new();
    };
    let side = |fields: &serde_json::Map<String, Value>, names: &[&str]| {
        fields
            .iter()
            .find(|(key, _)| names.iter().any(|name| key.eq_ignore_ascii_case(name)))
            .and_then(|(_, value)| text_of(value))
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty())
    };
    items
        .iter()
        .map_while(|item| {
            let fields = item.as_object()?;
            Some(Turn {
                question: side(fields, &USER_KEYS)?,
                answer: side(fields, &ASSISTANT_KEYS)?,
            })
        })
        .collect()
}

/// A field's text: strings as they are, numbers and booleans written out.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
