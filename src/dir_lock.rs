//! One writer per Q&A directory: every command that writes a Q&A directory
//! (`generate`, `validate`, `reparse`) first takes [`lock`] on it.
//!
//! Two runs on one directory would both write its Q&A files, and the last writer
//! would leave finished documents marked `in_progress`. The lock is an OS file lock
//! (`flock` on Unix, `LockFileEx` on Windows) on `.tdg.lock` in the directory: it
//! dies with its process, so a run killed with SIGKILL never blocks the next one.
//! The file holds the owner's pid, for the message the second process gets.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in the Q&A directory.
pub const LOCK_FILE: &str = ".tdg.lock";

/// Why the directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum DirLockError {
    #[error(
        "another tdg process ({owner}) is writing to {}: wait for it to finish, or stop it, before running this command on the same directory",
        dir.display()
    )]
    Busy { dir: PathBuf, owner: String },
    #[error("cannot lock {}: {source}. Check the directory and its permissions", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DirLockError {
    /// Another process holds the directory, or it could not be locked: either may
    /// pass.
    pub fn retry(&self) -> crate::failure::Retry {
        crate::failure::Retry::Helps
    }
}

/// The held lock; it is released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes the exclusive lock on `dir` (which must exist), or says which process
/// holds it.
pub fn lock(dir: &Path) -> Result<DirLock, DirLockError> {
    let path = dir.join(LOCK_FILE);
    let io = |source| DirLockError::Io {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut owner = String::new();
            let _ = file.read_to_string(&mut owner);
            let owner = match owner.trim().parse::<u32>() {
                Ok(pid) => format!("pid {pid}"),
                Err(_) => "pid unknown".to_string(),
            };
            return Err(DirLockError::Busy {
                dir: dir.to_path_buf(),
                owner,
            });
        }
        Err(TryLockError::Error(source)) => return Err(io(source)),
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(DirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_owner_and_a_released_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        let message = lock(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        drop(held);
        lock(dir.path()).unwrap();
    }
}
