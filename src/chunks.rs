//! Loading chunk files: the first stage of `generate`.
//!
//! A chunk file (`<stem>_chunks.json`) is what the upstream document chunker writes for
//! one source document; the README's `tdg generate` section describes it and
//! `tests/fixtures/corpus` holds examples. Only files
//! whose `status` is `completed` are ready. Every field but `chunks[].text` may be
//! missing in files other tools wrote; a missing `chunk_id` is `0_<position>`. A
//! field of the wrong type, or a number out of range, is an error naming the file,
//! the chunk and the field. Files are read as Python's `json` reads them
//! ([`crate::pyjson::from_slice`]).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

/// The suffix of chunk file names.
pub const CHUNKS_FILE_SUFFIX: &str = "_chunks.json";

/// The largest chunk text tdg sends to a model: 1 MiB, about 250,000 tokens, more
/// than any model's context. A larger chunk fails with a message, alone.
pub const MAX_CHUNK_TEXT_BYTES: usize = 1 << 20;

/// The largest chunk file tdg reads: 256 MiB. A file is read whole and parsed into
/// its chunks, which takes about four times its size in memory; a larger file
/// (a document of some 60 million words) is refused before it is read, naming the
/// file, and the other documents go on. Split such a document into several.
pub const MAX_CHUNK_FILE_BYTES: u64 = 256 << 20;

/// One source document's chunks.
#[derive(Debug, Clone)]
pub struct ChunkFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The document stem: `GPL-3` for `GPL-3_chunks.json`.
    pub stem: String,
    /// The document's `metadata` object (file name, source file, type, size, …).
    pub metadata: Map<String, Value>,
    /// The chunker's `processing_info` object.
    pub processing_info: Map<String, Value>,
    /// The chunks, in file order.
    pub chunks: Vec<Chunk>,
}

/// One chunk, with its place in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Its position in the file's `chunks` array: unique, and what the original tool
    /// recorded in `completed_chunks`.
    pub position: u32,
    pub text: String,
    pub chunk_id: String,
    /// The index within its source document; not unique within a file.
    pub chunk_index: i64,
    pub start_char: i64,
    pub end_char: i64,
    /// The chunk's free-form loader metadata.
    pub metadata: Map<String, Value>,
}

impl Chunk {
    /// The chunk's page and heading path, from its metadata.
    pub fn place(&self) -> crate::chunk_place::ChunkPlace {
        crate::chunk_place::ChunkPlace::from_metadata(&self.metadata)
    }
}

impl ChunkFile {
    /// A `metadata` field as text (`file_name`, `source_file`, `file_type`), or "".
    pub fn metadata_text(&self, key: &str) -> &str {
        self.metadata
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// Why a chunk file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ChunkFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is {size} bytes, more than the {} MiB tdg reads in one chunk file; split the document into several chunk files", path.display(), MAX_CHUNK_FILE_BYTES >> 20)]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{} and {} are both document `{stem}` once their names are read as UTF-8 (a name that is not UTF-8): rename one of them", first.display(), second.display())]
    SameStem {
        first: PathBuf,
        second: PathBuf,
        stem: String,
    },
    #[error("{} is not valid JSON (line {line}, column {column}): {message}. Re-run the chunker for this document", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{} has no `chunks` list: it is not a chunk file", path.display())]
    NoChunks { path: PathBuf },
    #[error("{}: chunk {position} has no `text`", path.display())]
    NoText { path: PathBuf, position: usize },
    #[error("{}: chunk {position}'s `{field}` is {found}, not {expected}. Re-run the chunker for this document", path.display())]
    WrongField {
        path: PathBuf,
        position: usize,
        field: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error("{} is not ready: its status is `{status}` (the chunker may still be writing it); skipping it", path.display())]
    NotReady { path: PathBuf, status: String },
}

#[derive(Deserialize)]
struct RawChunkFile {
    status: Option<Value>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    processing_info: Option<Map<String, Value>>,
    chunks: Option<Vec<Value>>,
}

/// The chunk files in `dir`, sorted by name.
pub fn list_chunk_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    crate::qa_file::files_ending_with(dir, CHUNKS_FILE_SUFFIX)
}

/// The stem of a chunk file: `GPL-3` for `dir/GPL-3_chunks.json`.
pub fn stem_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(CHUNKS_FILE_SUFFIX)
        .map(str::to_string)
        .unwrap_or(name)
}

/// Fails, naming both files, when two chunk files give one document stem (two
/// names that are not UTF-8 and differ only where they are not).
pub fn check_distinct_stems(files: &[PathBuf]) -> Result<(), ChunkFileError> {
    let mut seen: std::collections::HashMap<String, &PathBuf> = Default::default();
    for file in files {
        if let Some(first) = seen.insert(stem_of(file), file) {
            return Err(ChunkFileError::SameStem {
                first: first.clone(),
                second: file.clone(),
                stem: stem_of(file),
            });
        }
    }
    Ok(())
}

