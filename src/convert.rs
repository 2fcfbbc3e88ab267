//! `tdg convert`: Q&A files to training files, one record per pair, through a format
//! plugin (Alpaca by default).
//!
//! As in the original tool, INPUT is one `*_qa.json` file or a directory of them, and
//! each Q&A file `<stem>_qa.json` becomes `<stem><suffix>.<extension>` (for Alpaca
//! `<stem>_trainingdata.jsonl`). Pairs without a question or an answer are skipped
//! with a warning; a file that cannot be read is reported and the others go on.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::atomic_file;
use crate::plugin::{FormatPlugin, PluginError, format, types::KeyValue};
use crate::pyjson;
use crate::qa_file::{self, TrainingPair};

/// What to convert and where to.
#[derive(Debug, Clone)]
pub struct ConvertRequest {
    /// A Q&A file, or a directory of `*_qa.json` files.
    pub input: PathBuf,
    /// Where training files go; by default beside the input.
    pub output_dir: Option<PathBuf>,
    /// The output file name, for a single input file (joined to `output_dir`).
    pub output_file: Option<PathBuf>,
    /// The format's `--format-opt KEY=VALUE` options.
    pub format_options: Vec<(String, String)>,
    /// JSON Lines, or one JSON array.
    pub output_type: OutputType,
}

/// How records are laid out in a training file.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OutputType {
    /// One JSON record a line (`.jsonl`, or the format's extension).
    #[default]
    Jsonl,
    /// One JSON array of records (`.json`).
    Json,
}

/// The outcome of one input file.
#[derive(Debug)]
pub struct ConvertedFile {
    pub input: PathBuf,
    pub output: PathBuf,
    pub records: usize,
    pub skipped_pairs: usize,
}

/// What a conversion did: the files written and the files that failed.
#[derive(Debug, Default)]
pub struct ConvertReport {
    pub converted: Vec<ConvertedFile>,
    pub failed: Vec<(PathBuf, String)>,
}

/// Errors that stop a conversion before any file is read.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("input {} does not exist: give a *_qa.json file or a directory of them", .0.display())]
    MissingInput(PathBuf),
    #[error("cannot list {}: {source}", path.display())]
    ListDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no *_qa.json files in {}", .0.display())]
    NoInputs(PathBuf),
    #[error("--output-file names one output, but {} holds {count} Q&A files: use --output-dir instead", input.display())]
    OutputFileForMany { input: PathBuf, count: usize },
}

/// Converts every Q&A file named by `request` with `format`.
pub fn convert(
    request: &ConvertRequest,
    format: &FormatPlugin,
) -> Result<ConvertReport, ConvertError> {
    let inputs = list_inputs(&request.input)?;
    if request.output_file.is_some() && inputs.len() > 1 {
        return Err(ConvertError::OutputFileForMany {
            input: request.input.clone(),
            count: inputs.len(),
        });
    }
    let output_dir = match &request.output_dir {
        Some(dir) => dir.clone(),
        None if request.input.is_dir() => request.input.clone(),
        None => request
            .input
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    let options = plugin_options(&request.format_options);
    let info = format.info();
    let mut report = ConvertReport::default();
    for input in inputs {
        let output = match &request.output_file {
            Some(file) => output_dir.join(file),
            None => training_file_path(
                &output_dir,
                &qa_file::stem_of(&input),
                info,
                request.output_type,
            ),
        };
        match convert_file(&input, &output, format, &options, request.output_type) {
            Ok(converted) => report.converted.push(converted),
            Err(message) => {
                tracing::error!("{message}");
                report.failed.push((input, message));
            }
        }
    }
    Ok(report)
}

/// The Q&A files named by `input`, sorted by name.
fn list_inputs(input: &Path) -> Result<Vec<PathBuf>, ConvertError> {
    if input.is_file() {
        return Ok(vec![input.to_path_buf()]);
    }
    if !input.is_dir() {
        return Err(ConvertError::MissingInput(input.to_path_buf()));
    }
    let files = qa_file::list_qa_files(input).map_err(|source| ConvertError::ListDir {
        path: input.into(),
        source,
    })?;
    if files.is_empty() {
        return Err(ConvertError::NoInputs(input.to_path_buf()));
    }
    Ok(files)
}

/// Converts one file; the error is a message that names the file.
fn convert_file(
    input: &Path,
    output: &Path,
    format: &FormatPlugin,
    options: &[KeyValue],
    output_type: OutputType,
) -> Result<ConvertedFile, String> {
    let pairs = qa_file::read_pairs(input).map_err(|e| e.to_string())?;
    let written = write_training_file(
        &pairs,
        &input.display().to_string(),
        output,
        format,
        options,
        output_type,
    )?;
    tracing::info!(
        "{} -> {} ({} records)",
        input.display(),
        output.display(),
        written.records
    );
    Ok(ConvertedFile {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        records: written.records,
        skipped_pairs: written.skipped_pairs,
    })
}

/// What [`write_training_file`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub records: usize,
    pub skipped_pairs: usize,
}

/// Writes `pairs` (from `source`, for messages) to `output` through `format`,
/// atomically: one record a line, or one JSON array. Pairs without a question or an
/// answer are skipped with a warning.
pub fn write_training_file(
    pairs: &[TrainingPair],
    source: &str,
    output: &Path,
    format: &FormatPlugin,
    options: &[KeyValue],
    output_type: OutputType,
) -> Result<Written, String> {
    let mut records = Vec::with_capacity(pairs.len());
    let mut skipped_pairs = 0;
    for (index, pair) in pairs.iter().enumerate() {
        if pair.question.is_empty() || pair.answer.is_empty() {
            let missing = if pair.question.is_empty() {
                "question"
            } else {
                "answer"
            };
            tracing::warn!("{source}: skipping training pair {index}: it has no {missing}");
            skipped_pairs += 1;
            continue;
        }
        let record = format
            .format_example(&training_example(pair), options)
            .map_err(|e: PluginError| format!("{source}: training pair {index}: {e}"))?;
        records.push(record);
    }
    if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let written = atomic_file::write_with(output, |file| match output_type {
        OutputType::Jsonl => records.iter().try_for_each(|record| {
            file.write_all(pyjson::to_line(record).as_bytes())?;
            file.write_all(b"\n")
        }),
        OutputType::Json => pyjson::write_pretty(file, &records),
    });
    written.map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(Written {
        records: records.len(),
        skipped_pairs,
    })
}

/// Where a format's training file for `stem` goes in `dir`.
pub fn training_file_path(
    dir: &Path,
    stem: &str,
    info: &format::FormatInfo,
    output_type: OutputType,
) -> PathBuf {
    let extension = match output_type {
        OutputType::Jsonl => info.extension.as_str(),
        OutputType::Json => "json",
    };
    dir.join(format!("{stem}{}.{extension}", info.file_suffix))
}

/// The format plugin's view of a pair.
pub fn training_example(pair: &TrainingPair) -> format::TrainingExample {
    format::TrainingExample {
        question: pair.question.clone(),
        answer: pair.answer.clone(),
        source_text: pair.source_text.clone(),
        provenance: format::Provenance {
            source_file: pair.source_file.clone(),
            file_name: pair.file_name.clone(),
            file_type: pair.file_type.clone(),
            chunk_id: pair.chunk_id.clone(),
            chunk_index: pair.chunk_index,
            chunk_start: pair.chunk_start,
            chunk_end: pair.chunk_end,
        },
    }
}

/// `--format-opt KEY=VALUE` options as the format plugin takes them.
pub fn plugin_options(options: &[(String, String)]) -> Vec<KeyValue> {
    options
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}
