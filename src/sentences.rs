//! Where a text's sentences begin and end. Ground-floor text handling: the quality
//! gate finds a pair's evidence among a chunk's sentences, and the quoted-answer
//! grammar of the embedded engine offers them as answers, so neither imports the
//! other for it.

/// The sentences of `text` (see [`sentence_spans`] for where one ends), trimmed.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    sentence_spans(text)
        .into_iter()
        .map(move |span| &text[span.bytes.0..span.bytes.1])
}

/// Where a sentence stands in its text, in characters and in bytes.
pub(crate) struct SentenceSpan {
    pub(crate) chars: (usize, usize),
    pub(crate) bytes: (usize, usize),
}

/// Sentence boundaries: a sentence ends at `.`, `!` or `?` followed by white space, or
/// at a blank line. Leading and trailing white space is left out.
pub(crate) fn sentence_spans(text: &str) -> Vec<SentenceSpan> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |(byte, _)| *byte);
    let mut spans = Vec::new();
    let mut push_trimmed = |mut start: usize, mut end: usize| {
        while start < end && chars[start].1.is_whitespace() {
            start += 1;
        }
        while end > start && chars[end - 1].1.is_whitespace() {
            end -= 1;
        }
        if end > start {
            spans.push(SentenceSpan {
                chars: (start, end),
                bytes: (byte_at(start), byte_at(end)),
            });
        }
    };
    let mut start = 0;
    for i in 0..chars.len() {
        let c = chars[i].1;
        let next = chars.get(i + 1).map(|(_, c)| *c);
        let end_of_sentence = matches!(c, '.' | '!' | '?') && next.is_none_or(char::is_whitespace);
        let blank_line = c == '\n' && next == Some('\n');
        if end_of_sentence || blank_line {
            push_trimmed(start, i + 1);
            start = i + 1;
        }
    }
    push_trimmed(start, chars.len());
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn char_slice(text: &str, (start, end): (usize, usize)) -> String {
        text.chars().skip(start).take(end - start).collect()
    }

    #[test]
    fn sentences_split_on_stops_and_blank_lines() {
        let text = "  Ünë two. Three?\n\nFour ";
        let spans = sentence_spans(text);
        let by_chars: Vec<String> = spans.iter().map(|s| char_slice(text, s.chars)).collect();
        let by_bytes: Vec<&str> = spans.iter().map(|s| &text[s.bytes.0..s.bytes.1]).collect();
        assert_eq!(by_chars, ["Ünë two.", "Three?", "Four"]);
        assert_eq!(by_bytes, by_chars);
    }
}
