//! A page's glyphs, as pdf-extract draws them, into lines of text: a line breaks
//! where the baseline moves, a space goes where the gap between two glyphs is wider
//! than a sliver of the font size (whether or not the PDF marks a word there, which
//! typesetters often do not), and a line set in a type clearly larger than the page's
//! body text becomes a Markdown heading, and a word the typesetter broke at a line's end
//! with a hyphen is joined again. Glyphs stay in the order the page draws
//! them, which for typeset PDFs is column by column.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

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

impl PageText {
    /// The page's text: lines, a blank line where the baseline jumps by more than a
    /// line and a half, headings as `#` (much larger type) or `##` lines.
    pub fn into_text(self) -> String {
        let mut lines: Vec<(f64, f64, String)> = Vec::new(); // (y, largest size, text)
        let mut last: Option<&Glyph> = None;
        for glyph in &self.glyphs {
            if glyph.text.trim().is_empty() && glyph.text != " " {
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
                lines.push((glyph.y, glyph.size, String::new()));
            } else if let Some(previous) = last {
                let gap = glyph.x - previous.end;
                let line = &mut lines.last_mut().expect("a line was started").2;
                if gap > glyph.size.max(previous.size) * 0.15
                    && !line.ends_with(' ')
                    && glyph.text != " "
                {
                    line.push(' ');
                }
            }
            let line = lines.last_mut().expect("a line was started");
            line.1 = line.1.max(glyph.size);
            line.2.push_str(&glyph.text);
            last = Some(glyph);
        }
        let body = body_size(&self.glyphs);
        let mut text = String::new();
        let mut previous_y: Option<(f64, f64)> = None;
        for (y, size, line) in lines {
            let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
            if line.is_empty() {
                continue;
            }
            if let Some((last_y, last_size)) = previous_y {
                let paragraph = (y - last_y).abs() > last_size.max(size) * 1.6;
                if !paragraph && hyphenated(&text, &line) {
                    // `develop-` then `ment`: one word the typesetter broke.
                    text.pop();
                } else {
                    text.push_str(if paragraph { "\n\n" } else { "\n" });
                }
            }
            let heading = body > 0.0 && size >= body * HEADING_RATIO && line.chars().count() < 120;
            if heading {
                if !text.is_empty() && !text.ends_with("\n\n") {
                    text.push('\n');
                }
                text.push_str(if size >= body * 1.5 { "# " } else { "## " });
                text.push_str(&line);
                text.push_str("\n\n");
                previous_y = None;
                continue;
            }
            text.push_str(&line);
            previous_y = Some((y, size));
        }
        text
    }
}

/// Whether `text` ends in a word broken by a hyphen that `next` line continues: a
/// lower-case letter and `-`, then a lower-case letter.
fn hyphenated(text: &str, next: &str) -> bool {
    let mut end = text.chars().rev();
    end.next() == Some('-')
        && end.next().is_some_and(|c| c.is_lowercase())
        && next.chars().next().is_some_and(|c| c.is_lowercase())
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
