//! HTML: the page's main content by Readability (`dom_smoothie`), or the whole page,
//! as Markdown.

use dom_query::Document;
use dom_smoothie::{Config, Readability, TextMode};
use tdg_plugin_sdk::DocumentPart;

use crate::markdown;

/// Reads an HTML page: the main content, or with `full` the whole body.
pub fn load(bytes: &[u8], full: bool) -> Result<DocumentPart, String> {
    let html = decode(bytes);
    let (title, text) = if full {
        whole_page(&html)
    } else {
        let config = Config {
            text_mode: TextMode::Markdown,
            ..Config::default()
        };
        match Readability::new(html.as_str(), None, Some(config)).and_then(|mut r| r.parse()) {
            Ok(article) if !article.text_content.trim().is_empty() => {
                (article.title, article.text_content.to_string())
            }
            // Readability finds no article in some pages (a list of links, a form):
            // the whole page is better than nothing.
            _ => whole_page(&html),
        }
    };
    let mut text = markdown::tidy(&text);
    let title = markdown::one_line(&title);
    // Readability drops the heading that repeats the page's title: put it back, as
    // the page's first heading (or its title), so that the text starts with it.
    if !text.starts_with('#') {
        let heading = first_heading(&html).unwrap_or_else(|| title.clone());
        if !heading.is_empty() {
            text = format!("{}\n\n{text}", markdown::heading(1, &heading));
        }
    }
    let mut part = DocumentPart::new(text);
    if !title.is_empty() {
        part = part.with_metadata("title", title);
    }
    Ok(part)
}

/// An HTML file's text: UTF-8 (a BOM dropped), or Latin-1 when it is not UTF-8.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// The text of a page's first heading, if it has one.
fn first_heading(html: &str) -> Option<String> {
    let document = Document::from(html);
    let headings = document.select("h1, h2, h3, h4, h5, h6");
    headings
        .nodes()
        .iter()
        .map(|node| markdown::one_line(&node.text()))
        .find(|text| !text.is_empty())
}

/// The title and the whole body of a page, as Markdown.
fn whole_page(html: &str) -> (String, String) {
    let document = Document::from(html);
    let title = document.select("title").text().to_string();
    (title, body_markdown(&document))
}

/// The body of a document (the whole document if it has none) as Markdown.
pub fn body_markdown(document: &Document) -> String {
    let body = document.select("body");
    match body.nodes().first() {
        Some(node) => node.md(None).to_string(),
        None => document.md(None).to_string(),
    }
}
