//! `tdg export`: a Q&A directory (or a combined `training_data.json`) to a dataset
//! folder that the Hugging Face Hub and `datasets.load_dataset` read as it is.
//!
//! ```text
//! OUT/README.md                              the dataset card (card)
//! OUT/data/train-00000-of-00001.parquet      one file, or shards, per split
//! OUT/data/validation-00000-of-00001.parquet
//! OUT/dataset_info.json                      LLaMA-Factory's entry (trainers)
//! ```
//!
//! Records are the format plugin's, exactly as `tdg convert` makes them. The export
//! reads the input twice, a document at a time: once to count pairs per document (or
//! chunk) and plan the splits ([`split`]), once to format and write. Files are written
//! under temporary names and renamed when everything is written ([`sink`]); Parquet
//! ([`parquet`]) gets the schema derived from every record ([`schema`]).
//!
//! One job per file: [`source`] reads the input; [`split`] plans; [`sink`] writes a
//! split's files; [`schema`] and [`parquet`] make Parquet; [`provenance`] gathers what
//! made the data from the checkpoint; [`card`] writes the dataset card; [`trainers`]
//! the trainers' configuration.

pub mod card;
pub mod manifest;
pub mod parquet;
pub mod provenance;
pub mod push;
pub mod schema;
pub mod sink;
pub mod source;
pub mod split;
pub mod trainers;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::outputs::training_file::training_example;
use crate::plugin::{FormatPlugin, PluginSource};

pub use split::{SplitBy, SplitPlan, SplitSpec};

/// The layout of the records in the dataset's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportType {
    /// JSON Lines (`.jsonl`).
    #[default]
    Jsonl,
    /// One JSON array a file (`.json`).
    Json,
    /// Apache Parquet (`.parquet`), the Hub's own format, with nested columns.
    Parquet,
}

impl ExportType {
    /// The files' extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportType::Jsonl => "jsonl",
            ExportType::Json => "json",
            ExportType::Parquet => "parquet",
        }
    }
}

/// What to export, and how.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// A Q&A directory, or a combined `training_data.json`.
    pub input: PathBuf,
    /// The dataset folder.
    pub output_dir: PathBuf,
    /// The format plugin, as given (for the card and the trainers' configuration).
    pub format: PluginSource,
    /// The format's `--format-opt KEY=VALUE` options.
    pub format_options: Vec<(String, String)>,
    pub output_type: ExportType,
    /// Where chat formats write the reasoning (`--reasoning-style`).
    pub reasoning_style: crate::task::ReasoningStyle,
    pub split: SplitSpec,
    pub split_by: SplitBy,
    pub seed: u64,
    /// Start a new file of a split after this many records (none: one file a split).
    pub max_rows_per_file: Option<u64>,
    /// Replace the files of an earlier export in the folder.
    pub overwrite: bool,
    /// What the card says that tdg cannot know.
    pub card: card::CardOptions,
}

/// One split as written.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitReport {
    pub name: String,
    pub rows: u64,
    /// Documents (or chunks, with `--split-by chunk`) in the split.
    pub units: u64,
    /// Its files, relative to the dataset folder.
    pub files: Vec<String>,
}

/// One source document as exported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentReport {
    pub name: String,
    /// Chunks with at least one exported pair.
    pub chunks: u64,
    pub pairs: u64,
    /// The names of the splits holding its pairs.
    pub splits: Vec<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct ExportReport {
    /// The splits that hold records, in the order asked for.
    pub splits: Vec<SplitReport>,
    /// Splits asked for that no unit went to.
    pub empty_splits: Vec<String>,
    pub documents: Vec<DocumentReport>,
    /// Pairs without a question or an answer, left out.
    pub skipped_pairs: u64,
    /// The Parquet files' schema.
    pub schema: Option<Arc<arrow_schema::Schema>>,
    /// The record fields of the first record, in order (for the trainers' configuration).
    pub record_fields: Vec<String>,
    pub row_groups: usize,
    /// Records made from pairs with reasoning (`--task reasoning`).
    pub with_reasoning: u64,
    /// Records made from conversations of more than one exchange.
    pub conversations: u64,
}

