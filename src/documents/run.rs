//! One `tdg chunk` run: each document read, split and written in turn (so memory is
//! bounded by the largest document, not the folder), one failure never stopping the
//! others, a document whose bytes and settings are those its chunk file records left
//! as it is, and the summary written at the end, also when the run is stopped.

use std::ops::Range;
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::chunk_file::{self, Processing, SourceInfo, SplitPart};
use super::decode::decode_text;
use super::discover::{Filter, discover};
use super::recursive::{RecursiveSplitter, python_strip};
use super::structured::{HeadingIndex, Sizer, openai_encoding, split_markdown, split_sentences};
use super::summary::{DocumentReport, Outcome, Summary};
use super::{ChunkSettings, SizeUnit, Strategy, TEXT_EXTENSIONS};
use crate::chunks::CHUNKS_FILE_SUFFIX;
use crate::plugin::loader::{DocumentLoaders, LoadOptions, LoadedPart};

/// A page with fewer non-space characters than this has "almost no text".
pub const NEARLY_EMPTY_PAGE: usize = 20;

/// Bumped when a change here would split the same bytes differently, so that every
/// chunk file is made again.
const SPLITTER_VERSION: &str = "tdg-chunk-1";

/// Why a run cannot start (a single document's failure is in the summary instead).
#[derive(Debug, thiserror::Error)]
pub enum ChunkRunError {
    #[error(transparent)]
    Inputs(#[from] super::discover::DiscoverError),
    #[error("--chunk-overlap {overlap} must be smaller than --chunk-size {size}")]
    Overlap { size: usize, overlap: usize },
    #[error("--chunk-size must be at least 1")]
    ZeroSize,
    #[error(
        "unknown encoding `{0}` for --size-unit: give chars, cl100k_base, o200k_base, or tokens with --model"
    )]
    UnknownEncoding(String),
    #[error("cannot load the tokenizer of {model} for --size-unit tokens: {reason}")]
    Tokenizer { model: String, reason: String },
    #[error("unknown --format `{format}`: tdg reads text, markdown{known}")]
    UnknownFormat { format: String, known: String },
    #[error("cannot write to the chunks folder {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ChunkRunError {
    /// A folder that cannot be written may pass (a full disk); the rest are settings.
    pub fn retry(&self) -> crate::failure::Retry {
        match self {
            ChunkRunError::Write { .. } => crate::failure::Retry::Helps,
            _ => crate::failure::Retry::Futile,
        }
    }
}

/// What a run did.
pub struct ChunkRun {
    pub summary: Summary,
}

/// Reports each document as it is done: the file and its size in bytes.
pub type OnDocument<'a> = &'a dyn Fn(&Path, u64);

/// Chunks the documents `settings` name into `settings.chunks_dir`.
pub fn chunk_documents(
    settings: &ChunkSettings,
    loaders: &DocumentLoaders,
    cancel: &CancellationToken,
    on_document: OnDocument,
) -> Result<ChunkRun, ChunkRunError> {
    if settings.chunk_size == 0 {
        return Err(ChunkRunError::ZeroSize);
    }
    if settings.chunk_overlap >= settings.chunk_size {
        return Err(ChunkRunError::Overlap {
            size: settings.chunk_size,
            overlap: settings.chunk_overlap,
        });
    }
    if let Some(format) = &settings.format
        && !is_text_format(format)
        && !loaders.formats().contains(format)
    {
        let known: String = loaders.formats().iter().map(|f| format!(", {f}")).collect();
        return Err(ChunkRunError::UnknownFormat {
            format: format.clone(),
            known,
        });
    }
    let sizer = sizer(&settings.size_unit)?;
    let filter = Filter::new(&settings.include, &settings.exclude)?;
    let write_error = |source| ChunkRunError::Write {
        path: settings.chunks_dir.clone(),
        source,
    };
    std::fs::create_dir_all(&settings.chunks_dir).map_err(write_error)?;
    crate::atomic_file::remove_stale_temporaries(&settings.chunks_dir);
    let (documents, unreadable) = discover(&settings.inputs, &filter, &settings.chunks_dir)?;
    let mut summary = Summary {
        processed_at: crate::timestamp::now(),
        splitting_strategy: settings.strategy.name().into(),
        chunk_size: settings.chunk_size,
        chunk_overlap: settings.chunk_overlap,
        size_unit: unit_name(&settings.size_unit),
        unreadable: unreadable
            .into_iter()
            .map(|(path, why)| (path.display().to_string(), why))
            .collect(),
        ..Summary::default()
    };
    for document in documents {
        if cancel.is_cancelled() {
            summary.interrupted = true;
            break;
        }
        let extension = extension_of(&document.path);
        let format = match &settings.format {
            Some(format) => Some(format.clone()),
            None if TEXT_EXTENSIONS.contains(&extension.as_str()) => Some(extension.clone()),
            None => loaders.format_for_extension(&extension),
        };
        let Some(format) = format else {
            summary.skipped += 1;
            summary
                .skipped_by_extension
                .entry(if extension.is_empty() {
                    String::new()
                } else {
                    format!(".{extension}")
                })
                .or_default()
                .push(document.path.display().to_string());
            continue;
        };
        let report = chunk_one(settings, loaders, &sizer, &document, &format);
        let size = std::fs::metadata(&document.path)
            .map(|m| m.len())
            .unwrap_or(0);
        on_document(&document.path, size);
        if let Some(error) = &report.error {
            tracing::warn!("{}: {error}", document.path.display());
        }
        for page in &report.pages_without_text {
            tracing::warn!(
                "{}: page {page} has almost no text (a scan without a text layer?): run OCR on it to chunk its words",
                document.path.display()
            );
        }
        summary.add(report);
    }
    summary.write(&settings.chunks_dir).map_err(write_error)?;
    Ok(ChunkRun { summary })
}

