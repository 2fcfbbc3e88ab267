//! The `markup-loader` plugin: reads HTML (the main content, by Readability), DOCX,
//! ODT and EPUB documents into Markdown text for `tdg chunk`: headings as Markdown
//! headings, tables as Markdown tables, text in reading order. One part per document.
//!
//! Options (from the host): `format=NAME` (the format the host chose; else the file
//! name's extension decides), `html-full=true` (keep the whole HTML page).

mod html;
mod markdown;
mod office;
mod xml;

use tdg_plugin_sdk::{DocumentPart, Loader, Options, PluginError};

struct Markup;

impl Loader for Markup {
    const DESCRIPTION: &str = "HTML (main content by Readability; html-full=true for the whole page), DOCX, ODT and EPUB, as Markdown text";
    const FORMATS: &[(&str, &[&str])] = &[
        ("html", &["html", "htm", "xhtml"]),
        ("docx", &["docx"]),
        ("odt", &["odt"]),
        ("epub", &["epub"]),
    ];

    fn load(
        file_name: String,
        bytes: Vec<u8>,
        options: &Options,
    ) -> Result<Vec<DocumentPart>, PluginError> {
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, extension)| extension.to_lowercase())
            .unwrap_or_default();
        let format = options
            .last("format")
            .map(str::to_lowercase)
            .unwrap_or(extension);
        let part = match format.as_str() {
            "html" | "htm" | "xhtml" => {
                html::load(&bytes, options.last("html-full") == Some("true"))
            }
            "docx" => office::load_docx(&bytes),
            "odt" => office::load_odt(&bytes),
            "epub" => office::load_epub(&bytes),
            other => Err(format!(
                "the markup loader reads html, docx, odt and epub, not `{other}`"
            )),
        }
        .map_err(|message| PluginError::new(format!("{file_name}: {message}")))?;
        Ok(vec![part])
    }
}

tdg_plugin_sdk::export_plugin!(loader: Markup);