impl ExportReport {
    /// Records written in all.
    pub fn rows(&self) -> u64 {
        self.splits.iter().map(|split| split.rows).sum()
    }
}

/// Why an export stopped. Nothing of it is left in the dataset folder but what an
/// earlier export wrote.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("input {} does not exist: give a Q&A directory or a combined training_data.json", .0.display())]
    MissingInput(PathBuf),
    #[error("no *_qa.json files in {}: run tdg generate there first", .0.display())]
    NoDocuments(PathBuf),
    #[error("{} holds no pair with a question and an answer: nothing to export", .0.display())]
    NoPairs(PathBuf),
    #[error("cannot read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("cannot write {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    #[error(
        "{} already holds an exported dataset ({file}): pass --overwrite to replace it, or choose another --output-dir",
        dir.display()
    )]
    AlreadyExported { dir: PathBuf, file: String },
    #[error("document {document}, training pair {index}: the format plugin failed: {message}")]
    Format {
        document: String,
        index: usize,
        message: String,
    },
    #[error("document {document}, training pair {index}: {source}")]
    Schema {
        document: String,
        index: usize,
        source: schema::ShapeConflict,
    },
    #[error(transparent)]
    NotAnObject(#[from] schema::NotAnObject),
    #[error("cannot read the checkpoint for the card: {0}")]
    Checkpoint(#[from] crate::checkpoint::StoreError),
}

/// Where an export is built before it takes the previous one's place, inside the
/// dataset folder (so on the same file system, where a rename is atomic).
const STAGING_DIR: &str = ".tdg-export-staging";

/// Exports `request` through `format`, and writes the card and the trainers'
/// configuration.
///
/// The whole export is built aside ([`STAGING_DIR`]) and swapped in only when it is
/// complete: a failed or interrupted export (a full disk, Ctrl+C) leaves the previous
/// export as it was. The swap removes the previous card first and puts the new card
/// in last, so a folder is never a card over other data; and the card's manifest
/// (each data file's size and SHA-256) lets `tdg push` check that.
pub fn export(request: &ExportRequest, format: &FormatPlugin) -> Result<ExportReport, ExportError> {
    let source = source::Source::open(&request.input)?;
    let provenance = provenance::Provenance::gather(&source, request)?;
    check_folder(&request.output_dir, request.overwrite)?;
    let staging = request.output_dir.join(STAGING_DIR);
    let _ = std::fs::remove_dir_all(&staging);
    let built = build(request, format, &source, &provenance, &staging);
    let report = match built {
        Ok(report) => report,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    swap_in(&staging, &request.output_dir)?;
    Ok(report)
}

/// Writes the whole export into `staging`: data files, card, trainers' entries.
fn build(
    request: &ExportRequest,
    format: &FormatPlugin,
    source: &source::Source,
    provenance: &provenance::Provenance,
    staging: &Path,
) -> Result<ExportReport, ExportError> {
    let data_dir = staging.join("data");
    std::fs::create_dir_all(&data_dir).map_err(|e| ExportError::Write {
        path: data_dir.clone(),
        message: e.to_string(),
    })?;
    let report = write_splits(request, format, source, &data_dir)?;
    let files: Vec<String> = report
        .splits
        .iter()
        .flat_map(|split| split.files.iter().cloned())
        .collect();
    let files = manifest::of_files(staging, &files).map_err(|e| ExportError::Read {
        path: data_dir.clone(),
        message: e.to_string(),
    })?;
    card::write(staging, request, &report, provenance, &files)?;
    trainers::write_dataset_info(&request.output_dir, staging, request, &report)?;
    Ok(report)
}

/// Refuses a folder holding an earlier export unless `overwrite`.
fn check_folder(out_dir: &Path, overwrite: bool) -> Result<(), ExportError> {
    if overwrite {
        return Ok(());
    }
    if out_dir.join("README.md").exists() {
        return Err(ExportError::AlreadyExported {
            dir: out_dir.to_path_buf(),
            file: "README.md".into(),
        });
    }
    let data_dir = out_dir.join("data");
    let Ok(entries) = std::fs::read_dir(&data_dir) else {
        return Ok(());
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if sink::is_export_file(&name) && !name.starts_with('.') {
            return Err(ExportError::AlreadyExported {
                dir: out_dir.to_path_buf(),
                file: format!("data/{name}"),
            });
        }
    }
    Ok(())
}

/// Puts the export built in `staging` in the place of the previous one: the old card
/// goes first (from then on no card describes the old data), then the old data
/// files; the new data files and LLaMA-Factory's entries (merged with the folder's
/// others) come in, and the new card last. Files
/// of the folder that are not the export's are left alone.
fn swap_in(staging: &Path, out_dir: &Path) -> Result<(), ExportError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| ExportError::Write {
            path,
            message: e.to_string(),
        }
    };
    let remove = |path: &Path| match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(write_error(path)(error)),
        _ => Ok(()),
    };
    remove(&out_dir.join("README.md"))?;
    let data_dir = out_dir.join("data");
    std::fs::create_dir_all(&data_dir).map_err(write_error(&data_dir))?;
    let old = std::fs::read_dir(&data_dir).map_err(write_error(&data_dir))?;
    for entry in old.filter_map(Result::ok) {
        if sink::is_export_file(&entry.file_name().to_string_lossy()) {
            remove(&entry.path())?;
        }
    }
    let new_data = staging.join("data");
    let new = std::fs::read_dir(&new_data).map_err(write_error(&new_data))?;
    for entry in new.filter_map(Result::ok) {
        let target = data_dir.join(entry.file_name());
        std::fs::rename(entry.path(), &target).map_err(write_error(&target))?;
    }
    crate::atomic_file::sync_dir(&data_dir).map_err(write_error(&data_dir))?;
    for name in [trainers::DATASET_INFO_FILE, "README.md"] {
        let from = staging.join(name);
        if from.exists() {
            let target = out_dir.join(name);
            std::fs::rename(&from, &target).map_err(write_error(&target))?;
        }
    }
    crate::atomic_file::sync_dir(out_dir).map_err(write_error(out_dir))?;
    let _ = std::fs::remove_dir_all(staging);
    Ok(())
}

