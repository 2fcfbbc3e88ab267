//! The `pdf-loader` plugin: reads a PDF's text layer page by page, for `tdg chunk`.
//! One part per page (`page` 1-based, as the original chunker made one document per
//! page), in the order the page's content stream draws its text: for the PDFs that
//! word processors and typesetters write, a two-column page reads column by column.
//! A page without a text layer (a scan) gives an empty text; the host warns of it.
//!
//! Text extraction is `pdf-extract` (pure Rust), after [`text_operators`] spells out
//! the operators it does not know; its glyphs are laid out into lines, words and
//! headings (from the PDF's [`outline`], or by type size) by [`layout`]; it runs in tdg's sandbox, so a
//! panic or a runaway on an odd font or colour space fails that file alone.

mod columns;
mod layout;
mod outline;
mod text_operators;

use tdg_plugin_sdk::{DocumentPart, Loader, Options, PluginError};

struct Pdf;

impl Loader for Pdf {
    const DESCRIPTION: &str = "PDF text, one part per page (a scanned page gives no text)";
    const FORMATS: &[(&str, &[&str])] = &[("pdf", &["pdf"])];

    fn load(
        file_name: String,
        bytes: Vec<u8>,
        _options: &Options,
    ) -> Result<Vec<DocumentPart>, PluginError> {
        if !bytes.starts_with(b"%PDF-")
            && !bytes[..bytes.len().min(1024)]
                .windows(5)
                .any(|w| w == b"%PDF-")
        {
            return Err(PluginError::new(format!(
                "{file_name}: not a PDF file (it does not start with `%PDF-`)"
            )));
        }
        let damaged = |error: &dyn std::fmt::Display| {
            PluginError::new(format!(
                "{file_name}: cannot read the PDF (is it damaged or truncated?): {error}"
            ))
        };
        let mut document = pdf_extract::Document::load_mem(&bytes).map_err(|e| damaged(&e))?;
        if document.is_encrypted() {
            // Many PDFs are encrypted with an empty password (to set permissions only).
            document.decrypt("").map_err(|e| {
                PluginError::new(format!(
                    "{file_name}: the PDF is encrypted with a password ({e}); decrypt it first, e.g. `qpdf --decrypt`"
                ))
            })?;
        }
        text_operators::spell_out_next_line_operators(&mut document);
        let outline = outline::headings_by_page(&document);
        let mut parts = Vec::new();
        for page in document.get_pages().into_keys() {
            let mut text = layout::PageText::default();
            pdf_extract::output_doc_page(&document, &mut text, page).map_err(|e| damaged(&e))?;
            let headings = outline
                .as_ref()
                .map(|pages| pages.get(&page).map(Vec::as_slice).unwrap_or_default());
            let mut part = DocumentPart::new(tidy(&text.into_text(headings)));
            part.page = Some(page);
            parts.push(part);
        }
        Ok(parts)
    }
}

/// The page's text with at most one blank line in a row, no trailing spaces, and no
/// ligatures.
fn tidy(text: &str) -> String {
    without_ligatures(&tdg_plugin_sdk::text::tidy_lines(text))
}

/// `text` with the typographic ligatures that typesetters draw (`ﬁ`, `ﬂ`, `ﬀ`, `ﬃ`,
/// `ﬄ`, `ﬅ`, `ﬆ`) as their letters, so that `ﬁle` is the word `file` to the model, the
/// quality gate and a search.
fn without_ligatures(text: &str) -> String {
    if !text.chars().any(|c| ('\u{FB00}'..='\u{FB06}').contains(&c)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            other => out.push(other),
        }
    }
    out
}

tdg_plugin_sdk::export_plugin!(loader: Pdf);
