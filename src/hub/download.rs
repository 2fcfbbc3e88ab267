//! Downloading one blob into the cache: resumable, checked, and atomic.
//!
//! Bytes accumulate in `blobs/<etag>.incomplete`. A download that is cut off keeps
//! what it had; the next attempt (in this run, or the next) asks for the rest with
//! `Range: bytes=N-`, and starts again from zero if the server sends the whole file
//! instead. The SHA-256 is computed as bytes arrive (over the partial file first,
//! when resuming); only a file with the Hub's size and SHA-256 is renamed to
//! `blobs/<etag>`, and one that fails the check is deleted. A lock on the blob
//! keeps two processes from writing one download at once.
//!
//! Network reads run on the async runtime; writing and hashing run on a blocking
//! thread, fed through a bounded channel.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use reqwest::header::CONTENT_RANGE;
use reqwest::{StatusCode, Url};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::cache::RepoCache;
use super::error::HubError;
use super::http::{FileMetadata, HubClient};
use super::progress::DownloadProgress;
use super::spec::ModelSpec;
use crate::digest::{hash_file_into, hex};
use crate::progress::ProgressMode;

/// What is on disk after an attempt: its length and SHA-256.
struct Written {
    len: u64,
    sha256: String,
}

/// Downloads the blob `meta` describes into `cache`, unless it is there already.
pub(crate) async fn download_blob(
    client: &HubClient,
    url: &Url,
    spec: &ModelSpec,
    meta: &FileMetadata,
    cache: &RepoCache,
    attempts: u32,
    mode: ProgressMode,
) -> Result<(), HubError> {
    let blob = cache.blob_path(&meta.etag);
    let _lock = cache.lock(&meta.etag).await?;
    if blob.is_file() {
        // Another process finished it while this one waited for the lock.
        return Ok(());
    }
    // The first download into this repository's folder creates `blobs/`.
    let blobs = cache.blobs_dir();
    std::fs::create_dir_all(&blobs).map_err(HubError::io(&blobs))?;
    let partial = cache.incomplete_path(&meta.etag);
    let already = file_len(&partial);
    let mut progress = DownloadProgress::start(mode, &spec.file, meta.size, already);
    let mut attempt = 1;
    let written = loop {
        match fetch_rest(client, url, spec, meta, &partial, &mut progress).await {
            Ok(written) => break written,
            Err(error) if error.is_transient() && attempt < attempts.max(1) => {
                tracing::warn!("{error}; trying again ({attempt} of {attempts})");
                tokio::time::sleep(Duration::from_millis(250 << (attempt - 1).min(6))).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    };
    drop(progress);
    verify(url, spec, meta, &written, &partial)?;
    std::fs::rename(&partial, &blob).map_err(HubError::io(&blob))?;
    // Make the rename durable.
    crate::atomic_file::sync_dir(&blobs).map_err(HubError::io(&blobs))
}

/// One attempt: asks for the bytes the partial file lacks and appends them.
async fn fetch_rest(
    client: &HubClient,
    url: &Url,
    spec: &ModelSpec,
    meta: &FileMetadata,
    partial: &Path,
    progress: &mut DownloadProgress,
) -> Result<Written, HubError> {
    let mut offset = file_len(partial);
    if meta.size.is_some_and(|size| offset > size) {
        // Longer than the file: not a prefix of it.
        remove(partial)?;
        offset = 0;
    }
    if offset > 0 && meta.size == Some(offset) {
        return hash_existing(partial).await;
    }
    let mut response = client.get(url, spec, offset).await?;
    match response.status() {
        StatusCode::PARTIAL_CONTENT if range_starts_at(response.headers(), offset) => {}
        StatusCode::RANGE_NOT_SATISFIABLE => {
            remove(partial)?;
            return Err(HubError::Status {
                url: url.to_string(),
                status: 416,
                code: Some("the part already downloaded did not fit; it was deleted".into()),
            });
        }
        // The whole file: start again from zero.
        _ => offset = 0,
    }
    progress.restart_at(offset);
    let (chunks, receiver) = mpsc::channel(16);
    let writer = {
        let partial = partial.to_path_buf();
        tokio::task::spawn_blocking(move || write_chunks(&partial, offset > 0, receiver))
    };
    let mut cut_off = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let len = chunk.len() as u64;
                if chunks.send(chunk).await.is_err() {
                    break; // The writer failed; its error is reported below.
                }
                progress.advance(len);
            }
            Ok(None) => break,
            Err(error) => {
                cut_off = Some(super::http::unreachable(url, &error));
                break;
            }
        }
    }
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| HubError::io(partial)(std::io::Error::other(e.to_string())))?
        .map_err(HubError::io(partial))?;
    let short = meta.size.is_some_and(|size| written.len < size);
    if cut_off.is_some() || short {
        let reason = match cut_off {
            Some(HubError::Unreachable { reason, .. }) => reason,
            _ => "the connection closed early".to_string(),
        };
        return Err(HubError::CutOff {
            url: url.to_string(),
            received: written.len,
            expected: meta.size.unwrap_or(written.len),
            reason,
            partial: partial.to_path_buf(),
        });
    }
    Ok(written)
}

