//! Why a run could not start or had to stop ([`GenerateError`]), and whether running
//! the same task again may help ([`Retry`]): the exit codes a scheduler acts on.

pub use crate::failure::Retry;
use std::path::PathBuf;

use crate::checkpoint::StoreError;
use crate::plugin::PluginError;
use crate::provider::ModelError;

/// Why a run could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the chunks directory {} does not exist: give --chunks-dir (or GENERATOR_PROCESS_DIR)", .0.display())]
    NoChunksDir(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the Q&A directory {}: {source}. Check the path and its permissions", path.display())]
    CreateQaDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no *_chunks.json files in {}", .0.display())]
    NoChunkFiles(PathBuf),
    /// The chunk files cannot be told apart (two stems the same).
    #[error(transparent)]
    Chunks(#[from] crate::chunks::ChunkFileError),
    #[error(
        "{} already holds a run ({what}). Use --resume to continue it, or --overwrite to start again from nothing",
        qa_dir.display()
    )]
    ExistingRun { qa_dir: PathBuf, what: String },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] crate::dir_lock::DirLockError),
    /// The writer could not record, and says what to do.
    #[error("{0}")]
    Recording(String),
    /// `--batch-api` with a provider that has none.
    #[error("{0}")]
    NoBatchApi(String),
    #[error("the prompt for chunk {position} of {} cannot be built: {source}", file.display())]
    Prompt {
        file: PathBuf,
        position: u32,
        source: PluginError,
    },
    #[error("the run stopped: {0}")]
    Model(ModelError),
    #[error(
        "the run stopped on an internal error (a bug; please report it): {0}. Everything recorded is saved: continue with --resume"
    )]
    Internal(String),
    #[error("the run stopped: {error} Models available there: {available}")]
    UnknownModel {
        error: ModelError,
        available: String,
    },
}

impl GenerateError {
    /// Whether running the task again may help.
    pub fn retry(&self) -> Retry {
        match self {
            GenerateError::Model(error) => error.retry(),
            GenerateError::Io { .. }
            | GenerateError::Store(_)
            | GenerateError::Lock(_)
            | GenerateError::Recording(_)
            | GenerateError::Internal(_) => Retry::Helps,
            GenerateError::NoChunksDir(_)
            | GenerateError::CreateQaDir { .. }
            | GenerateError::NoChunkFiles(_)
            | GenerateError::Chunks(_)
            | GenerateError::ExistingRun { .. }
            | GenerateError::NoBatchApi(_)
            | GenerateError::Plugin(_)
            | GenerateError::Prompt { .. }
            | GenerateError::UnknownModel { .. } => Retry::Futile,
        }
    }
}
