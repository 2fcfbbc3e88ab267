//! Document loaders: the `loader` role of the plugin contract, which turns a
//! document's bytes into text (one part per page for a PDF) in the sandbox, so that a
//! parser that crashes or hangs on an odd file fails that file alone.
//!
//! This is the seam between `tdg chunk` (which decides what to read and how to split
//! it) and the loader components (which read one format each). The built-in loaders
//! and the WIT role land in a later change; until then no format is known.

use serde_json::{Map, Value};

use super::{PluginError, PluginHost, PluginSource};

/// One document's worth of text as a loader extracted it: the whole file, or one
/// page of a PDF (the original chunker made one document per PDF page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadedPart {
    /// The extracted text; headings as Markdown headings (`# Title`), tables as
    /// Markdown tables, where the format gives them.
    pub text: String,
    /// The 1-based page number, for formats that have pages.
    pub page: Option<u32>,
    /// What else the loader knows about the part (`title`, `author`, …).
    pub metadata: Map<String, Value>,
}

/// How loaders read a document, from `tdg chunk`'s options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `--html-full`: keep the whole HTML page, not only its main content.
    pub html_full: bool,
}

/// The loaders a run may use: the built-in ones and the user's.
pub struct DocumentLoaders {
    _host: PluginHost,
}

impl DocumentLoaders {
    /// The built-in loaders, then the user's `extra` loader components (a user's
    /// loader wins for the extensions it claims).
    pub fn new(host: &PluginHost, extra: &[PluginSource]) -> Result<Self, PluginError> {
        let _ = extra;
        Ok(DocumentLoaders {
            _host: host.clone(),
        })
    }

    /// The formats the loaders read, by name (`pdf`, `html`, `docx`, …).
    pub fn formats(&self) -> Vec<String> {
        Vec::new()
    }

    /// The format that reads files with `extension` (lower-case, no dot), if any.
    pub fn format_for_extension(&self, extension: &str) -> Option<String> {
        let _ = extension;
        None
    }

    /// Reads one document with the loader of `format`. An error names the loader
    /// and the cause; the caller names the file.
    pub fn load(
        &self,
        format: &str,
        file_name: &str,
        bytes: &[u8],
        options: &LoadOptions,
    ) -> Result<Vec<LoadedPart>, PluginError> {
        let _ = (file_name, bytes, options);
        Err(PluginError::UnknownName {
            name: format.to_string(),
            known: String::new(),
            searched: String::new(),
        })
    }
}
