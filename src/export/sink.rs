//! The files of one split: records streamed into shards of at most `--max-rows-per-file`
//! records under temporary names (`data/.train-00000.jsonl.partial`), renamed when
//! everything is written to the names the Hub's loader discovers
//! (`data/train-00000-of-00002.jsonl`). For Parquet, the records are first spilled as
//! JSON Lines (one file per split), which [`super::parquet`] turns into row groups.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ExportError;
use crate::pyjson;

/// How a split's records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    /// One JSON record a line.
    JsonLines,
    /// One JSON array a file.
    JsonArray,
    /// JSON Lines in one temporary file, to become Parquet.
    Spill,
}

/// One split's writer.
pub struct SplitSink {
    split: String,
    data_dir: PathBuf,
    kind: SinkKind,
    max_rows: Option<u64>,
    current: Option<(BufWriter<File>, u64)>,
    /// The files written so far (temporary names), in order.
    parts: Vec<PathBuf>,
    /// Records written.
    pub rows: u64,
    /// Bytes of JSON written (without separators).
    pub bytes: u64,
}

impl SplitSink {
    /// A writer of `split` into `data_dir`.
    pub fn new(split: &str, data_dir: &Path, kind: SinkKind, max_rows: Option<u64>) -> Self {
        SplitSink {
            split: split.to_string(),
            data_dir: data_dir.to_path_buf(),
            kind,
            max_rows: if kind == SinkKind::Spill {
                None
            } else {
                max_rows
            },
            current: None,
            parts: Vec::new(),
            rows: 0,
            bytes: 0,
        }
    }

    /// The spilled JSON Lines file of `split` in `data_dir`.
    pub fn spill_path(data_dir: &Path, split: &str) -> PathBuf {
        data_dir.join(format!(".{split}.spill.jsonl"))
    }

    fn io(&self, path: &Path, error: std::io::Error) -> ExportError {
        ExportError::Write {
            path: path.to_path_buf(),
            message: error.to_string(),
        }
    }

    /// Writes one record.
    pub fn write(&mut self, record: &Value) -> Result<(), ExportError> {
        let full = match (&self.current, self.max_rows) {
            (Some((_, rows)), Some(max)) => *rows >= max,
            _ => false,
        };
        if full {
            self.close_current()?;
        }
        if self.current.is_none() {
            let path = match self.kind {
                SinkKind::Spill => Self::spill_path(&self.data_dir, &self.split),
                SinkKind::JsonLines | SinkKind::JsonArray => partial_path(
                    &self.data_dir,
                    &self.split,
                    self.parts.len(),
                    self.extension(),
                ),
            };
            let mut file = BufWriter::new(File::create(&path).map_err(|e| self.io(&path, e))?);
            if self.kind == SinkKind::JsonArray {
                file.write_all(b"[").map_err(|e| self.io(&path, e))?;
            }
            self.parts.push(path);
            self.current = Some((file, 0));
        }
        let line = pyjson::to_line(record);
        let path = self.parts.last().cloned().unwrap_or_default();
        let (file, rows) = self.current.as_mut().expect("a file is open");
        let separator: &[u8] = match (self.kind, *rows) {
            (SinkKind::JsonArray, 0) => b"\n",
            (SinkKind::JsonArray, _) => b",\n",
            _ => b"",
        };
        file.write_all(separator)
            .and_then(|()| file.write_all(line.as_bytes()))
            .and_then(|()| match self.kind {
                SinkKind::JsonArray => Ok(()),
                _ => file.write_all(b"\n"),
            })
            .map_err(|e| ExportError::Write {
                path,
                message: e.to_string(),
            })?;
        *rows += 1;
        self.rows += 1;
        self.bytes += line.len() as u64;
        Ok(())
    }

    fn extension(&self) -> &'static str {
        match self.kind {
            SinkKind::JsonLines | SinkKind::Spill => "jsonl",
            SinkKind::JsonArray => "json",
        }
    }

    fn close_current(&mut self) -> Result<(), ExportError> {
        if let Some((mut file, _)) = self.current.take() {
            let path = self.parts.last().cloned().unwrap_or_default();
            if self.kind == SinkKind::JsonArray {
                file.write_all(b"\n]\n").map_err(|e| self.io(&path, e))?;
            }
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|file| file.sync_all())
                .map_err(|e| self.io(&path, e))?;
        }
        Ok(())
    }

    /// Closes the last file and returns the files written (temporary names).
    pub fn finish(mut self) -> Result<Vec<PathBuf>, ExportError> {
        self.close_current()?;
        Ok(self.parts)
    }
}

/// The temporary name of `split`'s shard `index`.
pub fn partial_path(data_dir: &Path, split: &str, index: usize, extension: &str) -> PathBuf {
    data_dir.join(format!(".{split}-{index:05}.{extension}.partial"))
}

/// The name the Hub's loader discovers for `split`'s shard `index` of `count`, relative
/// to the dataset folder: `data/train-00000-of-00001.parquet`.
pub fn shard_name(split: &str, index: usize, count: usize, extension: &str) -> String {
    format!("data/{split}-{index:05}-of-{count:05}.{extension}")
}

/// Renames `parts` (temporary shards of `split`) to their final names in `out_dir`;
/// returns the names relative to `out_dir`.
pub fn publish(
    out_dir: &Path,
    split: &str,
    parts: &[PathBuf],
    extension: &str,
) -> Result<Vec<String>, ExportError> {
    let mut names = Vec::with_capacity(parts.len());
    for (index, part) in parts.iter().enumerate() {
        let name = shard_name(split, index, parts.len(), extension);
        let target = out_dir.join(&name);
        std::fs::rename(part, &target).map_err(|e| ExportError::Write {
            path: target.clone(),
            message: e.to_string(),
        })?;
        names.push(name);
    }
    Ok(names)
}

/// Whether `name` is a file an export writes in `data/` (a shard or a temporary).
pub fn is_export_file(name: &str) -> bool {
    let name = name.strip_prefix('.').unwrap_or(name);
    let is_shard = ["jsonl", "json", "parquet"].iter().any(|ext| {
        name.strip_suffix(&format!(".{ext}"))
            .and_then(|stem| stem.rsplit_once("-of-"))
            .is_some_and(|(_, count)| count.len() == 5 && count.bytes().all(|b| b.is_ascii_digit()))
    });
    is_shard || name.ends_with(".partial") || name.ends_with(".spill.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_roll_over_and_json_arrays_are_valid() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = SplitSink::new("train", dir.path(), SinkKind::JsonArray, Some(2));
        for n in 0..5 {
            sink.write(&serde_json::json!({"n": n})).unwrap();
        }
        let parts = sink.finish().unwrap();
        assert_eq!(parts.len(), 3);
        let first: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&parts[0]).unwrap()).unwrap();
        assert_eq!(
            first,
            [serde_json::json!({"n": 0}), serde_json::json!({"n": 1})]
        );
        let last: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&parts[2]).unwrap()).unwrap();
        assert_eq!(last.len(), 1);
        assert_eq!(
            shard_name("train", 2, 3, "json"),
            "data/train-00002-of-00003.json"
        );
        assert!(is_export_file("train-00002-of-00003.json"));
        assert!(is_export_file(".train-00000.jsonl.partial"));
        assert!(!is_export_file("notes.json"));
    }
}
