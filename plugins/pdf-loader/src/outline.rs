//! The headings a PDF names itself: its outline (the bookmarks a reader shows beside
//! the pages), which LaTeX with hyperref, texinfo, LibreOffice and most word processors
//! write. Each entry gives a title, a depth and a page; [`crate::layout`] makes the
//! line on that page that reads as the title a Markdown heading of that depth. A PDF
//! without an outline gets its headings from the size of its type instead.

use std::collections::BTreeMap;

use pdf_extract::Document;

/// A heading the outline names on a page: its depth (1 for the top level) and title.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineHeading {
    pub level: usize,
    pub title: String,
}

/// The outline's headings by page number (1-based, as `get_pages` numbers them), in
/// the outline's order; `None` when the PDF has no outline, or none that can be read.
pub fn headings_by_page(document: &Document) -> Option<BTreeMap<u32, Vec<OutlineHeading>>> {
    let toc = document.get_toc().ok()?;
    let mut pages: BTreeMap<u32, Vec<OutlineHeading>> = BTreeMap::new();
    for entry in toc.toc {
        let title = entry.title.split_whitespace().collect::<Vec<_>>().join(" ");
        let Ok(page) = u32::try_from(entry.page) else {
            continue;
        };
        if title.is_empty() {
            continue;
        }
        pages.entry(page).or_default().push(OutlineHeading {
            level: entry.level.clamp(1, 6),
            title,
        });
    }
    (!pages.is_empty()).then_some(pages)
}

/// Whether `line` reads as `title`: the same words (case aside), or the same words
/// after a section number the outline leaves out (`2.1 ASN.1 syntax` for `ASN.1
/// syntax`, `Appendix A Copying` for `Copying`).
pub fn reads_as(line: &str, title: &str) -> bool {
    let line = line.to_lowercase();
    let title = title.to_lowercase();
    if line == title {
        return true;
    }
    let Some(prefix) = line.strip_suffix(title.as_str()) else {
        return false;
    };
    let words: Vec<&str> = prefix.split_whitespace().collect();
    prefix.ends_with(char::is_whitespace)
        && (1..=3).contains(&words.len())
        && words.iter().all(|word| is_section_number(word))
}

/// Whether `line` is a section number and nothing else (`1`, `Chapter 3`): a page
/// number or a label, not the start of a title that wraps.
pub fn is_label_only(line: &str) -> bool {
    let line = line.to_lowercase();
    line.split_whitespace().all(is_section_number)
}

/// `3`, `2.1`, `A.4.`, `IV`, or a word that goes before one: `Chapter`, `Appendix`.
fn is_section_number(word: &str) -> bool {
    let word = word.trim_end_matches(['.', ':']);
    matches!(word, "chapter" | "appendix" | "part" | "section" | "annex")
        || (!word.is_empty()
            && word.split('.').all(|part| {
                !part.is_empty()
                    && (part.chars().all(|c| c.is_ascii_digit())
                        || (part.len() == 1 && part.chars().all(|c| c.is_ascii_alphabetic()))
                        || part.chars().all(|c| "ivxlc".contains(c)))
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_as_its_title_with_or_without_a_section_number() {
        assert!(reads_as("1. Introduction", "1. Introduction"));
        assert!(reads_as("2.1 ASN.1 syntax", "ASN.1 syntax"));
        assert!(reads_as(
            "Appendix A Copying Information",
            "Copying Information"
        ));
        assert!(reads_as("IV. Results", "results"));
        assert!(!reads_as("See the ASN.1 syntax", "ASN.1 syntax"));
        assert!(!reads_as("Naming", "ASN.1 syntax"));
        assert!(!reads_as("XASN.1 syntax", "ASN.1 syntax"));
        assert!(is_label_only("12"));
        assert!(is_label_only("Chapter 3"));
        assert!(!is_label_only("2.1 ASN.1"));
    }
}
