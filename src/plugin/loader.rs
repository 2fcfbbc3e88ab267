//! Document loaders: the `loader` role of the plugin contract (since 0.2.1), which
//! turns a document's bytes into text (one part per page for a PDF) in the sandbox, so
//! that a parser that crashes or hangs on an odd file fails that file alone.
//!
//! This is the seam between `tdg chunk` (which decides what to read and how to split
//! it) and the loader components (which read one or more formats each): the built-in
//! loaders (`plugins/markup-loader`, `plugins/pdf-loader`) and the user's.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::bindings::{loader, types};
use super::{LoaderPlugin, PluginError, PluginHost, PluginSource, builtin};

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

impl LoadOptions {
    /// The options as the contract's `options` argument, with the `format` the host
    /// chose (a loader of several formats is told which one, so that `--format`
    /// works on any file name).
    fn to_key_values(&self, format: &str) -> Vec<types::KeyValue> {
        let mut options = vec![types::KeyValue {
            key: "format".into(),
            value: format.into(),
        }];
        if self.html_full {
            options.push(types::KeyValue {
                key: "html-full".into(),
                value: "true".into(),
            });
        }
        options
    }
}

/// The loaders a run may use: the built-in ones and the user's.
pub struct DocumentLoaders {
    loaders: Vec<LoaderPlugin>,
    /// Format name to the index of the loader that reads it.
    formats: BTreeMap<String, usize>,
    /// Extension (lower-case, no dot) to format name.
    extensions: BTreeMap<String, String>,
}

impl DocumentLoaders {
    /// The built-in loaders, then the user's `extra` loader components (a user's
    /// loader wins for the formats and extensions it claims).
    pub fn new(host: &PluginHost, extra: &[PluginSource]) -> Result<Self, PluginError> {
        let sources = builtin::LOADERS
            .iter()
            .map(|name| PluginSource::Builtin(name))
            .chain(extra.iter().cloned());
        let mut loaders = DocumentLoaders {
            loaders: Vec::new(),
            formats: BTreeMap::new(),
            extensions: BTreeMap::new(),
        };
        for source in sources {
            loaders.add(host.loader_plugin(&source)?);
        }
        Ok(loaders)
    }

    fn add(&mut self, plugin: LoaderPlugin) {
        let index = self.loaders.len();
        for format in &plugin.info().formats {
            let name = format.name.trim().to_lowercase();
            self.formats.insert(name.clone(), index);
            for extension in &format.extensions {
                let extension = extension.trim().trim_start_matches('.').to_lowercase();
                self.extensions.insert(extension, name.clone());
            }
        }
        self.loaders.push(plugin);
    }

    /// The formats the loaders read, by name (`pdf`, `html`, `docx`, …), sorted.
    pub fn formats(&self) -> Vec<String> {
        self.formats.keys().cloned().collect()
    }

    /// The format that reads files with `extension` (lower-case, no dot), if any.
    pub fn format_for_extension(&self, extension: &str) -> Option<String> {
        self.extensions
            .get(&extension.trim_start_matches('.').to_lowercase())
            .cloned()
    }

    /// The loader plugins, built-in first, for `tdg plugins`.
    pub fn plugins(&self) -> &[LoaderPlugin] {
        &self.loaders
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
        let format = format.to_lowercase();
        let index = *self
            .formats
            .get(&format)
            .ok_or_else(|| PluginError::UnknownFormat {
                format: format.to_string(),
                known: self.formats().join(", "),
            })?;
        let parts = self.loaders[index].load(file_name, bytes, &options.to_key_values(&format))?;
        Ok(parts.into_iter().map(loaded_part).collect())
    }
}

fn loaded_part(part: loader::DocumentPart) -> LoadedPart {
    LoadedPart {
        text: part.text,
        page: part.page,
        metadata: part
            .metadata
            .into_iter()
            .map(|kv| (kv.key, Value::String(kv.value)))
            .collect(),
    }
}
