//! A page's glyphs, as pdf-extract draws them, into lines of text: a line breaks
//! where the baseline moves, a space goes where the gap between two glyphs is wider
//! than a sliver of the font size (whether or not the PDF marks a word there, which
//! typesetters often do not), a word the typesetter broke at a line's end with a hyphen
//! is joined again, and headings become Markdown headings: the lines the PDF's outline
//! names, or, without an outline, the lines set in a type clearly larger than the
//! page's body text. Lines stay in the order the page draws them, which for typeset
//! PDFs is column by column, unless the page interleaves its columns ([`columns`]).

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use crate::columns;
use crate::outline::{self, OutlineHeading};

/// One glyph: where it starts and ends on its baseline, its size, its text.
struct Glyph {
    x: f64,
    end: f64,
    y: f64,
    size: f64,
    text: String,
}

/// Collects one page's glyphs.
#[derive(Default)]
pub struct PageText {
    glyphs: Vec<Glyph>,
}

impl OutputDev for PageText {
    fn begin_page(
        &mut self,
        _page: u32,
        _media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        let scaled = trm.transform_vector(euclid::vec2(font_size, font_size));
        let size = (scaled.x * scaled.y).abs().sqrt();
        self.glyphs.push(Glyph {
            x: trm.m31,
            end: trm.m31 + width * size,
            y: trm.m32,
            size,
            text: text.to_string(),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// How much larger than the body text a line's type must be to be a heading.
const HEADING_RATIO: f64 = 1.15;

/// The gap between two glyphs, in parts of the font size, above which a space goes
/// between them.
const WORD_GAP: f64 = 0.15;

/// A gap wider than this many font sizes may be a gutter between two columns.
const WIDE_GAP: f64 = 1.0;

/// A line of a page: its baseline, the largest size in it, its text.
#[derive(Clone)]
pub(crate) struct Line {
    /// Where the line starts and ends across the page, and its baseline.
    pub left: f64,
    pub right: f64,
    pub y: f64,
    pub size: f64,
    pub text: String,
    /// The gaps wider than [`WIDE_GAP`] within the line: where each starts and ends
    /// across the page, and the byte in `text` where the text after it starts.
    pub gaps: Vec<(f64, f64, usize)>,
}

impl PageText {
    /// The page's text: lines, a blank line where the baseline jumps by more than a
    /// line and a half, headings as Markdown headings. With the PDF's `outline`
    /// headings for this page, a line that reads as one of them is a heading of its
    /// depth; without an outline, a line in type much larger than the body is `#`,
    /// one somewhat larger `##`.
    pub fn into_text(self, outline: Option<&[OutlineHeading]>) -> String {
        let body = body_size(&self.glyphs);
        let lines = self.lines();
        let mut unmatched: Vec<&OutlineHeading> = outline.unwrap_or_default().iter().collect();
        let mut text = String::new();
        let mut previous: Option<(f64, f64)> = None; // (y, size) of the last body line
        let mut index = 0;
        while index < lines.len() {
            let line = &lines[index];
            let (level, taken) = match outline {
                Some(_) => outline_heading(&lines[index..], &mut unmatched),
                None => (size_heading(line, body), 1),
            };
            if let Some(level) = level {
                if !text.is_empty() && !text.ends_with("\n\n") {
                    text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
                }
                let words: Vec<&str> = lines[index..index + taken]
                    .iter()
                    .map(|line| line.text.as_str())
                    .collect();
                text.push_str(&"#".repeat(level));
                text.push(' ');
                text.push_str(&words.join(" "));
                text.push_str("\n\n");
                previous = None;
                index += taken;
                continue;
            }
            if let Some((last_y, last_size)) = previous {
                let paragraph = (line.y - last_y).abs() > last_size.max(line.size) * 1.6;
                if !paragraph && hyphenated(&text, &line.text) {
                    // `develop-` then `ment`: one word the typesetter broke.
                    text.pop();
                } else {
                    text.push_str(if paragraph { "\n\n" } else { "\n" });
                }
            }
            text.push_str(&line.text);
            previous = Some((line.y, line.size));
            index += 1;
        }
        text
    }

    /// The page's glyphs as lines, in the order the page draws them: a line breaks
    /// where the baseline moves or the pen goes back to the left; a space goes where
    /// the gap between two glyphs is wider than a sliver of the font size, whether or
    /// not the PDF draws a space there (typesetters often do not, and some draw one
    /// with a negative word spacing inside a word).
    fn lines(&self) -> Vec<Line> {
        let mut lines: Vec<Line> = Vec::new();
        let mut last: Option<&Glyph> = None;
        for glyph in &self.glyphs {
            if glyph.text.trim().is_empty() {
                continue;
            }
            let new_line = match last {
                None => true,
                Some(previous) => {
                    (glyph.y - previous.y).abs() > previous.size.max(glyph.size) * 0.5
                        || glyph.x < previous.x - previous.size * 2.0
                }
            };
            if new_line {
                lines.push(Line {
                    left: glyph.x,
                    right: glyph.end,
                    y: glyph.y,
                    size: glyph.size,
                    text: String::new(),
                    gaps: Vec::new(),
                });
            }
            let line = lines.last_mut().expect("a line was started");
            if let Some(previous) = last.filter(|_| !new_line) {
                let gap = glyph.x - previous.end;
                if gap > glyph.size.max(previous.size) * WORD_GAP {
                    line.text.push(' ');
                }
                if gap > glyph.size.max(previous.size) * WIDE_GAP {
                    line.gaps.push((previous.end, glyph.x, line.text.len()));
                }
            }
            line.size = line.size.max(glyph.size);
            line.text.push_str(&glyph.text);
            line.left = line.left.min(glyph.x);
            line.right = line.right.max(glyph.end);
            last = Some(glyph);
        }
        columns::in_reading_order(&mut lines);
        for line in &mut lines {
            line.text = line.text.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        lines.retain(|line| !line.text.is_empty());
        lines
    }
}

/// The heading level of `lines[0]` if it reads as one of the outline's `unmatched`
/// headings, alone or with the next line (a title the page wraps), and how many lines
/// it takes; the heading found is matched, so that a title is a heading once.
fn outline_heading(lines: &[Line], unmatched: &mut Vec<&OutlineHeading>) -> (Option<usize>, usize) {
    let alone = lines[0].text.clone();
    // A page number or a bare label above a title is not the title's first line.
    let wrapped = lines
        .get(1)
        .filter(|_| !outline::is_label_only(&alone))
        .map(|next| format!("{alone} {}", next.text));
    for (taken, candidate) in [(1, Some(alone)), (2, wrapped)] {
        let Some(candidate) = candidate else {
            continue;
        };
        if let Some(at) = unmatched
            .iter()
            .position(|heading| outline::reads_as(&candidate, &heading.title))
        {
            return (Some(unmatched.remove(at).level), taken);
        }
    }
    (None, 1)
}

/// The heading level of `line` by the size of its type against the page's `body`.
fn size_heading(line: &Line, body: f64) -> Option<usize> {
    let heading =
        body > 0.0 && line.size >= body * HEADING_RATIO && line.text.chars().count() < 120;
    heading.then_some(if line.size >= body * 1.5 { 1 } else { 2 })
}

/// Whether `text` ends in a word broken by a hyphen that `next` line continues: a
/// letter and `-`, then a letter of the same case (`develop-` `ment`, `IM-` `PLIED`) or
/// a capital after a small letter (`dictionaryFile-` `Name`).
fn hyphenated(text: &str, next: &str) -> bool {
    let mut end = text.chars().rev();
    if end.next() != Some('-') {
        return false;
    }
    let (Some(before), Some(after)) = (end.next(), next.chars().next()) else {
        return false;
    };
    before.is_alphabetic()
        && after.is_alphabetic()
        && (before.is_lowercase() || after.is_uppercase())
}

/// The size most of the page's characters are set in: its body text.
fn body_size(glyphs: &[Glyph]) -> f64 {
    let mut counts: Vec<(i64, usize)> = Vec::new();
    for glyph in glyphs.iter().filter(|g| !g.text.trim().is_empty()) {
        let key = (glyph.size * 10.0).round() as i64;
        match counts.iter_mut().find(|(size, _)| *size == key) {
            Some((_, count)) => *count += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map(|(size, _)| size as f64 / 10.0)
        .unwrap_or(0.0)
}
