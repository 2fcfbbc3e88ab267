//! The original chunker's splitter, exactly: LangChain's `RecursiveCharacterTextSplitter`
//! as the chunk files of `../shared/corpus` were made with it (separators
//! `["\n\n", "\n", " ", ""]`, each separator kept at the start of the piece after it,
//! lengths in Unicode code points, Python's `str.strip()` on each chunk).
//!
//! No crate reproduces its merge of small pieces with overlap, so it is written here,
//! on byte ranges of the text rather than on copies: every chunk is a range of the
//! text, which gives its exact offsets for free.

use std::ops::Range;

/// The original's separators, tried in order.
pub const SEPARATORS: [&str; 4] = ["\n\n", "\n", " ", ""];

/// A splitter with the original's algorithm and the given sizes, in code points.
#[derive(Debug, Clone, Copy)]
pub struct RecursiveSplitter {
    pub chunk_size: usize,
    pub chunk_overlap: usize,
}

impl RecursiveSplitter {
    /// The byte ranges of `text`'s chunks, in order, as LangChain's `split_text` gives
    /// them (each already stripped; none empty).
    pub fn split(&self, text: &str) -> Vec<Range<usize>> {
        let mut chunks = Vec::new();
        self.split_range(text, 0..text.len(), &SEPARATORS, &mut chunks);
        chunks
    }

    /// `_split_text`: splits `range` at the first separator it holds, merges the
    /// pieces shorter than the chunk size, and splits the longer ones with the
    /// separators after it.
    fn split_range(
        &self,
        text: &str,
        range: Range<usize>,
        separators: &[&str],
        chunks: &mut Vec<Range<usize>>,
    ) {
        let segment = &text[range.clone()];
        let mut separator = separators.last().copied().unwrap_or("");
        let mut rest: &[&str] = &[];
        for (i, candidate) in separators.iter().enumerate() {
            if candidate.is_empty() {
                separator = candidate;
                break;
            }
            if memchr::memmem::find(segment.as_bytes(), candidate.as_bytes()).is_some() {
                separator = candidate;
                rest = &separators[i + 1..];
                break;
            }
        }
        let pieces = pieces_keeping_separator(segment, separator, range.start);
        let mut good: Vec<(Range<usize>, usize)> = Vec::new();
        for piece in pieces {
            let length = code_points(&text[piece.clone()]);
            if length < self.chunk_size {
                good.push((piece, length));
                continue;
            }
            if !good.is_empty() {
                self.merge(text, &good, chunks);
                good.clear();
            }
            if rest.is_empty() {
                push_stripped(text, piece, chunks);
            } else {
                self.split_range(text, piece, rest, chunks);
            }
        }
        if !good.is_empty() {
            self.merge(text, &good, chunks);
        }
    }

    /// `_merge_splits` with an empty separator (the separators are kept in the
    /// pieces): packs consecutive pieces up to the chunk size, then starts the next
    /// chunk with the last pieces that fit in the overlap.
    fn merge(&self, text: &str, pieces: &[(Range<usize>, usize)], chunks: &mut Vec<Range<usize>>) {
        // The pieces of the chunk being built: `first..end` of `pieces`.
        let mut first = 0;
        let mut total = 0;
        for (end, (_, length)) in pieces.iter().enumerate() {
            if total + length > self.chunk_size && first < end {
                push_stripped(text, pieces[first].0.start..pieces[end - 1].0.end, chunks);
                while total > self.chunk_overlap || (total + length > self.chunk_size && total > 0)
                {
                    total -= pieces[first].1;
                    first += 1;
                }
            }
            total += length;
        }
        if first < pieces.len() {
            push_stripped(
                text,
                pieces[first].0.start..pieces[pieces.len() - 1].0.end,
                chunks,
            );
        }
    }
}

/// `_split_text_with_regex` with `keep_separator="start"`: the text before the first
/// separator, then each separator with the text up to the next; empty pieces left out.
/// An empty separator splits into code points.
fn pieces_keeping_separator(segment: &str, separator: &str, offset: usize) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    if separator.is_empty() {
        for (start, c) in segment.char_indices() {
            pieces.push(offset + start..offset + start + c.len_utf8());
        }
        return pieces;
    }
    let mut start = 0;
    // Non-overlapping, leftmost first, as `str::match_indices` and Python's `re.split`.
    for at in memchr::memmem::find_iter(segment.as_bytes(), separator.as_bytes()) {
        if at > start {
            pieces.push(offset + start..offset + at);
        }
        start = at;
    }
    if segment.len() > start {
        pieces.push(offset + start..offset + segment.len());
    }
    pieces
}

/// Pushes `range` with Python's `str.strip()` applied, unless nothing is left.
fn push_stripped(text: &str, range: Range<usize>, chunks: &mut Vec<Range<usize>>) {
    let stripped = python_strip(text, range);
    if !stripped.is_empty() {
        chunks.push(stripped);
    }
}

/// The sub-range of `range` that Python's `str.strip()` keeps.
pub fn python_strip(text: &str, range: Range<usize>) -> Range<usize> {
    let segment = &text[range.clone()];
    let start = segment.len() - segment.trim_start_matches(is_python_space).len();
    let end = segment.trim_end_matches(is_python_space).len();
    if start >= end {
        return range.start..range.start;
    }
    range.start + start..range.start + end
}

/// Python's `str.isspace()`: Unicode White_Space, and the information separators
/// U+001C–U+001F that Python counts as whitespace and Rust does not.
pub fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `len(text.split())`: the number of runs of non-whitespace.
pub fn python_word_count(text: &str) -> usize {
    text.split(is_python_space)
        .filter(|word| !word.is_empty())
        .count()
}

/// The number of Unicode code points, Python's `len(text)`.
pub fn code_points(text: &str) -> usize {
    // Every byte that does not continue a UTF-8 sequence starts a code point.
    text.bytes().filter(|byte| (byte & 0xC0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, size: usize, overlap: usize) -> Vec<&str> {
        RecursiveSplitter {
            chunk_size: size,
            chunk_overlap: overlap,
        }
        .split(text)
        .into_iter()
        .map(|range| &text[range])
        .collect()
    }

    #[test]
    fn splits_as_langchain_does() {
        // Expected values printed by langchain-text-splitters 1.x for the same calls.
        assert_eq!(
            texts("one two three four five six", 10, 4),
            ["one two", "two three", "four five", "six"]
        );
        assert_eq!(
            texts("para one\n\npara two is longer\nwith lines", 12, 0),
            ["para one", "para two is", "longer", "with lines"]
        );
        assert_eq!(texts("abcdefghij", 4, 1), ["abcd", "defg", "ghij"]);
    }

    #[test]
    fn strips_and_counts_as_python() {
        assert_eq!(python_word_count(" a\u{1f}b  c\u{a0}d "), 4);
        assert_eq!(code_points("é€😀"), 3);
        let text = "\u{1c} x \u{2003}";
        assert_eq!(&text[python_strip(text, 0..text.len())], "x");
    }
}
