//! The splitters beyond the original's: `markdown` (headings first, then paragraphs
//! and sentences, never inside a code block or table; the `text-splitter` crate's
//! Markdown splitter) and `sentences` (whole sentences packed up to the size, with
//! whole sentences of overlap), each measured by a [`Sizer`]: code points, or the
//! tokens of the model the chunks are meant for.

use std::ops::Range;

use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter};
use unicode_segmentation::UnicodeSegmentation;

use super::recursive::{code_points, python_strip};

/// How a chunk's size is measured.
pub enum Sizer {
    /// Unicode code points, as Python's `len`.
    Chars,
    /// Tokens of an OpenAI encoding (`cl100k_base`, `o200k_base`).
    OpenAi(&'static tiktoken_rs::CoreBPE),
    /// Tokens of a GGUF model's own tokenizer.
    #[cfg(feature = "embedded")]
    Model(Box<crate::provider::embedded::Vocabulary>),
}

impl Sizer {
    /// The size of `text`.
    pub fn measure(&self, text: &str) -> usize {
        match self {
            Sizer::Chars => code_points(text),
            Sizer::OpenAi(encoding) => encoding.encode_ordinary(text).len(),
            #[cfg(feature = "embedded")]
            Sizer::Model(vocabulary) => vocabulary.count(text),
        }
    }
}

impl ChunkSizer for &Sizer {
    fn size(&self, chunk: &str) -> usize {
        self.measure(chunk)
    }
}

/// The OpenAI encoding called `name`, if tdg knows it.
pub fn openai_encoding(name: &str) -> Option<&'static tiktoken_rs::CoreBPE> {
    match name {
        "cl100k_base" => Some(tiktoken_rs::cl100k_base_singleton()),
        "o200k_base" => Some(tiktoken_rs::o200k_base_singleton()),
        _ => None,
    }
}

/// The byte ranges of `text`'s chunks under the Markdown splitter.
///
/// text-splitter's time grows faster than the text (a 3.2 MB document takes 27 times
/// as long as a 400 kB one), so a long document is split in sections of about
/// [`MARKDOWN_SECTION_BYTES`] first, each starting at a heading (or, in a long stretch
/// without one, at a paragraph), never inside a code block; no chunk spans two sections.
pub fn split_markdown(
    text: &str,
    sizer: &Sizer,
    size: usize,
    overlap: usize,
) -> Result<Vec<Range<usize>>, String> {
    split_markdown_in_sections(text, sizer, size, overlap, MARKDOWN_SECTION_BYTES)
}

/// [`split_markdown`], with sections of about `section` bytes.
fn split_markdown_in_sections(
    text: &str,
    sizer: &Sizer,
    size: usize,
    overlap: usize,
    section: usize,
) -> Result<Vec<Range<usize>>, String> {
    let config = ChunkConfig::new(size)
        .with_overlap(overlap)
        .map_err(|e| e.to_string())?
        .with_sizer(sizer);
    let splitter = MarkdownSplitter::new(config);
    let starts = section_starts(text, section);
    let mut chunks = Vec::new();
    for (index, &start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        chunks.extend(
            splitter
                .chunk_indices(&text[start..end])
                .map(|(at, chunk)| start + at..start + at + chunk.len()),
        );
    }
    Ok(chunks)
}

/// The size a long Markdown document's sections are cut at, about (see
/// [`split_markdown`]).
pub const MARKDOWN_SECTION_BYTES: usize = 64 << 10;

/// Where `text`'s sections start: at 0, then at the first heading line at least
/// `section` bytes after the last start, or, past twice that without a heading, at
/// the first paragraph's line; never inside a fenced code block.
fn section_starts(text: &str, section: usize) -> Vec<usize> {
    let mut starts = vec![0];
    if text.len() <= section {
        return starts;
    }
    let mut fence: Option<&str> = None;
    let mut offset = 0;
    let mut after_blank = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let open = fence.is_none() && trimmed.len() + 4 > line.len();
        let length = offset - starts.last().copied().unwrap_or(0);
        if open && length >= section {
            let heading = atx_heading(trimmed).is_some();
            let paragraph = after_blank && !trimmed.trim().is_empty() && length >= 2 * section;
            if heading || paragraph {
                starts.push(offset);
            }
        }
        if line.len() - trimmed.len() < 4 {
            let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
            match (fence, marker) {
                (Some(open), Some(m)) if m == open => fence = None,
                (None, Some(m)) => fence = Some(m),
                _ => {}
            }
        }
        after_blank = trimmed.trim().is_empty();
        offset += line.len();
    }
    starts
}

/// The byte ranges of `text`'s chunks made of whole sentences: as many as fit in
/// `size`, a sentence longer than `size` alone (never cut), and each chunk after the
/// first starting with the last sentences of the one before that fit in `overlap`.
pub fn split_sentences(
    text: &str,
    sizer: &Sizer,
    size: usize,
    overlap: usize,
) -> Vec<Range<usize>> {
    // UAX #29 ends a sentence at every line break; in hard-wrapped text a lone line
    // break is a space. A copy with those as spaces has the same byte offsets.
    let unwrapped = unwrap_lines(text);
    let sentences: Vec<Range<usize>> = unwrapped
        .split_sentence_bound_indices()
        .map(|(start, sentence)| start..start + sentence.len())
        .filter(|range| !python_strip(text, range.clone()).is_empty())
        .collect();
    let mut chunks = Vec::new();
    let mut first = 0;
    while first < sentences.len() {
        // Grow the chunk while it fits (a single sentence always makes a chunk).
        let mut end = first + 1;
        while end < sentences.len()
            && sizer.measure(&text[sentences[first].start..sentences[end].end]) <= size
        {
            end += 1;
        }
        chunks.push(python_strip(
            text,
            sentences[first].start..sentences[end - 1].end,
        ));
        if end == sentences.len() {
            break;
        }
        // The next chunk starts with the last sentences of this one that fit in the
        // overlap, but always moves past this chunk's first sentence.
        let mut next = end;
        while next > first + 1
            && sizer.measure(&text[sentences[next - 1].start..sentences[end - 1].end]) <= overlap
        {
            next -= 1;
        }
        // Overlap only where it leaves room for the next new sentence: a chunk that
        // adds nothing to the one before is no chunk.
        if next < end && sizer.measure(&text[sentences[next].start..sentences[end].end]) > size {
            next = end;
        }
        first = next;
    }
    chunks
}

