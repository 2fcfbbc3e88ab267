//! The original chunker's splitter, exactly: LangChain's `RecursiveCharacterTextSplitter`
//! as the chunk files of `../shared/corpus` were made with it (separators
//! `["\n\n", "\n", " ", ""]`, each separator kept at the start of the piece after it,
//! lengths in Unicode code points, Python's `str.strip()` on each chunk).
//!
//! No crate reproduces its merge of small pieces with overlap, so it is written here,
//! on byte ranges of the text rather than on copies: every chunk is a range of the
//! text, which gives its exact offsets for free.

use std::ops::Range;
use std::sync::LazyLock;

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
        let mut chunks = Vec::with_capacity(text.len() / self.chunk_size.max(1) + 1);
        let mut pieces = Vec::new();
        self.split_range(text, 0..text.len(), &SEPARATORS, &mut pieces, &mut chunks);
        chunks
    }

    /// `_split_text`: splits `range` at the first separator it holds, merges the
    /// pieces shorter than the chunk size, and splits the longer ones with the
    /// separators after it. `short` holds the short pieces waiting to be merged (empty
    /// between calls: one buffer serves every level of the recursion).
    fn split_range(
        &self,
        text: &str,
        range: Range<usize>,
        separators: &[&str],
        short: &mut Vec<(Range<usize>, usize)>,
        chunks: &mut Vec<Range<usize>>,
    ) {
        let segment = &text.as_bytes()[range.clone()];
        let (separator, rest) = match separators
            .iter()
            .position(|candidate| candidate.is_empty() || contains(segment, candidate))
        {
            Some(i) if separators[i].is_empty() => ("", &[][..]),
            Some(i) => (separators[i], &separators[i + 1..]),
            // As LangChain: the last separator, though the segment does not hold it.
            None => (separators.last().copied().unwrap_or(""), &[][..]),
        };
        let waiting = short.len();
        for_each_piece(segment, separator, range.start, |piece| {
            let length = code_points(&text[piece.clone()]);
            if length < self.chunk_size {
                short.push((piece, length));
                return;
            }
            if short.len() > waiting {
                self.merge(text, &short[waiting..], chunks);
                short.truncate(waiting);
            }
            if rest.is_empty() {
                push_stripped(text, piece, chunks);
            } else {
                self.split_range(text, piece, rest, short, chunks);
            }
        });
        if short.len() > waiting {
            self.merge(text, &short[waiting..], chunks);
            short.truncate(waiting);
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

/// `_split_text_with_regex` with `keep_separator="start"`: gives `segment`'s pieces
/// (as ranges of the text, `offset` being the segment's start) to `piece`: the text
/// before the first separator, then each separator with the text up to the next, empty
/// pieces left out. An empty separator splits into code points.
fn for_each_piece(
    segment: &[u8],
    separator: &str,
    offset: usize,
    mut piece: impl FnMut(Range<usize>),
) {
    let mut start = 0;
    // Non-overlapping, leftmost first, as `str::match_indices` and Python's `re.split`.
    let mut boundary = |at: usize| {
        if at > start {
            piece(offset + start..offset + at);
        }
        start = at;
    };
    match separator.as_bytes() {
        [] => {
            // A code point starts at every byte that does not continue a UTF-8 sequence.
            (1..segment.len())
                .filter(|&at| (segment[at] as i8) >= -64)
                .for_each(&mut boundary);
        }
        [byte] => memchr::memchr_iter(*byte, segment).for_each(&mut boundary),
        b"\n\n" => PARAGRAPH.find_iter(segment).for_each(&mut boundary),
        bytes => memchr::memmem::find_iter(segment, bytes).for_each(&mut boundary),
    }
    boundary(segment.len());
}

/// The searcher for the first separator, made once: most calls search for it.
static PARAGRAPH: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"\n\n"));

/// Whether `segment` holds `separator` (not empty).
fn contains(segment: &[u8], separator: &str) -> bool {
    match separator.as_bytes() {
        [byte] => memchr::memchr(*byte, segment).is_some(),
        b"\n\n" => PARAGRAPH.find(segment).is_some(),
        bytes => memchr::memmem::find(segment, bytes).is_some(),
    }
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
    text.as_bytes().chunks(128).map(starts_of_code_points).sum()
}

/// How many of `block`'s bytes (at most 255) start a code point: every byte that does
/// not continue a UTF-8 sequence. Summed in a byte per lane, which the compiler turns
/// into SIMD (a `usize` per lane would be several times slower).
fn starts_of_code_points(block: &[u8]) -> usize {
    let starts = block
        .iter()
        .fold(0u8, |count, &byte| count + u8::from((byte as i8) >= -64));
    usize::from(starts)
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
        // Sizes in code points, and words longer than a chunk cut between code points.
        assert_eq!(
            texts("héllo wörld€😀ab\n\nçç", 4, 1),
            ["héll", "lo", "wör", "rld€", "€😀ab", "çç"]
        );
        assert_eq!(
            texts("naïve café\u{2003}déjà vu — straße", 6, 2),
            ["naïve", "café", "é\u{2003}déjà", "vu —", "straß", "aße"]
        );
    }

    #[test]
    fn strips_and_counts_as_python() {
        assert_eq!(python_word_count(" a\u{1f}b  c\u{a0}d "), 4);
        assert_eq!(code_points("é€😀"), 3);
        let long = "é€😀 ascii ".repeat(100);
        assert_eq!(code_points(&long), long.chars().count());
        let text = "\u{1c} x \u{2003}";
        assert_eq!(&text[python_strip(text, 0..text.len())], "x");
    }
}
