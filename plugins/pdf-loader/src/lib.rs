//! The `pdf-loader` plugin: reads a PDF's text layer page by page, for `tdg chunk`.
//! One part per page (`page` 1-based, as the original chunker made one document per
//! page), in the order the page's content stream draws its text: for the PDFs that
//! word processors and typesetters write, a two-column page reads column by column.
//! A page without a text layer (a scan) gives an empty text; the host warns of it.
//!
//! Text extraction is `pdf-extract` (pure Rust); it runs in tdg's sandbox, so a
//! panic or a runaway on an odd font or colour space fails that file alone.

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
        let pages = pdf_extract::extract_text_from_mem_by_pages(&bytes).map_err(|error| {
            PluginError::new(format!(
                "{file_name}: cannot read the PDF (is it damaged or truncated?): {error}"
            ))
        })?;
        Ok(pages
            .into_iter()
            .enumerate()
            .map(|(index, text)| {
                let mut part = DocumentPart::new(tidy(&text));
                part.page = Some(index as u32 + 1);
                part
            })
            .collect())
    }
}

/// The page's text with at most one blank line in a row and no trailing spaces.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

tdg_plugin_sdk::export_plugin!(loader: Pdf);