/// `text` with each line break that is not next to another (a hard wrap inside a
/// paragraph) as a space, byte for byte the same length.
fn unwrap_lines(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    for (at, byte) in bytes.iter().enumerate() {
        let paragraph = (at > 0 && bytes[at - 1] == b'\n') || bytes.get(at + 1) == Some(&b'\n');
        if *byte == b'\n' && !paragraph {
            out[at] = b' ';
        }
    }
    String::from_utf8(out).expect("a newline replaced by a space keeps UTF-8 valid")
}

/// The heading path in force at each byte offset of a Markdown text: the ATX
/// headings (`#` to `######`) outside fenced code blocks, outermost first.
pub struct HeadingIndex {
    /// (offset of the heading line, its level, its text), in order.
    headings: Vec<(usize, usize, String)>,
}

impl HeadingIndex {
    pub fn new(text: &str) -> Self {
        let mut headings = Vec::new();
        let mut fence: Option<&str> = None;
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if indent < 4 {
                let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
                match (fence, marker) {
                    (Some(open), Some(m)) if m == open => fence = None,
                    (None, Some(m)) => fence = Some(m),
                    (None, None) => {
                        if let Some(heading) = atx_heading(trimmed) {
                            headings.push((offset, heading.0, heading.1));
                        }
                    }
                    _ => {}
                }
            }
            offset += line.len();
        }
        HeadingIndex { headings }
    }

    /// The headings above byte `offset`, outermost first.
    pub fn path_at(&self, offset: usize) -> Vec<String> {
        let mut path: Vec<(usize, &str)> = Vec::new();
        for (at, level, text) in &self.headings {
            if *at > offset {
                break;
            }
            while path.last().is_some_and(|(above, _)| *above >= *level) {
                path.pop();
            }
            path.push((*level, text));
        }
        path.into_iter().map(|(_, text)| text.to_string()).collect()
    }
}

/// An ATX heading's level and text: `## From source ##` is (2, "From source").
fn atx_heading(line: &str) -> Option<(usize, String)> {
    let level = line.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r'])) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    (!text.is_empty()).then(|| (level, text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_paths_follow_levels_and_skip_code() {
        let text = "# Install\nintro\n## From source\nrun it\n```\n# not a heading\n```\n## Binary\nget it\n# Use\n";
        let index = HeadingIndex::new(text);
        let at = |needle: &str| index.path_at(text.find(needle).unwrap());
        assert_eq!(at("intro"), ["Install"]);
        assert_eq!(at("run it"), ["Install", "From source"]);
        assert_eq!(at("not a heading"), ["Install", "From source"]);
        assert_eq!(at("get it"), ["Install", "Binary"]);
        assert_eq!(at("# Use"), ["Use"]);
    }

    #[test]
    fn long_markdown_is_cut_in_sections_at_headings_never_in_code() {
        let block = format!("{}\n\n", "word ".repeat(60));
        let text = format!(
            "# One\n{}```\n# not a heading\n```\n## Two\n{}{}",
            block.repeat(3),
            block.repeat(3),
            block.repeat(12)
        );
        let starts = section_starts(&text, 500);
        assert_eq!(starts[0], 0);
        // The first cut is at `## Two`, the heading after the code block.
        assert_eq!(starts[1], text.find("## Two").unwrap());
        // Past twice the size without a heading, at paragraphs.
        assert!(starts.len() > 2);
        for start in &starts[2..] {
            assert!(text[..*start].ends_with("\n\n"), "{start}");
        }
        assert_eq!(section_starts("# Short\nno cut\n", 500), [0]);
        // Every chunk lies within one section, and the chunks cover the text's words.
        let chunks = split_markdown_in_sections(&text, &Sizer::Chars, 200, 0, 500).unwrap();
        for chunk in &chunks {
            let section = starts.partition_point(|s| *s <= chunk.start) - 1;
            let end = starts.get(section + 1).copied().unwrap_or(text.len());
            assert!(chunk.end <= end, "{chunk:?} crosses {end}");
        }
        let words: usize = chunks
            .iter()
            .map(|c| text[c.clone()].matches("word").count())
            .sum();
        assert_eq!(words, text.matches("word").count());
    }

    #[test]
    fn sentences_are_never_cut_and_overlap_in_whole_sentences() {
        let text = "One is short. Two is a bit longer. Three. A very long fourth sentence that is over the size.";
        let chunks: Vec<&str> = split_sentences(text, &Sizer::Chars, 40, 25)
            .into_iter()
            .map(|range| &text[range])
            .collect();
        assert_eq!(
            chunks,
            [
                "One is short. Two is a bit longer.",
                "Two is a bit longer. Three.",
                "A very long fourth sentence that is over the size."
            ]
        );
    }
}