/// Reads and checks one chunk file (one over [`MAX_CHUNK_FILE_BYTES`] is refused
/// unread).
pub fn load_chunk_file(path: &Path) -> Result<ChunkFile, ChunkFileError> {
    let read_error = |source| ChunkFileError::Read {
        path: path.into(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_CHUNK_FILE_BYTES {
        return Err(ChunkFileError::TooLarge {
            path: path.into(),
            size,
        });
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    let raw: RawChunkFile =
        crate::pyjson::from_slice(&bytes).map_err(|e| ChunkFileError::Json {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    let status = match &raw.status {
        None => "completed".to_string(),
        Some(Value::String(status)) => status.clone(),
        Some(other) => other.to_string(),
    };
    if status != "completed" {
        return Err(ChunkFileError::NotReady {
            path: path.into(),
            status,
        });
    }
    let raw_chunks = raw
        .chunks
        .ok_or_else(|| ChunkFileError::NoChunks { path: path.into() })?;
    let chunks = raw_chunks
        .iter()
        .enumerate()
        .map(|(position, value)| parse_chunk(path, position, value))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ChunkFile {
        path: path.to_path_buf(),
        stem: stem_of(path),
        metadata: raw.metadata.unwrap_or_default(),
        processing_info: raw.processing_info.unwrap_or_default(),
        chunks,
    })
}

/// What a JSON value is, for messages: `a number (12)`, `null`.
fn describe(value: &Value) -> String {
    let shown: String = value.to_string().chars().take(40).collect();
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("a boolean ({shown})"),
        Value::Number(_) => format!("a number ({shown})"),
        Value::String(_) => format!("a string ({shown})"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn parse_chunk(path: &Path, position: usize, value: &Value) -> Result<Chunk, ChunkFileError> {
    let wrong = |field, found: &Value, expected| ChunkFileError::WrongField {
        path: path.into(),
        position,
        field,
        found: describe(found),
        expected,
    };
    let text = match value.get("text") {
        None | Some(Value::Null) => {
            return Err(ChunkFileError::NoText {
                path: path.into(),
                position,
            });
        }
        Some(Value::String(text)) => text,
        Some(other) => return Err(wrong("text", other, "a string")),
    };
    let int = |key: &'static str| -> Result<Option<i64>, ChunkFileError> {
        match value.get(key) {
            Some(number @ Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong(key, number, "a whole number within ±2^63")),
            _ => Ok(None),
        }
    };
    let chunk_id = match value.get("chunk_id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => format!("0_{position}"),
    };
    Ok(Chunk {
        position: position as u32,
        text: text.to_string(),
        chunk_id,
        chunk_index: int("chunk_index")?.unwrap_or(position as i64),
        start_char: int("start_char")?.unwrap_or(0),
        end_char: int("end_char")?.unwrap_or_else(|| text.chars().count() as i64),
        metadata: value
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_a_minimal_file_and_derives_missing_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "doc_chunks.json",
            r#"{"chunks": [{"text": "a"}, {"text": "bc", "chunk_id": "1_0", "chunk_index": 0}]}"#,
        );
        let file = load_chunk_file(&path).unwrap();
        assert_eq!(file.stem, "doc");
        assert_eq!(file.chunks[0].chunk_id, "0_0");
        assert_eq!(file.chunks[0].end_char, 1);
        assert_eq!(file.chunks[1].chunk_id, "1_0");
        assert_eq!(file.chunks[1].position, 1);
        assert_eq!(file.chunks[1].chunk_index, 0);
    }

    #[test]
    fn rejects_unready_broken_and_chunkless_files_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let unready = write(
            dir.path(),
            "a_chunks.json",
            r#"{"status": "processing", "chunks": []}"#,
        );
        assert!(
            matches!(load_chunk_file(&unready), Err(ChunkFileError::NotReady { status, .. }) if status == "processing")
        );
        let broken = write(
            dir.path(),
            "b_chunks.json",
            r#"{"status": "completed", "chunks": [{"text": "#,
        );
        let message = load_chunk_file(&broken).unwrap_err().to_string();
        assert!(
            message.contains("b_chunks.json is not valid JSON (line 1"),
            "{message}"
        );
        let chunkless = write(dir.path(), "c_chunks.json", r#"{"status": "completed"}"#);
        assert!(matches!(
            load_chunk_file(&chunkless),
            Err(ChunkFileError::NoChunks { .. })
        ));
        let textless = write(
            dir.path(),
            "d_chunks.json",
            r#"{"chunks": [{"text": "x"}, {"chunk_id": "0_1"}]}"#,
        );
        assert!(matches!(
            load_chunk_file(&textless),
            Err(ChunkFileError::NoText { position: 1, .. })
        ));
    }

    #[test]
    fn lists_only_chunk_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b_chunks.json", "{}");
        write(dir.path(), "a_chunks.json", "{}");
        write(dir.path(), "chunking_summary.json", "{}");
        let names: Vec<String> = list_chunk_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| stem_of(p))
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn wrong_types_and_out_of_range_numbers_name_the_file_chunk_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let numeric_text = write(
            dir.path(),
            "e_chunks.json",
            r#"{"chunks": [{"text": "ok"}, {"text": 42}]}"#,
        );
        let message = load_chunk_file(&numeric_text).unwrap_err().to_string();
        assert!(
            message.contains("e_chunks.json: chunk 1's `text` is a number (42), not a string"),
            "{message}"
        );
        let huge_index = write(
            dir.path(),
            "f_chunks.json",
            r#"{"chunks": [{"text": "ok", "chunk_index": 18446744073709551615}]}"#,
        );
        let message = load_chunk_file(&huge_index).unwrap_err().to_string();
        assert!(
            message.contains(
                "f_chunks.json: chunk 0's `chunk_index` is a number (18446744073709551615)"
            ),
            "{message}"
        );
    }

    #[test]
    fn reads_the_lone_surrogates_python_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "g_chunks.json",
            r#"{"chunks": [{"text": "broken \udcff emoji"}]}"#,
        );
        let file = load_chunk_file(&path).unwrap();
        assert_eq!(file.chunks[0].text, "broken \u{fffd} emoji");
    }
}
