//! `tdg convert`: Q&A files to training files, one record per pair, through a format
//! plugin (Alpaca by default).
//!
//! As in the original tool, INPUT is one `*_qa.json` file or a directory of them, and
//! each Q&A file `<stem>_qa.json` becomes `<stem><suffix>.<extension>` (for Alpaca
//! `<stem>_trainingdata.jsonl`). Pairs without a question or an answer are skipped
//! with a warning; a file that cannot be read is reported and the others go on.

use std::path::{Path, PathBuf};

use crate::outputs::training_file::{
    OutputType, plugin_options, training_file_path, write_training_file,
};
use crate::plugin::{FormatPlugin, types::KeyValue};
use crate::qa_file;

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
    /// Where chat formats write the reasoning.
    pub reasoning_style: crate::task::ReasoningStyle,
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
        match convert_file(&input, &output, format, &options, request) {
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
    request: &ConvertRequest,
) -> Result<ConvertedFile, String> {
    let pairs = qa_file::read_pairs(input).map_err(|e| e.to_string())?;
    let written = write_training_file(
        &pairs,
        &input.display().to_string(),
        output,
        format,
        options,
        request.output_type,
        request.reasoning_style,
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