/// Refuses a download whose size or SHA-256 differ from the Hub's, or a `.gguf`
/// that does not start with GGUF's magic (a hub or proxy answering 200 with an
/// error page), deleting it: nothing but the announced file enters the cache.
fn verify(
    url: &Url,
    spec: &ModelSpec,
    meta: &FileMetadata,
    written: &Written,
    partial: &Path,
) -> Result<(), HubError> {
    if let Some(expected) = meta.size
        && expected != written.len
    {
        remove(partial)?;
        return Err(HubError::SizeMismatch {
            url: url.to_string(),
            expected,
            actual: written.len,
        });
    }
    match &meta.sha256 {
        Some(expected) if *expected != written.sha256 => {
            remove(partial)?;
            return Err(HubError::ChecksumMismatch {
                url: url.to_string(),
                expected: expected.clone(),
                actual: written.sha256.clone(),
            });
        }
        Some(_) => {}
        None => tracing::debug!(
            "{url}: not an LFS file, so the Hub gives no SHA-256; checked its size only"
        ),
    }
    if spec.file.to_ascii_lowercase().ends_with(".gguf") {
        let mut start = Vec::with_capacity(GGUF_MAGIC.len());
        File::open(partial)
            .and_then(|file| file.take(120).read_to_end(&mut start))
            .map_err(HubError::io(partial))?;
        if !start.starts_with(GGUF_MAGIC) {
            remove(partial)?;
            return Err(HubError::NotAModel {
                url: url.to_string(),
                received: written.len,
                starts_with: printable_start(&start),
            });
        }
    }
    Ok(())
}

/// The first bytes of every GGUF file.
const GGUF_MAGIC: &[u8] = b"GGUF";

/// What a file starts with, as text a message can show (at most 60 characters,
/// control characters as spaces).
fn printable_start(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(60)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a 206's `Content-Range` starts where the partial file ends.
fn range_starts_at(headers: &reqwest::header::HeaderMap, offset: u64) -> bool {
    headers
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|range| range.strip_prefix("bytes "))
        .and_then(|range| range.split_once('-'))
        .is_some_and(|(start, _)| start.trim().parse() == Ok(offset))
}

/// Writes the chunks to `path` (after what it holds, if `append`), hashing
/// everything in the file, and flushes it to disk.
fn write_chunks<C: AsRef<[u8]>>(
    path: &Path,
    append: bool,
    mut chunks: mpsc::Receiver<C>,
) -> std::io::Result<Written> {
    let mut hasher = Sha256::new();
    let mut len = 0;
    let mut file = if append {
        len = hash_file_into(path, &mut hasher, |_| {})?;
        OpenOptions::new().append(true).open(path)?
    } else {
        File::create(path)?
    };
    while let Some(chunk) = chunks.blocking_recv() {
        let bytes = chunk.as_ref();
        file.write_all(bytes)?;
        hasher.update(bytes);
        len += bytes.len() as u64;
    }
    file.sync_all()?;
    Ok(Written {
        len,
        sha256: hex(&hasher.finalize()),
    })
}

/// The length and SHA-256 of a partial file that is already complete.
async fn hash_existing(path: &Path) -> Result<Written, HubError> {
    let owned = path.to_path_buf();
    let hashed = tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        let len = hash_file_into(&owned, &mut hasher, |_| {})?;
        Ok::<_, std::io::Error>(Written {
            len,
            sha256: hex(&hasher.finalize()),
        })
    })
    .await
    .map_err(|e| HubError::io(path)(std::io::Error::other(e.to_string())))?;
    hashed.map_err(HubError::io(path))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn remove(path: &Path) -> Result<(), HubError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HubError::io(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_must_start_at_the_offset() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(CONTENT_RANGE, "bytes 100-199/200".parse().unwrap());
        assert!(range_starts_at(&headers, 100));
        assert!(!range_starts_at(&headers, 0));
        assert!(!range_starts_at(&reqwest::header::HeaderMap::new(), 100));
    }

    #[tokio::test]
    async fn appending_hashes_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob.incomplete");
        std::fs::write(&path, b"hello ").unwrap();
        let (sender, receiver) = mpsc::channel(4);
        sender.send(b"world".to_vec()).await.unwrap();
        drop(sender);
        let owned = path.clone();
        let written = tokio::task::spawn_blocking(move || write_chunks(&owned, true, receiver))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
        assert_eq!(written.len, 11);
        assert_eq!(written.sha256, hex(&Sha256::digest(b"hello world")));
        let again = hash_existing(&path).await.unwrap();
        assert_eq!(again.sha256, written.sha256);
    }
}