/// Reads, splits and writes one document; what happened, never an error.
fn chunk_one(
    settings: &ChunkSettings,
    loaders: &DocumentLoaders,
    sizer: &Sizer,
    document: &super::discover::Document,
    format: &str,
) -> DocumentReport {
    let mut report = DocumentReport {
        source: document.path.display().to_string(),
        stem: document.stem.clone(),
        outcome: Outcome::Failed,
        format: format.to_string(),
        chunks: None,
        pages: None,
        pages_without_text: Vec::new(),
        renamed: document
            .renamed
            .then(|| format!("another document is also `{}`", own_stem(&document.path))),
        error: None,
    };
    let target = settings
        .chunks_dir
        .join(format!("{}{CHUNKS_FILE_SUFFIX}", document.stem));
    let bytes = match std::fs::read(&document.path) {
        Ok(bytes) => bytes,
        Err(error) => {
            report.error = Some(format!("cannot read it: {error}"));
            return report;
        }
    };
    let fingerprint = fingerprint(settings, format, &bytes);
    if !settings.force
        && let Ok(existing) = std::fs::read(&target)
        && let Some((recorded, total)) = chunk_file::recorded_fingerprint(&existing)
        && recorded == fingerprint
    {
        report.outcome = Outcome::Unchanged;
        report.chunks = Some(total);
        return report;
    }
    let name = document
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parts = if is_text_format(format) {
        match decode_text(&bytes) {
            Ok(text) => vec![LoadedPart {
                text,
                ..LoadedPart::default()
            }],
            Err(error) => {
                report.error = Some(error.to_string());
                return report;
            }
        }
    } else {
        let options = LoadOptions {
            html_full: settings.html_full,
        };
        match loaders.load(format, &name, &bytes, &options) {
            Ok(parts) => parts,
            Err(error) => {
                report.error = Some(format!("the {format} loader failed: {error}"));
                return report;
            }
        }
    };
    let file_size = bytes.len() as u64;
    drop(bytes);
    let paged = parts.iter().any(|part| part.page.is_some());
    if paged {
        report.pages = Some(parts.len());
        report.pages_without_text = parts
            .iter()
            .filter(|part| {
                part.text.chars().filter(|c| !c.is_whitespace()).count() < NEARLY_EMPTY_PAGE
            })
            .filter_map(|part| part.page)
            .collect();
    }
    // Plain text has no headings; Markdown and what loaders extract mark them with `#`.
    let has_headings = format != "txt";
    let splits: Vec<SplitPart> = parts
        .iter()
        .map(|part| {
            let chunks = split(settings, sizer, &part.text);
            let headings = has_headings.then(|| {
                let index = HeadingIndex::new(&part.text);
                chunks
                    .iter()
                    .map(|range| index.path_at(range.start))
                    .collect()
            });
            SplitPart {
                part,
                chunks,
                headings,
            }
        })
        .collect();
    let source = std::path::absolute(&document.path).unwrap_or_else(|_| document.path.clone());
    let source = source.display().to_string();
    let file_type = match extension_of(&document.path) {
        extension if extension.is_empty() => String::new(),
        _ => document
            .path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default(),
    };
    let unit = match &settings.size_unit {
        SizeUnit::Chars => None,
        other => Some(unit_name(other)),
    };
    let text = chunk_file::render(
        &SourceInfo {
            source: &source,
            file_name: &name,
            file_type: &file_type,
            file_size,
        },
        &Processing {
            strategy: settings.strategy.name(),
            chunk_size: settings.chunk_size,
            chunk_overlap: settings.chunk_overlap,
            size_unit: unit.as_deref(),
            fingerprint: &fingerprint,
        },
        &splits,
    );
    if let Err(error) = crate::atomic_file::write(&target, text.as_bytes()) {
        report.error = Some(format!("cannot write {}: {error}", target.display()));
        return report;
    }
    report.outcome = Outcome::Written;
    report.chunks = Some(splits.iter().map(|s| s.chunks.len()).sum());
    report
}

