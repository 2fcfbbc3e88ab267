//! The figures `tdg stats` sums: per document, chunks by outcome, pairs, tokens and
//! time; and the most common causes of failure.

use rusqlite::params;

use super::{CheckpointStore, DocumentFigures, StoreError};

impl CheckpointStore {
    /// Per-document figures for `tdg stats`: every document with its total chunks
    /// and, per outcome, the chunk count, pairs, tokens and time.
    pub fn document_figures(&self) -> Result<Vec<DocumentFigures>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT d.stem, d.total_chunks,
                    COALESCE(SUM(c.status = 'completed'), 0), COALESCE(SUM(c.status = 'failed'), 0),
                    COALESCE(SUM(c.status = 'skipped'), 0),
                    COALESCE(SUM(CASE WHEN c.status = 'completed' THEN json_array_length(c.pairs) ELSE 0 END), 0),
                    COALESCE(SUM(c.tokens_in), 0), COALESCE(SUM(c.tokens_out), 0),
                    COALESCE(SUM(CASE WHEN c.status != 'skipped' THEN c.duration_ms ELSE 0 END), 0),
                    COALESCE(SUM(c.tokens_reasoning), 0)
                 FROM documents d LEFT JOIN chunks c ON c.stem = d.stem
                 GROUP BY d.stem ORDER BY d.stem",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(DocumentFigures {
                    stem: row.get(0)?,
                    total_chunks: row.get(1)?,
                    completed: row.get(2)?,
                    failed: row.get(3)?,
                    skipped: row.get(4)?,
                    pairs: row.get(5)?,
                    tokens_in: row.get(6)?,
                    tokens_out: row.get(7)?,
                    duration_ms: row.get(8)?,
                    tokens_reasoning: row.get(9)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The errors of failed chunks, most common first, with their counts.
    pub fn failure_causes(&self, limit: usize) -> Result<Vec<(String, u64)>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT COALESCE(error, 'unknown'), COUNT(*) AS n FROM chunks WHERE status = 'failed'
                 GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?1",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }
}
