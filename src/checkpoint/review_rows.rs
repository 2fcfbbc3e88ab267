//! What `tdg review` shows of the pairs: every completed chunk's pairs, in document and
//! chunk order, each with what the quality gate made of it (replayed as the views do),
//! the judge's scores and the reviewer's decision in force; and a chunk's text.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{CheckpointStore, JudgeScores, StoreError, Verdict};
use crate::quality::DropReason;

/// One stored pair, for review.
#[derive(Debug, Clone)]
pub struct ReviewPair {
    pub stem: String,
    pub position: u32,
    /// The pair's place among its chunk's pairs.
    pub index: u32,
    /// The model's question and answer (an edit's text is in `verdict`).
    pub question: String,
    pub answer: String,
    pub question_type: Option<String>,
    /// The reasoning that leads to the answer (`--task reasoning`).
    pub reasoning: Option<String>,
    /// A conversation's exchanges after the first, as the gate keeps them.
    pub follow_ups: Vec<crate::task::Turn>,
    /// The exchange (1-based) the gate cut the conversation before, if it did.
    pub cut_at: Option<u32>,
    pub grounding: Option<f64>,
    /// The evidence span: character offsets `[start, end)` in the chunk's text.
    pub evidence: Option<(usize, usize)>,
    /// Why the gate drops it; `None` when the gate keeps it.
    pub dropped: Option<DropReason>,
    pub judge: Option<JudgeScores>,
    pub verdict: Option<Verdict>,
}

impl ReviewPair {
    /// Whether the Q&A files hold the pair: the reviewer's decision, else the gate's.
    pub fn in_files(&self) -> bool {
        match &self.verdict {
            Some(Verdict::Rejected) => false,
            Some(_) => true,
            None => self.dropped.is_none(),
        }
    }
}

/// A chunk's text and names, for review.
#[derive(Debug, Clone)]
pub struct ReviewChunk {
    pub chunk_id: String,
    pub chunk_index: i64,
    pub text: String,
    /// Its page and heading path, when its chunker recorded them.
    pub place: crate::chunk_place::ChunkPlace,
}

impl CheckpointStore {
    /// Every completed chunk's pairs with the gate's verdict under the run's filter,
    /// the judge's scores and the decision in force.
    pub fn review_pairs(&self) -> Result<Vec<ReviewPair>, StoreError> {
        let filter = self.quality_filter();
        let mut out = Vec::new();
        self.for_each_document_gate(&filter, |stem, gate| {
            let decided = self.decisions_of(stem)?;
            let scores = self.judge_scores_of(stem)?;
            let mut last: Option<(u32, u32)> = None;
            self.replay(stem, gate, |position, pair, dropped| {
                let index = match last {
                    Some((at, index)) if at == position => index + 1,
                    _ => 0,
                };
                last = Some((position, index));
                let key = (position, pair.question.clone());
                out.push(ReviewPair {
                    stem: stem.to_string(),
                    position,
                    index,
                    question: pair.question.clone(),
                    answer: pair.answer.clone(),
                    question_type: pair.question_type.clone(),
                    reasoning: pair.reasoning.clone(),
                    follow_ups: pair
                        .follow_ups
                        .iter()
                        .map(super::StoredTurn::turn)
                        .collect(),
                    cut_at: pair.cut_at,
                    grounding: pair.quality.as_ref().map(|q| q.grounding),
                    evidence: pair.quality.as_ref().and_then(|q| q.evidence),
                    dropped,
                    judge: scores.get(&key).copied(),
                    verdict: decided.get(&key).cloned(),
                });
            })
        })?;
        Ok(out)
    }

    /// The judge's scores of a document's pairs, by (position, question).
    fn judge_scores_of(
        &self,
        stem: &str,
    ) -> Result<HashMap<(u32, String), JudgeScores>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT position, question, accuracy, completeness, consistency FROM judgments
                 WHERE stem = ?1 AND overall IS NOT NULL",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok((
                    (row.get(0)?, row.get(1)?),
                    JudgeScores {
                        accuracy: row.get(2)?,
                        completeness: row.get(3)?,
                        consistency: row.get(4)?,
                    },
                ))
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The chunk at `position` of `stem`; `None` if there is none.
    pub fn review_chunk(
        &self,
        stem: &str,
        position: u32,
    ) -> Result<Option<ReviewChunk>, StoreError> {
        self.conn
            .query_row(
                "SELECT chunk_id, chunk_index, source_text, place FROM chunks WHERE stem = ?1 AND position = ?2",
                params![stem, position],
                |row| {
                    Ok(ReviewChunk {
                        chunk_id: row.get(0)?,
                        chunk_index: row.get(1)?,
                        text: row.get(2)?,
                        place: crate::chunk_place::ChunkPlace::from_stored(
                            row.get::<_, Option<String>>(3)?.as_deref(),
                        ),
                    })
                },
            )
            .optional()
            .map_err(|e| self.fail(e))
    }
}