/// The chunks of one part's text under the run's strategy.
fn split(settings: &ChunkSettings, sizer: &Sizer, text: &str) -> Vec<Range<usize>> {
    let (size, overlap) = (settings.chunk_size, settings.chunk_overlap);
    match (settings.strategy, sizer) {
        (Strategy::Recursive, Sizer::Chars) => RecursiveSplitter {
            chunk_size: size,
            chunk_overlap: overlap,
        }
        .split(text),
        (Strategy::Recursive, _) => split_recursive_measured(text, sizer, size, overlap),
        (Strategy::Markdown, _) => split_markdown(text, sizer, size, overlap)
            .unwrap_or_else(|_| vec![python_strip(text, 0..text.len())]),
        (Strategy::Sentences, _) => split_sentences(text, sizer, size, overlap),
    }
}

/// The recursive strategy in tokens: text-splitter's plain-text splitter (paragraphs,
/// lines, sentences, words) measured by the sizer.
fn split_recursive_measured(
    text: &str,
    sizer: &Sizer,
    size: usize,
    overlap: usize,
) -> Vec<Range<usize>> {
    let Ok(config) = text_splitter::ChunkConfig::new(size).with_overlap(overlap) else {
        return vec![python_strip(text, 0..text.len())];
    };
    text_splitter::TextSplitter::new(config.with_sizer(sizer))
        .chunk_indices(text)
        .map(|(start, chunk)| start..start + chunk.len())
        .collect()
}

fn sizer(unit: &SizeUnit) -> Result<Sizer, ChunkRunError> {
    match unit {
        SizeUnit::Chars => Ok(Sizer::Chars),
        SizeUnit::Encoding(name) => openai_encoding(name)
            .map(Sizer::OpenAi)
            .ok_or_else(|| ChunkRunError::UnknownEncoding(name.clone())),
        #[cfg(feature = "embedded")]
        SizeUnit::Model(model) => crate::provider::embedded::vocabulary(model)
            .map(|vocabulary| Sizer::Model(Box::new(vocabulary)))
            .map_err(|error| ChunkRunError::Tokenizer {
                model: model.clone(),
                reason: error.to_string(),
            }),
        #[cfg(not(feature = "embedded"))]
        SizeUnit::Model(model) => Err(ChunkRunError::Tokenizer {
            model: model.clone(),
            reason: crate::provider::embedded::vocabulary(model)
                .unwrap_err()
                .to_string(),
        }),
    }
}

/// The unit's name in the summary and `processing_info.size_unit`.
fn unit_name(unit: &SizeUnit) -> String {
    match unit {
        SizeUnit::Chars => "chars".into(),
        SizeUnit::Encoding(name) => format!("tokens:{name}"),
        SizeUnit::Model(model) => format!("tokens:{model}"),
    }
}

/// What decides a document's chunks: its bytes, the settings and the splitter's
/// version.
fn fingerprint(settings: &ChunkSettings, format: &str, bytes: &[u8]) -> String {
    let described = serde_json::json!({
        "splitter": SPLITTER_VERSION,
        "strategy": settings.strategy.name(),
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "size_unit": unit_name(&settings.size_unit),
        "format": format,
        "html_full": settings.html_full,
        "content": crate::digest::sha256_hex(bytes),
    });
    crate::digest::sha256_hex(described.to_string().as_bytes())
}

fn is_text_format(format: &str) -> bool {
    TEXT_EXTENSIONS.contains(&format) || format == "text"
}

/// The file's extension, lower-case, without its dot.
fn extension_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

fn own_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