/// The unit key of a pair of `document`.
fn unit_key(split_by: SplitBy, document: &str, pair: &crate::qa_file::TrainingPair) -> String {
    match split_by {
        SplitBy::Document => document.to_string(),
        SplitBy::Chunk => split::chunk_key(document, &source::chunk_of(pair)),
    }
}

/// Plans the splits, formats every pair and writes the splits' files.
fn write_splits(
    request: &ExportRequest,
    format: &FormatPlugin,
    source: &source::Source,
    data_dir: &Path,
) -> Result<ExportReport, ExportError> {
    // First pass: pairs per unit, and per document.
    let mut units: HashMap<String, u64> = HashMap::new();
    let mut report = ExportReport::default();
    source.for_each_document(true, |document, pairs| {
        let mut chunks = std::collections::HashSet::new();
        let mut kept = 0;
        for pair in pairs {
            if !source::is_usable(pair) {
                report.skipped_pairs += 1;
                continue;
            }
            kept += 1;
            chunks.insert(source::chunk_of(pair));
            *units
                .entry(unit_key(request.split_by, document, pair))
                .or_insert(0) += 1;
        }
        report.documents.push(DocumentReport {
            name: document.to_string(),
            chunks: chunks.len() as u64,
            pairs: kept,
            splits: Vec::new(),
        });
        Ok(())
    })?;
    if units.is_empty() {
        return Err(ExportError::NoPairs(source.path().to_path_buf()));
    }
    if report.skipped_pairs > 0 {
        tracing::warn!(
            "{} pair(s) without a question or an answer left out",
            report.skipped_pairs
        );
    }
    let plan = SplitPlan::new(&request.split, request.seed, units);
    let names = request.split.names();
    let kind = match request.output_type {
        ExportType::Jsonl => sink::SinkKind::JsonLines,
        ExportType::Json => sink::SinkKind::JsonArray,
        ExportType::Parquet => sink::SinkKind::Spill,
    };
    let mut sinks: Vec<sink::SplitSink> = names
        .iter()
        .map(|name| sink::SplitSink::new(name, data_dir, kind, request.max_rows_per_file))
        .collect();
    let options = crate::outputs::training_file::plugin_options(&request.format_options);
    let mut shape = schema::Shape::Null;
    let mut document_splits: BTreeMap<String, std::collections::BTreeSet<usize>> = BTreeMap::new();
    // Second pass: format and write.
    source.for_each_document(false, |document, pairs| {
        for (index, pair) in pairs.iter().enumerate() {
            if !source::is_usable(pair) {
                continue;
            }
            let key = unit_key(request.split_by, document, pair);
            let Some(split) = plan.split_of(&key) else {
                continue;
            };
            let record = format
                .format_example(&training_example(pair, request.reasoning_style), &options)
                .map_err(|e| ExportError::Format {
                    document: document.to_string(),
                    index,
                    message: e.to_string(),
                })?;
            report.with_reasoning += u64::from(pair.reasoning.is_some());
            report.conversations += u64::from(!pair.follow_ups().is_empty());
            if report.record_fields.is_empty()
                && let Some(fields) = record.as_object()
            {
                report.record_fields = fields.keys().cloned().collect();
            }
            if kind == sink::SinkKind::Spill {
                shape.add(&record).map_err(|source| ExportError::Schema {
                    document: document.to_string(),
                    index,
                    source,
                })?;
            }
            sinks[split].write(&record)?;
            document_splits
                .entry(document.to_string())
                .or_default()
                .insert(split);
        }
        Ok(())
    })?;
    let arrow_schema = match kind {
        sink::SinkKind::Spill => Some(Arc::new(shape.schema()?)),
        _ => None,
    };
    for (index, sink) in sinks.into_iter().enumerate() {
        let name = &names[index];
        let (rows, bytes) = (sink.rows, sink.bytes);
        let mut parts = sink.finish()?;
        if rows == 0 {
            tracing::warn!(
                "split {name} is empty: no {} went to it (there are too few; use --split-by chunk or fewer splits)",
                request.split_by.name()
            );
            report.empty_splits.push(name.clone());
            continue;
        }
        if let Some(arrow_schema) = &arrow_schema {
            let spill = sink::SplitSink::spill_path(data_dir, name);
            let written = parquet::write_split(
                &spill,
                arrow_schema,
                data_dir,
                name,
                (rows, bytes),
                request.max_rows_per_file,
            )?;
            let _ = std::fs::remove_file(&spill);
            report.row_groups += written.row_groups;
            parts = written.parts;
        }
        // `data_dir` is the folder's `data/`: the files are named from the folder.
        let files = sink::publish(
            data_dir.parent().unwrap_or(data_dir),
            name,
            &parts,
            request.output_type.extension(),
        )?;
        report.splits.push(SplitReport {
            name: name.clone(),
            rows,
            units: plan.units[index],
            files,
        });
    }
    for document in &mut report.documents {
        document.splits = document_splits
            .get(&document.name)
            .map(|splits| splits.iter().map(|&s| names[s].clone()).collect())
            .unwrap_or_default();
    }
    report.schema = arrow_schema;
    Ok(report)
}
