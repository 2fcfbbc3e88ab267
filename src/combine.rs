//! `tdg combine`: every completed Q&A file in a directory merged into the original
//! tool's `training_data.json` (see `training_data.trimmed.json` in the reference
//! outputs). Documents whose status is not `completed` are skipped with a message.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::qa_file;
use crate::{atomic_file, pyjson, timestamp};

/// What `combine` did.
#[derive(Debug, Default)]
pub struct CombineReport {
    pub documents: usize,
    pub pairs: usize,
    /// Files skipped because their status is not `completed`, with the status.
    pub skipped: Vec<(String, String)>,
    /// Files that could not be read, with why.
    pub failed: Vec<(String, String)>,
}

/// Why `combine` could not run.
#[derive(Debug, thiserror::Error)]
pub enum CombineError {
    #[error("cannot list the Q&A directory {}: {source}", path.display())]
    ListDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no *_qa.json files in {}", .0.display())]
    NoQaFiles(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Combines the Q&A files of `qa_dir` into `output_file`.
pub fn combine(qa_dir: &Path, output_file: &Path) -> Result<CombineReport, CombineError> {
    let names: Vec<String> = qa_file::list_qa_files(qa_dir)
        .map_err(|source| CombineError::ListDir {
            path: qa_dir.into(),
            source,
        })?
        .iter()
        .map(|path| qa_file::file_name(path))
        .collect();
    if names.is_empty() {
        return Err(CombineError::NoQaFiles(qa_dir.into()));
    }
    let mut report = CombineReport::default();
    let mut documents = Vec::new();
    let mut pairs = Vec::new();
    let mut sources = Vec::new();
    let mut processing_config = None;
    for name in names {
        let path = qa_dir.join(&name);
        let mut file = match read_object(&path) {
            Ok(file) => file,
            Err(message) => {
                tracing::error!("{message}");
                report.failed.push((name, message));
                continue;
            }
        };
        let status = file
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        if status != "completed" {
            tracing::warn!(
                "skipping {name}: its status is `{status}`, not `completed` (finish it with generate --resume)"
            );
            report.skipped.push((name, status));
            continue;
        }
        let field = |file: &Map<String, Value>, key: &str| {
            file.get(key).cloned().unwrap_or_else(|| json!({}))
        };
        processing_config.get_or_insert_with(|| config_of(&file));
        let doc_pairs = match file.remove("training_pairs") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        documents.push(json!({
            "file_info": field(&file, "metadata"),
            "processing_info": field(&file, "processing_info"),
            "qa_generation_info": field(&file, "qa_generation_info"),
            "summary": field(&file, "summary"),
            "qa_pairs_count": doc_pairs.len(),
            "source_file": name,
        }));
        pairs.extend(doc_pairs);
        sources.push(name);
    }
    report.documents = documents.len();
    report.pairs = pairs.len();
    let combined = json!({
        "metadata": {
            "generated_by": "qa_combiner",
            "generated_at": timestamp::now(),
            "total_qa_pairs": pairs.len(),
            "num_documents": documents.len(),
            "source_qa_files": sources,
            "processing_config": processing_config.unwrap_or_else(|| json!({})),
        },
        "documents": documents,
        "training_pairs": pairs,
    });
    if let Some(dir) = output_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| CombineError::Write {
            path: dir.into(),
            source,
        })?;
    }
    atomic_file::write_with(output_file, |out| pyjson::write_pretty(out, &combined)).map_err(
        |source| CombineError::Write {
            path: output_file.into(),
            source,
        },
    )?;
    Ok(report)
}

fn read_object(path: &Path) -> Result<Map<String, Value>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!(
            "{} is not a Q&A file: it holds no JSON object",
            path.display()
        )),
        Err(e) => Err(format!("{} is not valid JSON: {e}", path.display())),
    }
}

/// The original's `processing_config`, from the first document.
fn config_of(file: &Map<String, Value>) -> Value {
    let processing = file
        .get("processing_info")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let generation = file
        .get("qa_generation_info")
        .cloned()
        .unwrap_or_else(|| json!({}));
    json!({
        "chunk_size": processing.get("chunk_size"),
        "chunk_overlap": processing.get("chunk_overlap"),
        "splitting_strategy": processing.get("splitting_strategy"),
        "questions_per_chunk": generation.get("questions_per_chunk"),
        "temperature": generation.get("temperature"),
        "max_tokens": generation.get("max_tokens"),
        "llm_provider": generation.get("provider"),
        "model_used": generation.get("model"),
    })
}
