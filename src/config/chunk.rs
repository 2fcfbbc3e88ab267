//! `tdg chunk`'s options, as clap reads them from the command line and the
//! environment (`CHUNKER_*`) and serde from the config file's `[chunk]` table, and
//! the [`ChunkSettings`] resolved from them (option > environment > config file >
//! default). The chunks folder is `generate`'s own setting (`--chunks-dir`,
//! `GENERATOR_PROCESS_DIR`, the config file's `chunks_dir`), so that the two
//! commands meet in one folder without saying it twice.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::documents::{
    ChunkSettings, DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, SizeUnit, Strategy,
};
use crate::plugin::PluginSource;

/// `tdg chunk INPUT... --chunks-dir DIR [options]`
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChunkArgs {
    /// Documents, or folders of documents (read recursively; hidden entries left out).
    #[arg(value_name = "INPUT")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<PathBuf>,

    /// Where the chunk files go (generate's input).
    #[arg(long, env = "GENERATOR_PROCESS_DIR", value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks_dir: Option<PathBuf>,

    /// How documents are split: recursive (the original chunker's splitter, exactly),
    /// markdown (headings, then paragraphs, then sentences; never inside a code block
    /// or table) or sentences (whole sentences, never cut) [default: recursive].
    #[arg(long, env = "CHUNKER_STRATEGY", value_name = "NAME", value_parser = ["recursive", "markdown", "sentences"])]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,

    /// The most a chunk may hold, in --size-unit [default: 1000].
    #[arg(long, env = "CHUNKER_CHUNK_SIZE", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<usize>,

    /// How much of a chunk's end the next chunk repeats, in --size-unit [default: 200].
    #[arg(long, env = "CHUNKER_CHUNK_OVERLAP", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_overlap: Option<usize>,

    /// What sizes count: chars (Unicode code points, as the original) or tokens of
    /// --tokenizer [default: chars].
    #[arg(long, env = "CHUNKER_SIZE_UNIT", value_name = "UNIT", value_parser = ["chars", "tokens"])]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_unit: Option<String>,

    /// For --size-unit tokens: an OpenAI encoding (cl100k_base, o200k_base) or a GGUF
    /// model (a path or a Hub file, as --model takes) whose tokenizer counts.
    #[arg(long, env = "CHUNKER_TOKENIZER", value_name = "NAME|MODEL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,

    /// Read only files whose path below the input (or name) matches this glob; repeatable.
    #[arg(long, value_name = "GLOB")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,

    /// Leave out files whose path below the input (or name) matches this glob; repeatable.
    #[arg(long, value_name = "GLOB")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,

    /// Read every document with this format's loader, whatever its extension (txt,
    /// md, or a loader's format: tdg plugins lists them).
    #[arg(long, value_name = "FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,

    /// Keep the whole of HTML pages (navigation, footers), not only their main content.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub html_full: bool,

    /// A loader component (.wasm) for more formats; repeatable. It wins for the
    /// extensions it claims.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub loader: Vec<PathBuf>,

    /// Write every chunk file again, even those whose document and settings are unchanged.
    #[arg(long)]
    #[serde(skip)]
    pub force: bool,

    /// The config file [default: tdg.toml in the working directory, if there is one].
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

impl ChunkArgs {
    /// The settings: these options over the config file's `[chunk]` table (and its
    /// top-level `chunks_dir`), over the defaults.
    pub fn resolve(
        self,
        working_dir: &Path,
    ) -> Result<(ChunkSettings, Vec<PluginSource>), ConfigError> {
        let file = read_chunk_table(self.config.as_deref(), working_dir)?.unwrap_or_default();
        let strategy = match self.strategy.or(file.strategy).as_deref() {
            None | Some("recursive") => Strategy::Recursive,
            Some("markdown") => Strategy::Markdown,
            Some("sentences") => Strategy::Sentences,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    option: format!("the config file's [chunk] strategy `{other}`"),
                    rule: "recursive, markdown or sentences".into(),
                });
            }
        };
        let tokenizer = self.tokenizer.or(file.tokenizer);
        let size_unit = match (self.size_unit.or(file.size_unit).as_deref(), tokenizer) {
            (None | Some("chars"), _) => SizeUnit::Chars,
            (Some("tokens"), Some(name)) if name == "cl100k_base" || name == "o200k_base" => {
                SizeUnit::Encoding(name)
            }
            (Some("tokens"), Some(model)) => SizeUnit::Model(model),
            (Some("tokens"), None) => {
                return Err(ConfigError::Invalid {
                    option: "--tokenizer".into(),
                    rule: "given with --size-unit tokens: an OpenAI encoding (cl100k_base, o200k_base) or a GGUF model whose tokens count".into(),
                });
            }
            (Some(other), _) => {
                return Err(ConfigError::Invalid {
                    option: format!("--size-unit `{other}`"),
                    rule: "chars or tokens".into(),
                });
            }
        };
        let inputs = if self.inputs.is_empty() {
            file.inputs
        } else {
            self.inputs
        };
        if inputs.is_empty() {
            return Err(ConfigError::Missing {
                what: "the documents to chunk",
                flag: "files or folders (tdg chunk docs/ --chunks-dir chunks)",
                variable: "the config file's [chunk] inputs",
            });
        }
        let chunks_dir = self
            .chunks_dir
            .or(file.chunks_dir)
            .ok_or(ConfigError::Missing {
                what: "the chunks folder",
                flag: "--chunks-dir",
                variable: "GENERATOR_PROCESS_DIR",
            })?;
        let loaders = if self.loader.is_empty() {
            file.loader
        } else {
            self.loader
        };
        let settings = ChunkSettings {
            inputs,
            chunks_dir,
            strategy,
            chunk_size: self
                .chunk_size
                .or(file.chunk_size)
                .unwrap_or(DEFAULT_CHUNK_SIZE),
            chunk_overlap: self
                .chunk_overlap
                .or(file.chunk_overlap)
                .unwrap_or(DEFAULT_CHUNK_OVERLAP),
            size_unit,
            include: if self.include.is_empty() {
                file.include
            } else {
                self.include
            },
            exclude: if self.exclude.is_empty() {
                file.exclude
            } else {
                self.exclude
            },
            format: self.format.or(file.format).map(|f| f.to_lowercase()),
            html_full: self.html_full || file.html_full,
            force: self.force,
        };
        Ok((
            settings,
            loaders.into_iter().map(PluginSource::File).collect(),
        ))
    }
}

/// The config file's `[chunk]` table, with its top-level `chunks_dir` (generate's)
/// where the table has none.
fn read_chunk_table(
    explicit: Option<&Path>,
    working_dir: &Path,
) -> Result<Option<ChunkArgs>, ConfigError> {
    let Some(super::ConfigText { path, table, .. }) =
        super::read_config_text(explicit, working_dir)?
    else {
        return Ok(None);
    };
    let parse_error = |message: String| ConfigError::Parse {
        path: path.clone(),
        message,
    };
    let mut args: ChunkArgs = match table.get("chunk") {
        Some(chunk) => chunk
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| parse_error(format!("[chunk]: {}", e.message())))?,
        None => ChunkArgs::default(),
    };
    if args.chunks_dir.is_none() {
        args.chunks_dir = table
            .get("chunks_dir")
            .and_then(|dir| dir.as_str())
            .map(PathBuf::from);
    }
    Ok(Some(args))
}
