//! Parquet output: a split's spilled JSON Lines, decoded in batches against the schema
//! derived from all the records ([`super::schema`]), written as Snappy-compressed row
//! groups into shards of at most `--max-rows-per-file` rows. Memory holds a batch and
//! the row group being written, never the split.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::ExportError;
use super::sink::partial_path;

/// The most rows a row group holds: the Hub's viewer and `datasets` read a row group at
/// a time, so it stays well below the memory of a small machine.
pub const MAX_ROW_GROUP_ROWS: u64 = 100_000;
/// The most JSON text a row group is made from (its Arrow size is about the same).
pub const ROW_GROUP_BYTES: u64 = 64 << 20;
/// Rows decoded from the spill at a time.
const DECODE_BATCH_ROWS: usize = 4096;

/// The rows per row group for records of `bytes` bytes in all over `rows` rows: as many
/// as fit [`ROW_GROUP_BYTES`], at most [`MAX_ROW_GROUP_ROWS`], at least 1.
pub fn row_group_rows(rows: u64, bytes: u64) -> u64 {
    let average = bytes.checked_div(rows).unwrap_or(1).max(1);
    (ROW_GROUP_BYTES / average).clamp(1, MAX_ROW_GROUP_ROWS)
}

/// What a Parquet conversion wrote.
pub struct ParquetParts {
    /// The shards, under temporary names.
    pub parts: Vec<PathBuf>,
    pub row_groups: usize,
}

/// Converts `spill` (JSON Lines of `rows` records, `bytes` bytes) of `split` into
/// Parquet shards in `data_dir`.
pub fn write_split(
    spill: &Path,
    schema: &Arc<Schema>,
    data_dir: &Path,
    split: &str,
    (rows, bytes): (u64, u64),
    max_rows_per_file: Option<u64>,
) -> Result<ParquetParts, ExportError> {
    let group_rows = row_group_rows(rows, bytes);
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(group_rows as usize))
        .set_created_by(format!("tdg {}", env!("CARGO_PKG_VERSION")))
        .build();
    let input = File::open(spill).map_err(|e| ExportError::Read {
        path: spill.to_path_buf(),
        message: e.to_string(),
    })?;
    let decoder = arrow_json::ReaderBuilder::new(schema.clone())
        .with_batch_size(DECODE_BATCH_ROWS.min(group_rows as usize))
        .build(BufReader::new(input))
        .map_err(|e| parquet_error(spill, e.to_string()))?;
    let mut shards = Shards {
        data_dir,
        split,
        schema,
        properties,
        max_rows: max_rows_per_file,
        current: None,
        parts: Vec::new(),
        row_groups: 0,
    };
    for batch in decoder {
        let batch =
            batch.map_err(|e| parquet_error(spill, format!("cannot decode a record: {e}")))?;
        shards.write(batch)?;
    }
    shards.close_current()?;
    Ok(ParquetParts {
        parts: shards.parts,
        row_groups: shards.row_groups,
    })
}

fn parquet_error(path: &Path, message: String) -> ExportError {
    ExportError::Write {
        path: path.to_path_buf(),
        message,
    }
}

/// The shards of one split, a Parquet writer each.
struct Shards<'a> {
    data_dir: &'a Path,
    split: &'a str,
    schema: &'a Arc<Schema>,
    properties: WriterProperties,
    max_rows: Option<u64>,
    current: Option<(ArrowWriter<File>, u64)>,
    parts: Vec<PathBuf>,
    row_groups: usize,
}

impl Shards<'_> {
    fn write(&mut self, mut batch: RecordBatch) -> Result<(), ExportError> {
        while batch.num_rows() > 0 {
            if self.current.is_none() {
                let path = partial_path(self.data_dir, self.split, self.parts.len(), "parquet");
                let file = File::create(&path).map_err(|e| parquet_error(&path, e.to_string()))?;
                let writer =
                    ArrowWriter::try_new(file, self.schema.clone(), Some(self.properties.clone()))
                        .map_err(|e| parquet_error(&path, e.to_string()))?;
                self.parts.push(path);
                self.current = Some((writer, 0));
            }
            let path = self.parts.last().cloned().unwrap_or_default();
            let (writer, written) = self.current.as_mut().expect("a shard is open");
            let room = self
                .max_rows
                .map_or(batch.num_rows() as u64, |max| max - *written);
            let take = (batch.num_rows() as u64).min(room) as usize;
            writer
                .write(&batch.slice(0, take))
                .map_err(|e| parquet_error(&path, e.to_string()))?;
            *written += take as u64;
            batch = batch.slice(take, batch.num_rows() - take);
            if self.max_rows.is_some_and(|max| *written >= max) {
                self.close_current()?;
            }
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<(), ExportError> {
        if let Some((writer, _)) = self.current.take() {
            let path = self.parts.last().cloned().unwrap_or_default();
            let metadata = writer
                .close()
                .map_err(|e| parquet_error(&path, e.to_string()))?;
            self.row_groups += metadata.num_row_groups();
            File::open(&path)
                .and_then(|file| file.sync_all())
                .map_err(|e| parquet_error(&path, e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_groups_are_sized_by_bytes_within_bounds() {
        assert_eq!(row_group_rows(0, 0), MAX_ROW_GROUP_ROWS);
        assert_eq!(row_group_rows(10, 10 * 100), MAX_ROW_GROUP_ROWS);
        assert_eq!(row_group_rows(10, 10 * 1000), 67_108);
        assert_eq!(row_group_rows(10, 10 * (1 << 20)), 64);
        assert_eq!(row_group_rows(1, 1 << 30), 1);
    }
}
