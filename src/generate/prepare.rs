//! Before a run asks the model anything: the Q&A directory is checked (an existing
//! run is never overwritten silently), and the prompt of the first chunk with text is
//! built, so that a broken template is reported with its file and line at once.

use std::path::PathBuf;

use super::{GenerateError, pipeline, writer};
use crate::checkpoint::{Access, CheckpointStore, STORE_FILE};
use crate::chunks;
use crate::generate::settings::GenerateSettings;
use crate::prompt::PromptBuilder;

/// Builds the prompt for the first chunk with text, so that a broken template is
/// reported, with its file and line, before any model is called. Returns the file
/// that chunk came from, for the producer to start with instead of reading it again.
pub(super) fn check_prompt(
    prompt: &PromptBuilder,
    files: &[PathBuf],
) -> Result<Option<pipeline::Preloaded>, GenerateError> {
    for path in files {
        let Ok(file) = chunks::load_chunk_file(path) else {
            continue;
        };
        let checkable = |c: &&chunks::Chunk| {
            !c.text.trim().is_empty() && c.text.len() <= chunks::MAX_CHUNK_TEXT_BYTES
        };
        if let Some(chunk) = file.chunks.iter().find(checkable) {
            prompt
                .build(&file, chunk)
                .map_err(|source| GenerateError::Prompt {
                    file: path.clone(),
                    position: chunk.position,
                    source,
                })?;
            return Ok(Some(pipeline::Preloaded {
                path: path.clone(),
                file,
            }));
        }
    }
    Ok(None)
}

/// Refuses to overwrite an existing run silently; with `--overwrite`, clears it.
pub(super) fn prepare_qa_dir(settings: &GenerateSettings) -> Result<(), GenerateError> {
    let store_path = CheckpointStore::path_in(&settings.qa_dir);
    let qa_files: Vec<String> = crate::qa_file::list_qa_files(&settings.qa_dir)
        .map_err(|source| GenerateError::Io {
            path: settings.qa_dir.clone(),
            source,
        })?
        .iter()
        .map(|path| crate::qa_file::file_name(path))
        .collect();
    let has_store = store_path.is_file();
    if settings.resume || (!has_store && qa_files.is_empty()) {
        return Ok(());
    }
    if settings.overwrite {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(settings.qa_dir.join(format!("{STORE_FILE}{suffix}")));
        }
        let _ = std::fs::remove_file(settings.qa_dir.join(writer::FAILURE_LOG));
        for name in &qa_files {
            let _ = std::fs::remove_file(settings.qa_dir.join(name));
        }
        return Ok(());
    }
    let what = if has_store {
        match CheckpointStore::open_existing(&settings.qa_dir, Access::ReadOnly)
            .and_then(|s| s.counts())
        {
            Ok((chunks, documents)) => {
                format!("{chunks} chunks of {documents} documents in its checkpoint")
            }
            Err(_) => "a checkpoint".into(),
        }
    } else {
        format!("{} Q&A files", qa_files.len())
    };
    Err(GenerateError::ExistingRun {
        qa_dir: settings.qa_dir.clone(),
        what,
    })
}
