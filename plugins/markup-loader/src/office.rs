//! DOCX, ODT and EPUB: ZIP archives of XML (or XHTML) files.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use tdg_plugin_sdk::DocumentPart;

use crate::markdown;
use crate::xml::{self, Element, Node};

/// The most one archive member may unpack to (a guard against ZIP bombs; the
/// sandbox's memory cap is the other).
const MEMBER_LIMIT: u64 = 256 << 20;

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn open<'a>(bytes: &'a [u8], what: &str) -> Result<Archive<'a>, String> {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a {what} file (it should be a ZIP archive): {e}"))
}

fn member(archive: &mut Archive<'_>, name: &str) -> Result<Option<String>, String> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(format!("cannot read {name} in the archive: {e}")),
    };
    let mut bytes = Vec::new();
    file.take(MEMBER_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot unpack {name}: {e}"))?;
    if bytes.len() as u64 > MEMBER_LIMIT {
        return Err(format!(
            "{name} unpacks to more than {} MiB",
            MEMBER_LIMIT >> 20
        ));
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn required(archive: &mut Archive<'_>, name: &str, what: &str) -> Result<String, String> {
    member(archive, name)?.ok_or_else(|| format!("not a {what} file: it has no {name}"))
}

/// The `dc:title` of a metadata element, if any.
fn title_in(root: &Element) -> Option<String> {
    root.find("title")
        .map(|title| markdown::one_line(&title.text()))
        .filter(|title| !title.is_empty())
}

fn part(text: String, title: Option<String>) -> DocumentPart {
    let part = DocumentPart::new(markdown::tidy(&text));
    match title {
        Some(title) => part.with_metadata("title", title),
        None => part,
    }
}

// ---- DOCX ------------------------------------------------------------------

/// Reads a Word document (`word/document.xml`).
pub fn load_docx(bytes: &[u8]) -> Result<DocumentPart, String> {
    let mut archive = open(bytes, "DOCX")?;
    let document = xml::parse(&required(&mut archive, "word/document.xml", "DOCX")?)?;
    let styles = match member(&mut archive, "word/styles.xml")? {
        Some(styles) => style_names(&xml::parse(&styles)?),
        None => HashMap::new(),
    };
    let title = match member(&mut archive, "docProps/core.xml")? {
        Some(core) => title_in(&xml::parse(&core)?),
        None => None,
    };
    let body = document
        .child("body")
        .ok_or("not a DOCX file: word/document.xml has no body")?;
    let docx = Docx { styles };
    let mut blocks = Vec::new();
    docx.blocks(body, &mut blocks);
    Ok(part(markdown::join_blocks(blocks), title))
}

/// Style ids to their names, lower-case (`Heading1` to `heading 1`).
fn style_names(styles: &Element) -> HashMap<String, String> {
    styles
        .elements()
        .filter(|style| style.name == "style")
        .filter_map(|style| {
            let id = style.attribute("styleId")?;
            let name = style.child("name")?.attribute("val")?;
            Some((id.to_string(), name.to_lowercase()))
        })
        .collect()
}

struct Docx {
    styles: HashMap<String, String>,
}

impl Docx {
    fn blocks(&self, parent: &Element, blocks: &mut Vec<String>) {
        for element in parent.elements() {
            match element.name.as_str() {
                "p" => blocks.push(self.paragraph(element)),
                "tbl" => blocks.push(self.table(element)),
                // Content controls and inserted text hold paragraphs of their own.
                "sdt" | "sdtContent" | "customXml" | "ins" => self.blocks(element, blocks),
                _ => {}
            }
        }
    }

    /// The heading level of a paragraph, from its style or outline level.
    fn heading_level(&self, paragraph: &Element) -> Option<usize> {
        let properties = paragraph.child("pPr")?;
        if let Some(style) = properties.child("pStyle").and_then(|s| s.attribute("val")) {
            let name = self
                .styles
                .get(style)
                .cloned()
                .unwrap_or_else(|| style.to_lowercase());
            if name == "title" {
                return Some(1);
            }
            if let Some(level) = name
                .strip_prefix("heading")
                .and_then(|rest| rest.trim().parse::<usize>().ok())
            {
                return Some(level);
            }
        }
        properties
            .child("outlineLvl")
            .and_then(|level| level.attribute("val"))
            .and_then(|level| level.parse::<usize>().ok())
            .filter(|level| *level < 9)
            .map(|level| level + 1)
    }

    fn paragraph(&self, paragraph: &Element) -> String {
        let mut text = String::new();
        runs(paragraph, &mut text);
        if text.trim().is_empty() {
            return String::new();
        }
        if let Some(level) = self.heading_level(paragraph) {
            return markdown::heading(level, &text);
        }
        let list = paragraph
            .child("pPr")
            .and_then(|properties| properties.child("numPr"))
            .is_some();
        if list {
            format!("- {}", text.trim())
        } else {
            text.trim().to_string()
        }
    }

    fn table(&self, table: &Element) -> String {
        let rows: Vec<Vec<String>> = table
            .elements()
            .filter(|row| row.name == "tr")
            .map(|row| {
                row.elements()
                    .filter(|cell| cell.name == "tc")
                    .map(|cell| {
                        let mut blocks = Vec::new();
                        self.blocks(cell, &mut blocks);
                        blocks.join(" ")
                    })
                    .collect()
            })
            .collect();
        markdown::table(&rows)
    }
}

/// The text of a paragraph's runs, in order.
fn runs(element: &Element, text: &mut String) {
    for child in element.elements() {
        match child.name.as_str() {
            "t" => text.push_str(&child.text()),
            "tab" => text.push('\t'),
            "br" | "cr" => text.push('\n'),
            "noBreakHyphen" => text.push('-'),
            // Deleted text, field codes and the properties hold no reading text.
            "del" | "instrText" | "pPr" | "rPr" => {}
            _ => runs(child, text),
        }
    }
}

// ---- ODT -------------------------------------------------------------------

/// Reads an OpenDocument text (`content.xml`).
pub fn load_odt(bytes: &[u8]) -> Result<DocumentPart, String> {
    let mut archive = open(bytes, "ODT")?;
    let content = xml::parse(&required(&mut archive, "content.xml", "ODT")?)?;
    let title = match member(&mut archive, "meta.xml")? {
        Some(meta) => title_in(&xml::parse(&meta)?),
        None => None,
    };
    let text = content
        .find("text")
        .filter(|text| text.name == "text")
        .ok_or("not an ODT file: content.xml has no office:text")?;
    let mut blocks = Vec::new();
    odt_blocks(text, &mut blocks, "");
    Ok(part(markdown::join_blocks(blocks), title))
}

fn odt_blocks(parent: &Element, blocks: &mut Vec<String>, prefix: &str) {
    for element in parent.elements() {
        match element.name.as_str() {
            "h" => {
                let level = element
                    .attribute("outline-level")
                    .and_then(|level| level.parse().ok())
                    .unwrap_or(1);
                let text = odt_inline(element);
                if !text.trim().is_empty() {
                    blocks.push(markdown::heading(level, &text));
                }
            }
            "p" => {
                let text = odt_inline(element);
                let title = element
                    .attribute("style-name")
                    .is_some_and(|style| style.eq_ignore_ascii_case("title"));
                if text.trim().is_empty() {
                } else if title {
                    blocks.push(markdown::heading(1, &text));
                } else {
                    blocks.push(format!("{prefix}{}", text.trim()));
                }
            }
            "list" => {
                let mut items = Vec::new();
                for item in element.elements().filter(|item| item.name == "list-item") {
                    let mut inner = Vec::new();
                    odt_blocks(item, &mut inner, "");
                    if let Some((first, rest)) = inner.split_first() {
                        let mut item = format!("- {first}");
                        for block in rest {
                            item.push_str("\n  ");
                            item.push_str(&block.replace('\n', "\n  "));
                        }
                        items.push(item);
                    }
                }
                blocks.push(items.join("\n"));
            }
            "table" => {
                let mut rows = Vec::new();
                odt_rows(element, &mut rows);
                blocks.push(markdown::table(&rows));
            }
            "section" | "index-body" | "table-of-content" | "alphabetical-index" => {
                odt_blocks(element, blocks, prefix)
            }
            _ => {}
        }
    }
}

fn odt_rows(parent: &Element, rows: &mut Vec<Vec<String>>) {
    for element in parent.elements() {
        match element.name.as_str() {
            "table-row" => rows.push(
                element
                    .elements()
                    .filter(|cell| cell.name == "table-cell")
                    .map(|cell| {
                        let mut blocks = Vec::new();
                        odt_blocks(cell, &mut blocks, "");
                        blocks.join(" ")
                    })
                    .collect(),
            ),
            "table-header-rows" | "table-rows" | "table-row-group" => odt_rows(element, rows),
            _ => {}
        }
    }
}

/// The text of a paragraph or heading, with ODF's spaces, tabs and line breaks.
fn odt_inline(element: &Element) -> String {
    let mut text = String::new();
    odt_inline_into(element, &mut text);
    text
}

fn odt_inline_into(element: &Element, text: &mut String) {
    for node in &element.children {
        match node {
            Node::Text(run) => text.push_str(run),
            Node::Element(child) => match child.name.as_str() {
                "s" => {
                    let count = child
                        .attribute("c")
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1usize);
                    text.push_str(&" ".repeat(count.min(1000)));
                }
                "tab" => text.push('\t'),
                "line-break" => text.push('\n'),
                // Footnote bodies and annotations are not the running text.
                "note" | "annotation" | "tracked-changes" => {}
                _ => odt_inline_into(child, text),
            },
        }
    }
}

// ---- EPUB ------------------------------------------------------------------

/// Reads an EPUB book: its spine's documents in order, as Markdown.
pub fn load_epub(bytes: &[u8]) -> Result<DocumentPart, String> {
    let mut archive = open(bytes, "EPUB")?;
    let container = xml::parse(&required(&mut archive, "META-INF/container.xml", "EPUB")?)?;
    let opf_path = container
        .find("rootfile")
        .and_then(|rootfile| rootfile.attribute("full-path"))
        .ok_or("not an EPUB file: META-INF/container.xml names no rootfile")?
        .to_string();
    let opf = xml::parse(&required(&mut archive, &opf_path, "EPUB")?)?;
    let base = opf_path
        .rsplit_once('/')
        .map(|(dir, _)| format!("{dir}/"))
        .unwrap_or_default();
    let title = opf.child("metadata").and_then(title_in);
    let manifest: HashMap<&str, &str> = opf
        .child("manifest")
        .map(|manifest| {
            manifest
                .elements()
                .filter_map(|item| Some((item.attribute("id")?, item.attribute("href")?)))
                .collect()
        })
        .unwrap_or_default();
    let spine = opf
        .child("spine")
        .ok_or("not an EPUB file: its package has no spine")?;
    let mut blocks = Vec::new();
    for itemref in spine.elements().filter(|item| item.name == "itemref") {
        if itemref.attribute("linear") == Some("no") {
            continue;
        }
        let Some(href) = itemref.attribute("idref").and_then(|id| manifest.get(id)) else {
            continue;
        };
        let path = resolve(&base, &percent_decode(href));
        let Some(chapter) = member(&mut archive, &path)? else {
            continue;
        };
        let document = dom_query::Document::from(chapter.as_str());
        blocks.push(crate::html::body_markdown(&document));
    }
    Ok(part(markdown::join_blocks(blocks), title))
}

/// `href` relative to the folder `base` (which ends in `/` or is empty).
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or(href);
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for piece in href.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            piece => parts.push(piece),
        }
    }
    parts.join("/")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .map_err(drop)
                .and_then(|hex| u8::from_str_radix(hex, 16).map_err(drop))
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
