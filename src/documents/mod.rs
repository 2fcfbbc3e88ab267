//! `tdg chunk`: the first stage of the flow, from a user's documents to the chunk
//! files `generate` reads (`src/chunks.rs`), in exactly the format of the chunker the
//! original tool came with.
//!
//! - [`discover`] finds the documents and gives each a distinct stem;
//! - [`decode`] reads plain text; other formats go to the sandboxed loaders of
//!   [`crate::plugin::loader`] (a parser that crashes on an odd file fails that file);
//! - [`recursive`] is the original's splitter, exactly; [`structured`] the
//!   `markdown` and `sentences` strategies and the token sizers;
//! - [`chunk_file`] writes a document's chunk file; [`run`] drives a run: files
//!   whose bytes and settings are unchanged are left as they are, every file is
//!   written atomically, and [`summary`] says what happened to each document.

pub mod chunk_file;
pub mod decode;
pub mod discover;
pub mod recursive;
pub mod run;
pub mod structured;
pub mod summary;

use std::path::PathBuf;

pub use run::{ChunkRun, chunk_documents};

/// How documents are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// The original's recursive character splitter (paragraphs, lines, words).
    Recursive,
    /// Headings first, then paragraphs and sentences; each chunk's heading path kept.
    Markdown,
    /// Whole sentences, never cut; overlap in whole sentences.
    Sentences,
}

impl Strategy {
    /// The name in `processing_info.splitting_strategy` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Recursive => "recursive",
            Strategy::Markdown => "markdown",
            Strategy::Sentences => "sentences",
        }
    }
}

/// What a chunk's size is counted in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum SizeUnit {
    /// Unicode code points, as the original counted.
    Chars,
    /// Tokens of an OpenAI encoding (`cl100k_base`, `o200k_base`).
    Encoding(String),
    /// Tokens of a GGUF model's tokenizer (a path or a Hub file).
    Model(String),
}

/// Everything that decides a document's chunks (and so its chunk file's
/// fingerprint), and where they go.
#[derive(Debug, Clone)]
pub struct ChunkSettings {
    pub inputs: Vec<PathBuf>,
    pub chunks_dir: PathBuf,
    pub strategy: Strategy,
    pub chunk_size: usize,
    pub chunk_overlap: usize,
    pub size_unit: SizeUnit,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// `--format`: read every document with this loader, whatever its extension.
    pub format: Option<String>,
    /// `--html-full`: keep the whole HTML page.
    pub html_full: bool,
    /// Rewrite every chunk file, even those whose bytes and settings are unchanged.
    pub force: bool,
}

/// The original chunker's size and overlap.
pub const DEFAULT_CHUNK_SIZE: usize = 1000;
pub const DEFAULT_CHUNK_OVERLAP: usize = 200;

/// The extensions read as plain text by the host itself.
pub const TEXT_EXTENSIONS: [&str; 3] = ["txt", "md", "markdown"];
